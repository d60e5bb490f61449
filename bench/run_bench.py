"""`make bench`: run the benchmark scenarios on this machine and write bench/RESULTS.md.

Scenarios (each starts its own processes on free loopback ports in a temporary folder, and
stops them):
1. single node, our app: pre-signed transfers from genesis-funded accounts, as fast as accepted
   for --duration seconds (with the CPU used by each process, and the app's time per ABCI
   method from its own metrics), then at half the measured rate (latency at a sustainable load);
2. single node, CometBFT's built-in kvstore app (`cometbft start --proxy_app=kvstore`) under the
   same load shape: the ratio our app / kvstore is the cost of the Python app;
3. a 4-validator localnet, load spread over all nodes;
4. state size: app RSS, SQLite size, FinalizeBlock / app-hash / Commit time with 10^5 and 10^6
   accounts, and vs block size (bench/state_bench.py);
5. Yuma epoch time vs subnet size (bench/epoch_bench.py's measurement), up to the caps.
6. The weight calibration table (bench/weights_bench.py).

    .venv/bin/python bench/run_bench.py [--duration 60] [--connections 128] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import LocalNode, addr_of, free_ports, wait_until  # noqa: E402

from abci_app.address import to_bech32  # noqa: E402
from abci_app.client.keyring import Keyring  # noqa: E402
from abci_app.client.rpc import RPCClient  # noqa: E402
from abci_app.modules.bank.messages import MsgTransfer  # noqa: E402
from abci_app.node.cometbft import find_cometbft, load_template, patch_config  # noqa: E402
from abci_app.node.localnet import (  # noqa: E402
    all_nodes,
    init_localnet,
    start_localnet,
    stop_localnet,
)
from abci_app.node.plan import LocalnetPlan  # noqa: E402
from abci_app.tools.loadgen import (  # noqa: E402
    bench_accounts,
    kvstore_txs,
    presign_transfers,
    run_load,
)
from abci_app.tx import build_tx  # noqa: E402

ACCOUNTS = 200
CONNECTIONS = 128  # set from --connections
TICKS = os.sysconf("SC_CLK_TCK")
TEMPLATE_FILL = {"abci_port": 1, "rpc_port": 2, "p2p_port": 3, "prometheus_port": 4, "moniker": "m"}


def kvstore_budget(seconds: float) -> int:
    """Txs prepared for a kvstore run: more than it can take (it took 4,400 tx/s here)."""
    return int(10_000 * seconds)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def abci_seconds(metrics_url: str) -> dict[str, tuple[float, int]]:
    """{method: (seconds, count)} from the app's moderntensor_abci_request_seconds histogram."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for line in httpx.get(metrics_url, timeout=10).text.splitlines():
        m = re.match(r'moderntensor_abci_request_seconds_(sum|count)\{method="(\w+)"\} (\S+)', line)
        if m and m[1] == "sum":
            sums[m[2]] = float(m[3])
        elif m:
            counts[m[2]] = int(float(m[3]))
    return {method: (sums.get(method, 0.0), n) for method, n in counts.items()}


