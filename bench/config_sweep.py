"""Mempool and block settings by measurement: the single-node max-rate load under a few
config.toml variants, one fresh node per variant, to choose the values of the config templates
(cometbft-config/*.toml).

    .venv/bin/python bench/config_sweep.py [--duration 30] [--connections 128]

Prints one JSON object: per variant, committed tx/s, latency percentiles, rejected txs, and the
largest block. Works in temporary folders on free loopback ports; stops what it starts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import LocalNode, addr_of  # noqa: E402

from abci_app.loadgen import bench_accounts, presign_transfers, run_load  # noqa: E402

VARIANTS: dict[str, list[tuple[str, str, object]]] = {
    "template (timeout_commit 1s, mempool defaults)": [],
    "timeout_commit 500ms": [("consensus", "timeout_commit", "500ms")],
    "timeout_commit 2s": [("consensus", "timeout_commit", "2s")],
    "timeout_commit 2s, mempool.size 20000": [
        ("consensus", "timeout_commit", "2s"),
        ("mempool", "size", 20_000),
    ],
    "mempool.size 2000": [("mempool", "size", 2000)],
    "mempool.size 20000": [("mempool", "size", 20_000)],
    "mempool.recheck off": [("mempool", "recheck", False)],
}


def measure(
    config: list[tuple[str, str, object]], seconds: float, connections: int
) -> dict[str, Any]:
    keys = bench_accounts("bench", 200)
    timeout = next((v for s, k, v in config if k == "timeout_commit"), "1s")
    rest = [c for c in config if c[1] != "timeout_commit"]
    with tempfile.TemporaryDirectory(prefix="mt-sweep-") as tmp:
        node = LocalNode(
            Path(tmp) / "node",
            accounts=[(addr_of(k), 10**15) for k in keys],
            timeout_commit=str(timeout),
            check_invariants=False,
            config=rest,
        )
        node.init().start(min_height=2)
        try:
            streams = presign_transfers(keys, "mt-test-1", int(3_000 * seconds * 1.2))
            result = run_load([node.rpc_url], streams, connections=connections, max_seconds=seconds)
        finally:
            node.stop()
    return result.summary()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--connections", type=int, default=128)
    ap.add_argument("--only", default="", help="run only variants whose name contains this")
    args = ap.parse_args()
    if args.duration <= 0 or args.connections < 1:
        ap.error("--duration must be positive and --connections at least 1")
    out = {}
    for name, config in VARIANTS.items():
        if args.only in name:
            out[name] = measure(config, args.duration, args.connections)
            print(name, json.dumps(out[name]), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
