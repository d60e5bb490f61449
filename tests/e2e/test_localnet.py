"""A 4-validator localnet on loopback: agreement, transfers through every node, a node killed
and restarted, and a fresh full node joining through the seed node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import REPO, free_base, height, wait_until

from abci_app.address import from_bech32
from abci_app.client.keyring import Keyring
from abci_app.client.rpc import RPCClient
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.node.localnet import (
    LocalnetPlan,
    NodePlan,
    _read_pids,
    add_full_node,
    all_nodes,
    init_localnet,
    start_localnet,
    stop_localnet,
)
from abci_app.tx import build_tx

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("localnet") / "ln"
    plan = LocalnetPlan(validators=4, seed=True, base_port=free_base(8), timeout_commit="300ms")
    init_localnet(root, plan)
    try:
        start_localnet(root)
        yield root
    finally:
        stop_localnet(root)


def app_hash_at(node: NodePlan, h: int) -> str:
    with RPCClient(node.rpc_url, timeout=5) as c:
        return str(c.call("header", height=str(h))["header"]["app_hash"])


def validators(root: Path) -> list[NodePlan]:
    return [n for n in all_nodes(root) if n.validator]


def test_four_validators_reach_height_20_in_agreement(net: Path) -> None:
    vals = validators(net)
    for v in vals:
        wait_until(lambda v=v: height(v) >= 20, 120, f"{v.name} at height 20")
    hashes = {app_hash_at(v, 20) for v in vals}
    assert len(hashes) == 1
    res = subprocess.run(
        [sys.executable, "-m", "abci_app", "-o", "json", "localnet", "--root", str(net), "status"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    import json

    st = json.loads(res.stdout)
    assert st["app_hashes_agree"] is True
    assert [n["voting_power"] for n in st["nodes"] if n["validator"]] == [10000] * 4
    assert all(n["peers"] >= 3 for n in st["nodes"] if n["validator"])


def test_transfers_through_every_node_are_committed_once(net: Path) -> None:
    vals = validators(net)
    dev = Keyring(net / "keyring").get("dev").address
    with RPCClient(vals[0].rpc_url) as c:
        dev_before = int(c.abci_query(f"/account/{dev}").json()["balance"])
        chain_id = c.abci_query("/params").json()["chain_id"]
    hashes: list[tuple[NodePlan, str]] = []
    for i, v in enumerate(vals):
        op = Keyring(net / v.name / "keyring").get("validator")
        with RPCClient(v.rpc_url) as c:
            nonce = int(c.abci_query(f"/account/{op.address}").json()["nonce"])
            for k in range(5):
                raw = build_tx(
                    op.signing_key,
                    chain_id,
                    nonce + k,
                    1_000,
                    [MsgTransfer(from_bech32(dev), 1_000 + i)],
                )
                res = c.broadcast_tx_sync(raw)
                assert res.code == 0, res.log
                hashes.append((v, res.hash))
    with RPCClient(vals[1].rpc_url) as c:
        for _, h in hashes:
            assert c.wait_for_tx(h, timeout=60).code == 0
        for _, h in hashes:
            found = c.call("tx_search", query=f"tx.hash='{h}'")
            assert int(found["total_count"]) == 1
        dev_after = int(c.abci_query(f"/account/{dev}").json()["balance"])
    assert dev_after - dev_before == sum(5 * (1_000 + i) for i in range(4))


def test_one_node_killed_chain_continues_and_it_catches_up(net: Path) -> None:
    vals = validators(net)
    victim = vals[3]
    for pid in _read_pids(net)[victim.name].values():
        os.kill(pid, signal.SIGKILL)
    stop_localnet(net, [victim.name])  # reaps and forgets the killed pids
    h0 = height(vals[0])
    wait_until(lambda: height(vals[0]) >= h0 + 5, 60, "3 of 4 validators to keep producing")
    start_localnet(net, [victim.name])
    target = height(vals[0])
    wait_until(lambda: height(victim) >= target, 120, "the restarted node to catch up")
    assert app_hash_at(victim, target) == app_hash_at(vals[0], target)


def test_fresh_full_node_syncs_from_genesis_through_the_seed(net: Path) -> None:
    joiner = add_full_node(net, "joiner")
    start_localnet(net, ["joiner"])
    target = height(validators(net)[0])
    wait_until(lambda: height(joiner) >= target, 180, "the joiner to sync")
    assert app_hash_at(joiner, target) == app_hash_at(validators(net)[0], target)
    with RPCClient(joiner.rpc_url) as c:
        peers = c.call("net_info")["peers"]
        assert c.status()["validator_info"]["voting_power"] == "0"
    monikers = {p["node_info"]["moniker"] for p in peers}
    assert monikers & {"node0", "node1", "node2", "node3"}, monikers