def machine() -> str:
    mem = next(
        int(line.split()[1]) // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return f"{os.cpu_count()} cores, {mem / 1024:.1f} GiB RAM, {platform.machine()}"


def bench_node(root: Path, config: list[tuple[str, str, object]] | None = None) -> LocalNode:
    """A started single node whose genesis funds the bench accounts (invariants off, as a
    production node runs; timeout_commit 1 s unless ``config`` sets it)."""
    settings = list(config or [])
    timeout = next((v for _, k, v in settings if k == "timeout_commit"), "1s")
    node = LocalNode(
        root,
        accounts=[(addr_of(k), 10**15) for k in bench_accounts("bench", ACCOUNTS)],
        timeout_commit=str(timeout),
        check_invariants=False,
        config=[c for c in settings if c[1] != "timeout_commit"],
    )
    return node.init().start(min_height=2)


def wait_for_blocks(url: str, timeout: float, what: str) -> None:
    wait_until(lambda: RPCClient(url, timeout=2, retries=0).latest_height() >= 2, timeout, what)


Started = tuple[subprocess.Popen[bytes], IO[bytes]]
"""A process this script started, with its open log file."""


def start_kvstore(home: Path, log_path: Path, *flags: str) -> Started:
    """``cometbft start`` with the built-in kvstore app; stop it with :func:`stop_all`."""
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop_all
    cmd = [str(find_cometbft()), "start", "--home", str(home), "--proxy_app=kvstore", *flags]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def stop_all(started: list[Started]) -> None:
    for proc, _ in started:
        proc.terminate()
    for proc, log in started:
        proc.wait(timeout=30)
        log.close()


def bench_script(name: str, *args: str) -> Any:
    """Run another bench/ script and return the JSON it prints."""
    res = subprocess.run(
        [sys.executable, str(REPO / "bench" / name), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(res.stdout)


def prepare_streams(urls: list[str], chain_id: str, seconds: float, rate: float) -> Any:
    """Enough signed transfers for ``seconds`` at ``rate`` (0: max), from each account's
    current nonce (so phases can follow each other)."""
    keys = bench_accounts("bench", ACCOUNTS)
    with RPCClient(urls[0], timeout=10) as c:
        nonces = [
            int(c.abci_query(f"/account/{to_bech32(addr_of(k))}").json()["nonce"]) for k in keys
        ]
    budget = int((rate or 3_000) * seconds * 1.2)
    return presign_transfers(keys, chain_id, budget, start_nonces=nonces)


def load_phase(urls: list[str], chain_id: str, seconds: float, rate: float) -> Any:
    streams = prepare_streams(urls, chain_id, seconds, rate)
    return run_load(urls, streams, connections=CONNECTIONS, rate=rate, max_seconds=seconds)


def sample_app(node: LocalNode, pid: int, seconds: float) -> dict[str, Any]:
    """A separate max-rate phase with py-spy sampling the app (so that sampling does not slow
    the measured run); returns the functions taking the most of the app's samples."""
    py_spy = Path(sys.executable).parent / "py-spy"
    streams = prepare_streams([node.rpc_url], "mt-test-1", seconds, 0)
    with tempfile.TemporaryDirectory(prefix="mt-spy-") as tmp:
        raw = Path(tmp) / "app.txt"
        cmd = [str(py_spy), "record", "-r", "50", "-d", str(int(seconds)), "-f", "raw"]
        spy = subprocess.Popen(
            [*cmd, "-o", str(raw), "-p", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        run_load([node.rpc_url], streams, connections=CONNECTIONS, max_seconds=seconds)
        _, err = spy.communicate(timeout=60)
        if spy.returncode != 0 or not raw.exists():
            return {"error": (err or "no output").strip().splitlines()[-1][:200]}
        return summarize_stacks(raw.read_text())


def summarize_stacks(text: str, top: int = 20) -> dict[str, Any]:
    """Inclusive share of samples per function from py-spy's collapsed stacks (frames joined by
    ';', then a count), over the stacks below the ABCI server's connection handler (the busy
    samples of the event loop; py-spy leaves out idle ones)."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        serving = [i for i, f in enumerate(frames) if f.startswith("ABCIServer._serve ")]
        if not serving:
            continue
        n = int(count)
        total += n
        seen = set()
        for frame in frames[serving[0] + 1 :]:
            name = frame.split(" (")[0]
            where = frame.split(" (", 1)[1].split(":")[0] if " (" in frame else ""
            key = f"{name} ({where.split('/')[-1]})" if where else name
            if key not in seen:
                seen.add(key)
                inclusive[key] = inclusive.get(key, 0) + n
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])
    return {
        "samples": total,
        "top": [(k, round(100 * v / total, 1)) for k, v in ranked[:top]] if total else [],
    }


def single_node(seconds: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = []
    profile: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="mt-bench-") as tmp:
        node = bench_node(Path(tmp) / "node")
        try:
            pids = {name: proc.pid for name, proc in node.procs.items()}
            metrics_url = f"http://127.0.0.1:{node.cfg.app_metrics_port}/metrics"
            streams = prepare_streams([node.rpc_url], "mt-test-1", seconds, 0)
            abci_before = abci_seconds(metrics_url)
            zero = (0.0, 0)
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            own_before = sum(os.times()[:2])
            started = time.monotonic()
            full = run_load([node.rpc_url], streams, connections=CONNECTIONS, max_seconds=seconds)
            wall = time.monotonic() - started
            profile = {
                "cpu_cores": {
                    **{
                        n: round((cpu_seconds(p) - cpu_before[n]) / wall, 2)
                        for n, p in pids.items()
                    },
                    "load generator": round((sum(os.times()[:2]) - own_before) / wall, 2),
                },
                "abci": {
                    method: (round(secs - abci_before.get(method, zero)[0], 2), count - before)
                    for method, (secs, count) in abci_seconds(metrics_url).items()
                    if (before := abci_before.get(method, zero)[1]) < count
                },
                "wall_seconds": round(wall, 1),
            }
            rows.append({"scenario": "single node, max rate", **full.summary()})
            profile["py_spy"] = sample_app(node, pids["app"], min(20.0, seconds))
            half = max(1.0, full.summary()["committed_tps"] / 2)
            paced = load_phase([node.rpc_url], "mt-test-1", seconds / 2, half)
            rows.append({"scenario": f"single node, {half:.0f} tx/s (half)", **paced.summary()})
        finally:
            node.stop()
    return rows, profile


def kvstore(seconds: float) -> dict[str, Any]:
    comet = find_cometbft()
    with tempfile.TemporaryDirectory(prefix="mt-kv-") as tmp:
        home = Path(tmp) / "kv"
        subprocess.run([str(comet), "init", "--home", str(home)], check=True, capture_output=True)
        config = home / "config" / "config.toml"
        # the same block pacing and mempool settings as our single-node template
        same = [
            entry
            for entry in load_template("single-node", TEMPLATE_FILL)
            if entry[0] in ("consensus", "mempool")
        ]
        config.write_text(patch_config(config.read_text(), same))
        rpc, p2p = free_ports(2)
        url = f"http://127.0.0.1:{rpc}"
        proc = start_kvstore(
            home,
            Path(tmp) / "kv.log",
            f"--rpc.laddr=tcp://127.0.0.1:{rpc}",
            f"--p2p.laddr=tcp://127.0.0.1:{p2p}",
        )
        try:
            wait_for_blocks(url, 60, "the kvstore node")
            result = run_load(
                [url],
                kvstore_txs(kvstore_budget(seconds)),
                connections=CONNECTIONS,
                max_seconds=seconds,
            )
        finally:
            stop_all([proc])
    return {"scenario": "single node, kvstore app, max rate", **result.summary()}


def kvstore_localnet(seconds: float) -> dict[str, Any]:
    """The same 4-validator localnet layout (our tooling's configs and ports), each node running
    CometBFT's built-in kvstore app instead of ours; the genesis lists the validators directly,
    since kvstore does not read our gen_txs."""
    with tempfile.TemporaryDirectory(prefix="mt-kvln-") as tmp:
        root = Path(tmp) / "ln"
        base = random.randrange(20000, 31000, 100)
        init_localnet(root, LocalnetPlan(validators=4, seed=False, base_port=base))
        nodes = all_nodes(root)
        validators = []
        for n in nodes:
            key = json.loads(
                (root / n.name / "cometbft/config/priv_validator_key.json").read_text()
            )
            validators.append(
                {
                    "address": key["address"],
                    "pub_key": key["pub_key"],
                    "power": "10",
                    "name": n.name,
                }
            )
        for n in nodes:
            path = root / n.name / "cometbft/config/genesis.json"
            genesis = json.loads(path.read_text())
            genesis["validators"] = validators
            path.write_text(json.dumps(genesis, indent=2))
        procs: list[Started] = []
        try:
            for n in nodes:
                procs.append(start_kvstore(root / n.name / "cometbft", root / f"{n.name}-kv.log"))
            urls = [n.rpc_url for n in nodes]
            wait_for_blocks(urls[0], 120, "the kvstore localnet")
            result = run_load(
                urls,
                kvstore_txs(kvstore_budget(seconds)),
                connections=CONNECTIONS,
                max_seconds=seconds,
            )
        finally:
            stop_all(procs)
    return {"scenario": "4-validator localnet, kvstore app, max rate", **result.summary()}


def localnet(seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mt-ln-") as tmp:
        root = Path(tmp) / "ln"
        base = random.randrange(20000, 31000, 100)
        init_localnet(root, LocalnetPlan(validators=4, seed=False, base_port=base))
        start_localnet(root)
        try:
            nodes = all_nodes(root)
            urls = [n.rpc_url for n in nodes]
            wait_for_blocks(urls[0], 120, "the localnet")
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


def state_sizes() -> list[dict[str, Any]]:
    """bench/state_bench.py at 10^5 accounts (several block sizes) and 10^6 (2,000-tx blocks)."""
    return [
        bench_script("state_bench.py", "--accounts", str(n), "--sizes", sizes, "--blocks", "5")
        for n, sizes in ((100_000, "100,500,1000,2000,5000"), (1_000_000, "2000"))
    ]


def epochs() -> list[dict[str, Any]]:
    out = []
    # the last two are the chain's caps (max_weights_per_epoch 16,384): the worst an owner
    # can configure
    for uids, validators in ((64, 16), (128, 32), (256, 64), (1024, 16)):
        data = bench_script(
            "epoch_bench.py", "--subnets", "1", "--uids", str(uids), "--validators", str(validators)
        )
        out.append(
            {
                "uids": uids,
                "validators": validators,
                "function_ms": data["epoch_function_ms"]["median"],
                "in_chain_ms": data["epoch_in_chain_ms"]["median"],
            }
        )
    return out


def weight_rows(w: dict[str, Any]) -> list[str]:
    """The calibration table of bench/weights_bench.py (issue 13)."""
    return [
        "## Weight calibration (CPU us per weight unit, each message type at its worst case)",
        "",
        "Txs seen first in the block (decoded and verified there), state at the chain's bounds "
        "(`bench/weights_bench.py`; weights in `abci_app/weights.py`). Slowest / fastest per "
        f"unit: **{w['slowest_over_fastest']}** (target <= 2). At block.max_gas "
        f"({w['max_gas']:,} units) a block of the slowest type per unit ({w['worst_type']}) "
        f"executes its txs in about **{w['worst_block_ms_at_max_gas']:,} ms** of CPU.",
        "",
        "| message (worst case) | codes | weight | us per tx | us per unit |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {r['message']} | {r['codes']} | {r['weight']:,} | {r['us_per_tx']} "
            f"| {r['us_per_unit']} |"
            for r in w["table"]
        ],
        "",
    ]


def row(r: dict[str, Any]) -> str:
    lat = r["latency_s"]
    return (
        f"| {r['scenario']} | {r['committed_tps']} | {lat['p50']} | {lat['p95']} | {lat['p99']} "
        f"| {r['committed']}/{r['accepted']}/{r['submitted']} | {r['max_txs_per_block']} |"
    )


def state_rows(states: list[dict[str, Any]]) -> list[str]:
    size_rows = [
        f"| {st['accounts']:,} | {st['state_keys']:,} | {st['state_bytes'] / 2**20:.1f} "
        f"| {st['sqlite_bytes'] / 2**20:.1f} | {st['rss_mib']} | {st['peak_rss_mib']} "
        f"| {next(r['commit_ms'] for r in st['rows'] if r['block_txs'] == 2000)} "
        f"| {next(r['app_hash_ms'] for r in st['rows'] if r['block_txs'] == 2000)} |"
        for st in states
    ]
    by_size = [
        f"| {st['accounts']:,} | {r['block_txs']} | {r['finalize_block_ms']} | {r['app_hash_ms']} "
        f"| {r['commit_ms']} | {r['check_tx_ms_per_tx']} |"
        for st in states
        for r in st["rows"]
    ]
    return [
        "## State size: 10^5 and 10^6 accounts",
        "",
        "`python bench/state_bench.py --accounts N`: a chain holding N accounts, opened by a fresh "
        "process as the app does; blocks of transfers from funded senders to random existing "
        "accounts (so every tx touches two random keys: the worst case for the app hash), "
        "through CheckTx, FinalizeBlock and Commit. RSS is that process's after the blocks "
        "(VmRSS; peak VmHWM).",
        "",
        "| accounts | state keys | state MiB (keys+values) | SQLite file MiB | app RSS MiB "
        "| peak RSS MiB | Commit ms, 2,000-tx block | app hash ms, 2,000-tx block |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *size_rows,
        "",
        "## FinalizeBlock, app hash and Commit vs block size",
        "",
        "Median of 5 blocks per size (same tool). The app hash is computed inside FinalizeBlock "
        "(staging: reading the touched Merkle buckets, hashing them and their paths); Commit "
        "is the SQLite write of the block.",
        "",
        "| accounts | txs per block | FinalizeBlock ms | of which app hash ms | Commit ms "
        "| CheckTx ms per tx |",
        "| --- | --- | --- | --- | --- | --- |",
        *by_size,
        "",
    ]


def profile_rows(profile: dict[str, Any]) -> list[str]:
    wall = profile["wall_seconds"]
    cpu = ", ".join(f"{name} {cores}" for name, cores in profile["cpu_cores"].items())
    abci = [
        f"| {method} | {count:,} | {secs:.2f} | {100 * secs / wall:.0f}% "
        f"| {1000 * secs / count:.3f} |"
        for method, (secs, count) in sorted(profile["abci"].items(), key=lambda kv: -kv[1][0])
    ]
    spy = profile.get("py_spy", {})
    if spy.get("top"):
        spy_rows = [
            "py-spy on the live app during a further 20 s at max rate (50 samples/s, stacks of "
            f"the busy ABCI-serving thread only, {spy['samples']} samples), share of those "
            "samples spent in each function or below it:",
            "",
            "| function | share |",
            "| --- | --- |",
            *[f"| `{name}` | {share}% |" for name, share in spy["top"]],
            "",
        ]
    else:
        spy_rows = [f"(py-spy could not sample the app: {spy.get('error', 'not run')})", ""]
    return [
        "## Where the time goes (single node, max rate)",
        "",
        f"CPU cores used during the {wall:.0f} s run (of {os.cpu_count()}): {cpu}. The app's "
        "time per ABCI method, from its own `moderntensor_abci_request_seconds` metric:",
        "",
        "| method | requests | seconds | share of the run | ms per request |",
        "| --- | --- | --- | --- | --- |",
        *abci,
        "",
        *spy_rows,
    ]


def main() -> None:
    global CONNECTIONS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--connections", type=int, default=CONNECTIONS)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    args = ap.parse_args()
    if args.duration <= 0 or args.connections < 1:
        ap.error("--duration must be positive and --connections at least 1")
    CONNECTIONS = args.connections
    started = time.monotonic()
    single, profile = single_node(args.duration)
    kv = kvstore(args.duration)
    ln = localnet(args.duration)
    kv_ln = kvstore_localnet(args.duration)
    states = state_sizes()
    ep = epochs()
    weights = bench_script("weights_bench.py")

    def ratio(ours: dict[str, Any], theirs: dict[str, Any]) -> float:
        return ours["committed_tps"] / theirs["committed_tps"] if theirs["committed_tps"] else 0.0

    cmd = f"python bench/run_bench.py --duration {args.duration:g} --connections {CONNECTIONS}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Regenerate with `make bench` (`{cmd}`). Machine: {machine()}. Run: {when}, "
        f"{(time.monotonic() - started) / 60:.1f} min. Load: pre-signed transfers from "
        f"{ACCOUNTS} genesis-funded accounts (each to the next), {CONNECTIONS} keep-alive "
        "connections with one request in flight each (`abci_app/tools/loadgen.py`, the sender on "
        "the same cores as the nodes); latency is submit (broadcast_tx_sync) to the NewBlockHeader "
        "event of the block carrying the tx. Blocks: timeout_commit 1 s (the default config).",
        "",
        "| scenario | committed tx/s | p50 s | p95 s | p99 s | committed/accepted/sent "
        "| max txs/block |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[row(r) for r in [*single, kv, ln, kv_ln]],
        "",
        f"Our app / kvstore: single node **{ratio(single[0], kv):.2f}**, "
        f"4-validator localnet **{ratio(ln, kv_ln):.2f}** (target ≥ 0.60).",
        "",
        *profile_rows(profile),
        *weight_rows(weights),
        *state_rows(states),
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
    report = {
        "single": single,
        "profile": profile,
        "kvstore": kv,
        "localnet": ln,
        "kvstore_localnet": kv_ln,
        "states": states,
        "epochs": ep,
        "weights": weights,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
