"""The load generator against a live node: every accepted tx is seen committed with its
latency, a fixed rate is held, and the run stops by itself within its bounds."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from harness import REPO, LocalNode, addr_of

from abci_app.address import to_bech32
from abci_app.client.rpc import RPCClient
from abci_app.tools.loadgen import (
    LoadResult,
    _backfill,
    bench_accounts,
    chart,
    presign_transfers,
    run_load,
)
from abci_app.tx import tx_hash

pytestmark = pytest.mark.integration


@pytest.fixture
def node(node_factory: type) -> LocalNode:
    keys = bench_accounts("t", 40)
    n: LocalNode = node_factory(accounts=[(addr_of(k), 10**15) for k in keys])
    return n.init().start(min_height=2)


def test_max_rate_run_commits_everything(node: LocalNode, tmp_path: object) -> None:
    streams = presign_transfers(bench_accounts("t", 40), "mt-test-1", 600)
    result = run_load([node.rpc_url], streams, connections=4, max_seconds=60)
    s = result.summary()
    assert s["accepted"] == s["submitted"] == 600 and s["rejected"] == 0
    assert s["committed"] == 600 and len(result.latencies) == 600
    assert s["committed_tps"] > 0 and 0 < s["latency_s"]["p50"] <= s["latency_s"]["p99"]
    png = tmp_path / "load.png"  # type: ignore[operator]
    chart(result, str(png), "test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rejected_txs_are_counted_and_never_waited_for(node: LocalNode) -> None:
    streams = presign_transfers(bench_accounts("t", 40), "mt-test-1", 80)
    streams[0] = [streams[0][0], streams[0][0]]  # a replay: refused by CheckTx (nonce)
    result = run_load([node.rpc_url], streams, connections=8, max_seconds=60, drain_seconds=30)
    total = sum(len(s) for s in streams)
    assert result.submitted == total and result.rejected == 1
    assert result.accepted == total - 1 == result.committed


def test_blocks_missed_by_the_websocket_are_read_back(node: LocalNode) -> None:
    """A block the watcher did not see (a reconnect) still counts its txs as committed."""
    keys = bench_accounts("t", 40)[:3]
    with RPCClient(node.rpc_url) as rpc:
        nonces = [
            int(rpc.abci_query(f"/account/{to_bech32(addr_of(k))}").json()["nonce"]) for k in keys
        ]
        txs = [s[0] for s in presign_transfers(keys, "mt-test-1", 3, start_nonces=nonces)]
        sent = [rpc.broadcast_tx_sync(raw) for raw in txs]
        heights = sorted({rpc.wait_for_tx(r.hash, timeout=30).height for r in sent})
    waiting = {tx_hash(raw): 0.0 for raw in txs}
    # the watcher saw the blocks just before and just after, none in between
    result = LoadResult(blocks=[(heights[0] - 1, 0, 0.0), (heights[-1] + 1, 0, 0.0)])
    _backfill(node.rpc_url, waiting, threading.Lock(), result)
    assert result.committed == 3 and not waiting
    assert result.backfilled_blocks == heights[-1] - heights[0] + 1


def test_fixed_rate_and_bounds(node: LocalNode) -> None:
    streams = presign_transfers(bench_accounts("t", 40), "mt-test-1", 2_000)
    result = run_load([node.rpc_url], streams, connections=2, rate=50, max_seconds=3)
    # 3 s at 50 tx/s: about 150 sent, never the whole 2,000, and the run ended by itself
    assert 100 <= result.submitted <= 200, result.submitted
    assert result.send_seconds < 4
    assert result.committed == result.accepted


def test_cli_bench_load(node_factory: type) -> None:
    """Through the CLI, on a chain whose gas price puts a transfer above min_fee: the
    pre-signed transfers pay the node's quote (they paid min_fee and all were refused)."""
    keys = bench_accounts("t", 40)
    node: LocalNode = node_factory(accounts=[(addr_of(k), 10**15) for k in keys])
    node.init()
    genesis = json.loads(node.home.genesis_file.read_text())
    genesis["app_state"]["params"]["gas_price"] = 100
    node.home.genesis_file.write_text(json.dumps(genesis))
    node.start(min_height=2)
    cmd = [sys.executable, "-m", "abci_app", "--node", node.rpc_url, "bench", "load"]
    cmd += ["--seed", "t", "--accounts", "40", "--txs", "200", "--connections", "2"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["committed"] == 200 and out["chain_id"] == "mt-test-1"
