"""The load generator against a live node: every accepted tx is seen committed with its
latency, a fixed rate is held, and the run stops by itself within its bounds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from harness import REPO, LocalNode, addr_of

from abci_app.loadgen import bench_accounts, chart, presign_transfers, run_load

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


def test_fixed_rate_and_bounds(node: LocalNode) -> None:
    streams = presign_transfers(bench_accounts("t", 40), "mt-test-1", 2_000)
    result = run_load([node.rpc_url], streams, connections=2, rate=50, max_seconds=3)
    # 3 s at 50 tx/s: about 150 sent, never the whole 2,000, and the run ended by itself
    assert 100 <= result.submitted <= 200, result.submitted
    assert result.send_seconds < 4
    assert result.committed == result.accepted


def test_cli_bench_load(node: LocalNode) -> None:
    cmd = [sys.executable, "-m", "abci_app", "--node", node.rpc_url, "bench", "load"]
    cmd += ["--seed", "t", "--accounts", "40", "--txs", "200", "--connections", "2"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["committed"] == 200 and out["chain_id"] == "mt-test-1"
