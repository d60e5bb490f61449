"""Resource use of an N-validator loopback localnet: RSS and CPU per process, block interval.

Starts its own localnet in a temporary folder on a free port range, lets it settle, measures
over a window, checks that every validator has earned rewards and that app hashes agree, stops
it. This is also where the 50-validator scale check lives (too heavy for the test suite: about
7 GiB of RSS and both cores for several minutes). Bounded by --window and --max-wait seconds.
Prints one JSON object.

    .venv/bin/python bench/localnet_resources.py --validators 4 --window 60
    .venv/bin/python bench/localnet_resources.py --validators 50 --window 120
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from abci_app.client.keyring import Keyring
from abci_app.client.rpc import RPCClient
from abci_app.node.localnet import (
    _read_pids,
    init_localnet,
    localnet_status,
    start_localnet,
    stop_localnet,
)
from abci_app.node.plan import LocalnetPlan
from abci_app.node.supervisor import port_in_use

TICKS = os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def block_times(url: str, last: int, count: int) -> list[float]:
    with RPCClient(url, timeout=10) as c:
        times = []
        for h in range(max(1, last - count), last + 1):
            t = c.call("header", height=str(h))["header"]["time"]
            times.append(datetime.fromisoformat(t[:26].rstrip("Z") + "+00:00").timestamp())
    return [b - a for a, b in itertools.pairwise(times)]


def validators_paid(root: Path, plan: LocalnetPlan, url: str) -> int:
    """How many validator operators have earned rewards or commission so far."""
    paid = 0
    with RPCClient(url, timeout=30) as c:
        for node in plan.nodes():
            op = Keyring(root / node.name / "keyring").get("validator").address
            paid += int(c.abci_query(f"/rewards/{op}").json()["total"]) > 0
    return paid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--validators", type=int, default=4)
    ap.add_argument("--window", type=float, default=60)
    ap.add_argument("--max-wait", type=float, default=600, help="for the first blocks")
    args = ap.parse_args()
    n = args.validators
    while True:
        base = random.randrange(20000, 32000 - 10 * (n + 2), 10)  # below the ephemeral range
        if not any(port_in_use(base + p) for p in range(10 * (n + 2))):
            break
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ln"
        plan = LocalnetPlan(validators=n, seed=False, base_port=base)
        t0 = time.monotonic()
        init_localnet(root, plan)
        init_s = time.monotonic() - t0
        try:
            start_localnet(root)
            node0 = plan.nodes()[0]
            deadline = time.monotonic() + args.max_wait
            with RPCClient(node0.rpc_url, timeout=5, retries=0) as c:
                while time.monotonic() < deadline:
                    try:
                        if c.latest_height() >= 3:
                            break
                    except Exception:  # noqa: BLE001 - node still starting
                        pass
                    time.sleep(1)
                first_blocks_s = time.monotonic() - t0
                h_start = c.latest_height()
            pids = _read_pids(root)
            cpu0 = {k: {p: cpu_seconds(v) for p, v in d.items()} for k, d in pids.items()}
            w0 = time.monotonic()
            time.sleep(args.window)
            wall = time.monotonic() - w0
            cpu1 = {k: {p: cpu_seconds(v) for p, v in d.items()} for k, d in pids.items()}
            rss = {k: {p: rss_mib(v) for p, v in d.items()} for k, d in pids.items()}
            with RPCClient(node0.rpc_url, timeout=10) as c:
                h_end = c.latest_height()
            intervals = block_times(node0.rpc_url, h_end, min(h_end - 1, 30))
            status = localnet_status(root)
            paid = validators_paid(root, plan, node0.rpc_url)
        finally:
            stop_localnet(root)

    def per(kind: str, table: dict[str, dict[str, float]]) -> list[float]:
        return [d[kind] for d in table.values()]

    cpu_app = [cpu1[k]["app"] - cpu0[k]["app"] for k in cpu0]
    cpu_comet = [cpu1[k]["cometbft"] - cpu0[k]["cometbft"] for k in cpu0]
    print(
        json.dumps(
            {
                "validators": n,
                "cores": os.cpu_count(),
                "init_seconds": round(init_s, 1),
                "seconds_to_height_3": round(first_blocks_s, 1),
                "window_seconds": round(wall, 1),
                "blocks_in_window": h_end - h_start,
                "block_interval_s": {
                    "mean": round(statistics.mean(intervals), 2),
                    "median": round(statistics.median(intervals), 2),
                    "max": round(max(intervals), 2),
                },
                "rss_mib": {
                    "app_mean": round(statistics.mean(per("app", rss)), 1),
                    "cometbft_mean": round(statistics.mean(per("cometbft", rss)), 1),
                    "total": round(sum(per("app", rss)) + sum(per("cometbft", rss)), 1),
                },
                "cpu_cores_used": {
                    "apps": round(sum(cpu_app) / wall, 3),
                    "cometbfts": round(sum(cpu_comet) / wall, 3),
                },
                "app_hashes_agree": status["app_hashes_agree"],
                "validators_with_rewards": paid,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
