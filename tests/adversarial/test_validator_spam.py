"""Many validator records (issue 13 follow-up), through a real node's RPC: 200 accounts each
create a validator with the minimum self-bond (1 MDT buys one record). The node keeps
committing, CometBFT's set stays at max_validators, and the list query answers page by page
(a page of at most 1,000; a larger limit is one clear error) with every record exactly once.

The bound itself (a block's end-block reads at most max_validators records whatever their
number, a page reads only its entries) is counted in-process: tests/unit/test_power_index.py.
The app runs with its invariants on, so every block also checks the power index against the
records on the real node.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from adversary import FUNDED, START_BALANCE, node_is_live
from harness import CHAIN_ID, LocalNode, addr_of, seeded_key

from abci_app.client.rpc import RPCClient
from abci_app.errors import InvalidQuery
from abci_app.modules.staking.messages import MsgCreateValidator, MsgDelegate
from abci_app.params import BASE_UNITS_PER_MDT
from abci_app.tx import build_tx

pytestmark = pytest.mark.adversarial

ATTACKERS = 200
MAX_VALIDATORS = 100
"""The default max_validators: the genesis validator and 99 attackers are in the set."""
FEE = 10**8
"""More than any of these txs requires (overpaying is allowed)."""


def _attacker(i: int) -> Any:
    return seeded_key(70_000 + i)


@pytest.fixture(scope="module")
def spam_node(
    tmp_path_factory: pytest.TempPathFactory, cometbft_bin: object
) -> Iterator[LocalNode]:
    funded = [(addr_of(_attacker(i)), 3 * BASE_UNITS_PER_MDT) for i in range(ATTACKERS + 1)]
    funded += [(addr_of(seeded_key(i)), START_BALANCE) for i in range(FUNDED)]  # node_is_live
    node = LocalNode(tmp_path_factory.mktemp("validator-spam") / "node", accounts=funded)
    node.init().start(min_height=2)
    yield node
    node.stop()


def test_two_hundred_validator_records_cost_a_node_nothing_unbounded(
    spam_node: LocalNode,
) -> None:
    with spam_node.rpc(timeout=30) as rpc:
        hashes = []
        for i in range(ATTACKERS):
            msg = MsgCreateValidator(
                bytes(seeded_key(80_000 + i).verify_key), BASE_UNITS_PER_MDT, f"s{i}", "", 0, 0, 0
            )
            sent = rpc.broadcast_tx_sync(build_tx(_attacker(i), CHAIN_ID, 0, FEE, [msg]))
            assert sent.code == 0, sent.log
            hashes.append(sent.hash)
        for h in hashes:
            assert rpc.wait_for_tx(h, timeout=60).code == 0

        # every block after this one writes a validator record (a delegation), so end-block
        # ranks the set in each: the node must keep going
        target = addr_of(_attacker(0))
        more = [
            build_tx(_attacker(ATTACKERS), CHAIN_ID, n, FEE, [MsgDelegate(target, 1)])
            for n in range(5)
        ]
        for raw in more:
            sent = rpc.broadcast_tx_sync(raw)
            assert sent.code == 0, sent.log
        assert rpc.wait_for_tx(sent.hash, timeout=60).code == 0

        seen = _walk(rpc, limit=64)
        assert len(seen) == len(set(seen)) == ATTACKERS + 1

        first = rpc.abci_query("/validators").json()
        assert len(first["validators"]) == 100 and first["pagination"]["total"] == ATTACKERS + 1
        refused = rpc.abci_query("/validators?limit=1001")
        assert refused.code == InvalidQuery.code
        assert "limit must be a number from 1 to 1000" in refused.log

        comet = rpc.call("validators", per_page="100")
        assert int(comet["total"]) == MAX_VALIDATORS  # the set, not every record
        node_is_live(spam_node, rpc)


def _walk(rpc: RPCClient, limit: int) -> list[str]:
    """Operators of every validator, page by page (bounded: at most 20 pages)."""
    out: list[str] = []
    next_key = None
    for _ in range(20):
        path = f"/validators?limit={limit}" + (f"&next_key={next_key}" if next_key else "")
        page = rpc.abci_query(path).json()
        assert len(page["validators"]) <= limit
        out += [v["operator"] for v in page["validators"]]
        next_key = page["pagination"]["next_key"]
        if next_key is None:
            return out
    raise AssertionError("the pagination did not end")
