"""`make bench`: run the benchmark scenarios on this machine and write bench/RESULTS.md.

Scenarios (each starts its own processes on free loopback ports in a temporary folder, and
stops them):
1. single node, our app: pre-signed transfers from genesis-funded accounts, as fast as accepted
   for --duration seconds, then at half the measured rate (latency at a sustainable load);
2. single node, CometBFT's built-in kvstore app (`cometbft start --proxy_app=kvstore`) under the
   same load shape: the ratio our app / kvstore is the cost of the Python app;
3. a 4-validator localnet, load spread over all nodes;
4. Yuma epoch time vs subnet size (bench/epoch_bench.py's measurement).

    .venv/bin/python bench/run_bench.py [--duration 60] [--out bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import LocalNode, addr_of, free_ports, wait_until  # noqa: E402

from abci_app.address import to_bech32  # noqa: E402
from abci_app.client.keyring import Keyring  # noqa: E402
from abci_app.client.rpc import RPCClient  # noqa: E402
from abci_app.loadgen import (  # noqa: E402
    bench_accounts,
    kvstore_txs,
    presign_transfers,
    run_load,
)
from abci_app.modules.bank.messages import MsgTransfer  # noqa: E402
from abci_app.node.cometbft import find_cometbft, patch_config  # noqa: E402
from abci_app.node.localnet import (  # noqa: E402
    LocalnetPlan,
    all_nodes,
    init_localnet,
    start_localnet,
    stop_localnet,
)
from abci_app.tx import build_tx  # noqa: E402

ACCOUNTS = 200


def machine() -> str:
    mem = next(
        int(line.split()[1]) // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return f"{os.cpu_count()} cores, {mem / 1024:.1f} GiB RAM, {platform.machine()}"


def load_phase(urls: list[str], chain_id: str, seconds: float, rate: float) -> Any:
    """Signed transfers for ``seconds`` at ``rate`` (0: max), from each account's current
    nonce (so phases can follow each other)."""
    keys = bench_accounts("bench", ACCOUNTS)
    with RPCClient(urls[0], timeout=10) as c:
        nonces = [
            int(c.abci_query(f"/account/{to_bech32(addr_of(k))}").json()["nonce"]) for k in keys
        ]
    budget = int((rate or 3_000) * seconds * 1.2)
    streams = presign_transfers(keys, chain_id, budget, start_nonces=nonces)
    return run_load(urls, streams, connections=4, rate=rate, max_seconds=seconds)


def single_node(seconds: float) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="mt-bench-") as tmp:
        keys = bench_accounts("bench", ACCOUNTS)
        node = LocalNode(
            Path(tmp) / "node",
            accounts=[(addr_of(k), 10**15) for k in keys],
            timeout_commit="1s",
            check_invariants=False,
        )
        node.init().start(min_height=2)
        try:
            full = load_phase([node.rpc_url], "mt-test-1", seconds, 0)
            rows.append({"scenario": "single node, max rate", **full.summary()})
            half = max(1.0, full.summary()["committed_tps"] / 2)
            paced = load_phase([node.rpc_url], "mt-test-1", seconds / 2, half)
            rows.append({"scenario": f"single node, {half:.0f} tx/s (half)", **paced.summary()})
        finally:
            node.stop()
    return rows


def kvstore(seconds: float) -> dict[str, Any]:
    comet = find_cometbft()
    with tempfile.TemporaryDirectory(prefix="mt-kv-") as tmp:
        home = Path(tmp) / "kv"
        subprocess.run([str(comet), "init", "--home", str(home)], check=True, capture_output=True)
        config = home / "config" / "config.toml"
        config.write_text(
            patch_config(config.read_text(), [("consensus", "timeout_commit", "1s")])
        )  # the same block pacing as our single node
        rpc, p2p = free_ports(2)
        cmd = [
            str(comet),
            "start",
            "--home",
            str(home),
            "--proxy_app=kvstore",
            f"--rpc.laddr=tcp://127.0.0.1:{rpc}",
            f"--p2p.laddr=tcp://127.0.0.1:{p2p}",
        ]
        log = open(Path(tmp) / "kv.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{rpc}"
        try:
            wait_until(lambda: RPCClient(url, timeout=2, retries=0).latest_height() >= 2, 60, "kv")
            budget = int(3_000 * seconds * 1.2)
            result = run_load([url], kvstore_txs(budget), connections=4, max_seconds=seconds)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    return {"scenario": "single node, kvstore app, max rate", **result.summary()}


def localnet(seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mt-ln-") as tmp:
        root = Path(tmp) / "ln"
        base = random.randrange(20000, 31000, 100)
        init_localnet(root, LocalnetPlan(validators=4, seed=False, base_port=base))
        start_localnet(root)
        try:
            nodes = all_nodes(root)
            urls = [n.rpc_url for n in nodes]
            wait_until(
                lambda: RPCClient(urls[0], timeout=2, retries=0).latest_height() >= 2, 120, "ln"
            )
            dev = Keyring(root / "keyring").get("dev")
            keys = bench_accounts("bench", ACCOUNTS)
            with RPCClient(urls[0], timeout=10) as c:
                chain_id = c.status()["node_info"]["network"]
                nonce = int(c.abci_query(f"/account/{dev.address}").json()["nonce"])
                funding = [MsgTransfer(addr_of(k), 10**10) for k in keys]
                for i in range(0, len(funding), 25):  # 25 transfers per tx (max 32)
                    tx = build_tx(dev.signing_key, chain_id, nonce, 1_000, funding[i : i + 25])
                    res = c.broadcast_tx_sync(tx)
                    assert res.code == 0, res.log
                    nonce += 1
                c.wait_for_tx(res.hash, timeout=30)
            result = load_phase(urls, chain_id, seconds, 0)
        finally:
            stop_localnet(root)
    return {"scenario": "4-validator localnet, max rate, spread over 4 nodes", **result.summary()}


def epochs() -> list[dict[str, Any]]:
    out = []
    for uids, validators in ((64, 16), (128, 32), (256, 64)):
        res = subprocess.run(
            [
                sys.executable,
                str(REPO / "bench" / "epoch_bench.py"),
                "--subnets",
                "1",
                "--uids",
                str(uids),
                "--validators",
                str(validators),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        data = json.loads(res.stdout)
        out.append(
            {
                "uids": uids,
                "validators": validators,
                "function_ms": data["epoch_function_ms"]["median"],
                "in_chain_ms": data["epoch_in_chain_ms"]["median"],
            }
        )
    return out


def row(r: dict[str, Any]) -> str:
    lat = r["latency_s"]
    return (
        f"| {r['scenario']} | {r['committed_tps']} | {lat['p50']} | {lat['p95']} | {lat['p99']} "
        f"| {r['committed']}/{r['accepted']}/{r['submitted']} | {r['max_txs_per_block']} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    args = ap.parse_args()
    started = time.monotonic()
    single = single_node(args.duration)
    kv = kvstore(args.duration)
    ln = localnet(args.duration)
    ep = epochs()
    ratio = single[0]["committed_tps"] / kv["committed_tps"] if kv["committed_tps"] else 0.0
    cmd = f"python bench/run_bench.py --duration {args.duration:g}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Regenerate with `make bench` (`{cmd}`). Machine: {machine()}. Run: {when}, "
        f"{(time.monotonic() - started) / 60:.1f} min. Load: pre-signed transfers from "
        f"{ACCOUNTS} genesis-funded accounts over 4 connections (`abci_app/loadgen.py`); "
        "latency is submit (broadcast_tx_sync) to the NewBlock event carrying the tx.",
        "",
        "| scenario | committed tx/s | p50 s | p95 s | p99 s | committed/accepted/sent "
        "| max txs/block |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[row(r) for r in [*single, kv, ln]],
        "",
        f"Our app / kvstore (single node, max rate): **{ratio:.2f}** (target ≥ 0.60).",
        "",
        "## Yuma epoch time vs subnet size",
        "",
        "| uids | validators (each weighting every uid) | epoch function ms | epoch in chain ms |",
        "| --- | --- | --- | --- |",
        *[
            f"| {e['uids']} | {e['validators']} | {e['function_ms']} | {e['in_chain_ms']} |"
            for e in ep
        ],
        "",
        "## Targets and what the measurements say",
        "",
        "See the analysis section below (kept by hand; the tables above are regenerated).",
        "",
    ]
    old = args.out.read_text() if args.out.exists() else ""
    analysis = old.split("<!-- analysis -->", 1)[1] if "<!-- analysis -->" in old else "\n"
    args.out.write_text("\n".join(lines) + "<!-- analysis -->" + analysis)
    print(json.dumps({"single": single, "kvstore": kv, "localnet": ln, "epochs": ep}, indent=2))


if __name__ == "__main__":
    main()
