"""`localnet add-node --state-sync` on a live localnet whose snapshots two of the three
validators serve corrupted (their chunk files flipped on disk, the metadata left as is, as a
lying or broken peer would serve them): the joiner refetches every bad chunk from the honest
validator, rejects the liars, restores the snapshot, and its block store starts there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import free_base, height, run_cli, wait_until

from abci_app.client.rpc import RPCClient
from abci_app.node.localnet import all_nodes, init_localnet, start_localnet, stop_localnet
from abci_app.node.plan import LocalnetPlan
from abci_app.state.snapshot import stored_snapshots

pytestmark = pytest.mark.e2e


@pytest.fixture
def net(tmp_path: Path, cometbft_bin: Path) -> Iterator[Path]:
    root = tmp_path / "ln"
    init_localnet(root, LocalnetPlan(3, True, free_base(8), "mt-sync-1", "300ms"))
    for name in ("node0", "node1", "node2"):  # small chunks: a restore of many chunks
        cfg = json.loads((root / name / "node.json").read_text())
        cfg["snapshot_chunk_bytes"] = 200
        cfg["snapshot_keep"] = 100
        (root / name / "node.json").write_text(json.dumps(cfg))
    try:
        start_localnet(root)
        yield root
    finally:
        stop_localnet(root)


def snapshot_heights(root: Path, name: str) -> list[int]:
    return [s.height for s in stored_snapshots(root / name / "app" / "snapshots")]


def test_add_node_state_sync_refetches_corrupted_chunks_from_the_honest_peer(net: Path) -> None:
    vals = [n for n in all_nodes(net) if n.validator]
    wait_until(lambda: 20 in snapshot_heights(net, "node2"), 120, "the snapshot at 20")
    # freeze the snapshots: restart the validators without taking new ones
    for name in ("node0", "node1", "node2"):
        cfg = json.loads((net / name / "node.json").read_text())
        cfg["snapshot_interval"] = 0
        (net / name / "node.json").write_text(json.dumps(cfg))
    stop_localnet(net, ["node0", "node1", "node2"])
    start_localnet(net, ["node0", "node1", "node2"])
    wait_until(lambda: height(vals[0]) >= 24, 120, "the chain to go on")
    honest = snapshot_heights(net, "node2")
    snap = stored_snapshots(net / "node2" / "app" / "snapshots")[0]
    assert len(snap.metadata.chunk_hashes) >= 8  # a restore of many chunks
    for liar in ("node0", "node1"):  # every chunk of every snapshot they serve is corrupted
        for f in sorted((net / liar / "app" / "snapshots").glob("*/chunk-*")):
            data = bytearray(f.read_bytes())
            data[0] ^= 0xFF
            f.write_bytes(bytes(data))

    res = run_cli(
        net, "-o", "json", "localnet", "--root", str(net), "add-node", "late", "--state-sync"
    )
    assert res.returncode == 0, res.stderr
    start_localnet(net, ["late"])
    late = next(n for n in all_nodes(net) if n.name == "late")
    target = height(vals[0]) + 2
    wait_until(lambda: height(late) >= target, 180, "the state-synced node to catch up")
    with RPCClient(late.rpc_url) as rpc:
        earliest = int(rpc.status()["sync_info"]["earliest_block_height"])
        here = rpc.call("header", height=str(target))["header"]["app_hash"]
    log = (net / "late" / "logs" / "app.log").read_text()
    restored = int(log.split("state restored from snapshot: height ")[1].split(",")[0])
    assert restored in honest  # a snapshot node2 really has, restored from its chunks
    assert earliest in (restored, restored + 1)  # the block store starts there, not at 1
    with RPCClient(vals[2].rpc_url) as rpc:
        assert rpc.call("header", height=str(target))["header"]["app_hash"] == here
    assert log.count("does not match the snapshot's chunk hash") >= 1
    assert "rejecting the sender" in log
    comet = (net / "late" / "logs" / "cometbft.log").read_text()
    assert "Snapshot restored" in comet
