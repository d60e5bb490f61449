"""A 50-validator genesis on the loopback localnet produces blocks and pays rewards to all 50.

The heaviest test of the suite (about 7 GiB of RSS and both cores for a few minutes); the
localnet scales its timeouts with the node count, so blocks come every ~10 s here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import free_base, height, wait_until

from abci_app.client.keyring import Keyring
from abci_app.client.rpc import RPCClient
from abci_app.node.localnet import (
    LocalnetPlan,
    all_nodes,
    init_localnet,
    localnet_status,
    start_localnet,
    stop_localnet,
)

pytestmark = pytest.mark.e2e
N = 50


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fifty") / "ln"
    init_localnet(root, LocalnetPlan(validators=N, seed=False, base_port=free_base(N + 1)))
    try:
        start_localnet(root)
        yield root
    finally:
        stop_localnet(root)


def unpaid(net: Path, url: str) -> list[str]:
    """Validators with no reward and no commission yet."""
    out = []
    with RPCClient(url, timeout=30) as c:
        for n in all_nodes(net):
            op = Keyring(net / n.name / "keyring").get("validator").address
            if int(c.abci_query(f"/rewards/{op}").json()["total"]) == 0:
                out.append(n.name)
    return out


@pytest.mark.timeout(900)
def test_fifty_validators_produce_blocks_and_all_earn(net: Path) -> None:
    nodes = all_nodes(net)
    wait_until(lambda: height(nodes[0]) >= 4, 600, "height 4 with 50 validators", poll=2)
    with RPCClient(nodes[0].rpc_url, timeout=30) as c:
        assert len(c.call("validators", per_page="100")["validators"]) == N
    # each block pays the validators whose precommit made it into the previous block's commit;
    # a node that started last may miss the first commits, so give it some blocks
    wait_until(lambda: unpaid(net, nodes[0].rpc_url) == [], 400, "rewards for all 50", poll=5)
    assert localnet_status(net)["app_hashes_agree"] is True
