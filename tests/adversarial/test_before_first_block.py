"""Queries before the first block, through a real node's RPC. On main, ``/params`` asked
before the first Commit made the app answer ResponseException and stop, halting the node.

The node here has genesis loaded (CometBFT's handshake ran InitChain) but can never make a
block: its consensus key is not the genesis validator's, so it waits for a peer that does not
exist, and its RPC answers at height 0 for as long as the test needs.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import CHAIN_ID, LocalNode, wait_until

from abci_app.errors import InvalidQuery
from abci_app.node.cometbft import find_cometbft

pytestmark = pytest.mark.adversarial


@pytest.fixture
def waiting_node(tmp_path: Path, cometbft_bin: object) -> Iterator[LocalNode]:
    node = LocalNode(tmp_path / "node").init()
    out = subprocess.run(
        [str(find_cometbft()), "gen-validator"], capture_output=True, text=True, check=True
    )
    stranger = json.loads(out.stdout)["Key"]
    (node.home.cometbft / "config" / "priv_validator_key.json").write_text(json.dumps(stranger))
    node.start_app()
    node.start_cometbft()
    try:
        wait_until(lambda: node.height() == 0, 60, "cometbft's RPC at height 0")
        yield node
    finally:
        node.stop()


def test_queries_before_the_first_block_answer_from_genesis(waiting_node: LocalNode) -> None:
    with waiting_node.rpc() as rpc:
        params = rpc.abci_query("/params")
        assert params.code == 0 and params.height == 0, params.log
        assert params.json()["chain_id"] == CHAIN_ID
        assert int(rpc.abci_query("/supply").json()["total"]) > 0
        assert rpc.abci_query("/validators").code == 0
        proved = rpc.abci_query("/params", prove=True)
        assert proved.code == InvalidQuery.code and "first block" in proved.log
        assert rpc.abci_query("/subnet/70000").code == InvalidQuery.code
        assert rpc.abci_query("/params").code == 0  # asked again: still answering
        assert rpc.latest_height() == 0
    assert waiting_node.alive("app") and waiting_node.alive("cometbft")
