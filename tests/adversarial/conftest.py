"""One real node shared by the adversarial suite (issue 13): every attack goes through its RPC.

The node is started once per test session (cometbft + the app, loopback ports, this session's
temporary folder) and stopped at the end; each test checks that it still produces blocks and
answers, and the suite checks its memory against :data:`APP_RSS_LIMIT_MIB`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from adversary import FUNDED, START_BALANCE
from harness import LocalNode, addr_of, seeded_key

from abci_app.client.rpc import RPCClient


@pytest.fixture(scope="session")
def hostile_node(
    tmp_path_factory: pytest.TempPathFactory, cometbft_bin: object
) -> Iterator[LocalNode]:
    node = LocalNode(
        tmp_path_factory.mktemp("adversarial") / "node",
        accounts=[(addr_of(seeded_key(i)), START_BALANCE) for i in range(FUNDED)],
        check_invariants=False,  # attacks by volume: invariants are checked in-process elsewhere
    )
    node.init().start(min_height=2)
    yield node
    node.stop()


@pytest.fixture
def rpc(hostile_node: LocalNode) -> Iterator[RPCClient]:
    with hostile_node.rpc(timeout=20) as c:
        yield c
