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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_bench import ACCOUNTS, bench_node

from abci_app.tools.loadgen import bench_accounts, presign_transfers, run_load

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
    keys = bench_accounts("bench", ACCOUNTS)
    with tempfile.TemporaryDirectory(prefix="mt-sweep-") as tmp:
        node = bench_node(Path(tmp) / "node", config)
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
