"""State size: app RSS, state on disk, and FinalizeBlock / app-hash / Commit time per block, for a
chain holding N accounts (10^5 and 10^6 in `make bench`), and the same times vs block size.

    .venv/bin/python bench/state_bench.py --accounts 1000000 [--block-txs 2000] [--blocks 5]
    .venv/bin/python bench/state_bench.py --accounts 100000 --sizes 100,500,1000,2000,5000

Two child processes per run, so that the number reported is the RSS of a node's app and not of
the tool that built the state:

1. ``fill``: a real chain (InitChain with one validator and the funded senders, block 1), then
   the other N - senders accounts written as the state of block 2 through the same staging and
   Commit as any block (their balances added to the supply), in chunks.
2. ``measure``: a fresh process opens that state as the app does, and runs blocks of signed
   transfers (each sender to a random existing account) through CheckTx, FinalizeBlock and
   Commit, timing each step; it reports its RSS (VmRSS, and VmHWM, the peak) and the size of
   the SQLite files.

Prints one JSON object. Works in a temporary folder; no network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from chain_driver import CHAIN_ID, Driver, genesis_app_state  # noqa: E402
from harness import addr_of  # noqa: E402

from abci_app._proto.tendermint.abci import types_pb2 as abci  # noqa: E402
from abci_app.address import to_bech32  # noqa: E402
from abci_app.app import Application  # noqa: E402
from abci_app.modules.bank.messages import MsgTransfer  # noqa: E402
from abci_app.modules.bank.state import Account, get_supply, set_account, set_supply  # noqa: E402
from abci_app.state.db import StateDB  # noqa: E402
from abci_app.state.overlay import Overlay  # noqa: E402
from abci_app.tools.loadgen import bench_accounts  # noqa: E402
from abci_app.tx import build_tx  # noqa: E402

SENDER_BALANCE = 10**15
FILLER_BALANCE = 1_000


def filler_address(i: int) -> bytes:
    return hashlib.sha256(f"moderntensor-bench-filler/{i}".encode()).digest()[:20]


def fill(path: Path, accounts: int, senders: int, chunk: int = 200_000) -> dict[str, Any]:
    started = time.monotonic()
    db = StateDB(path)
    driver = Driver(Application(db, check_invariants=False), db.height)
    genesis = genesis_app_state(0)
    accounts_list = genesis["accounts"]
    assert isinstance(accounts_list, list)
    accounts_list += [
        {"address": to_bech32(addr_of(k)), "balance": str(SENDER_BALANCE)}
        for k in bench_accounts("state", senders)
    ]
    driver.init_chain(genesis)
    driver.block([])
    fillers = max(0, accounts - senders)
    state = Overlay(db)
    for start in range(0, fillers, chunk):
        for i in range(start, min(fillers, start + chunk)):
            set_account(state, filler_address(i), Account(FILLER_BALANCE, 0))
        if start + chunk >= fillers:
            set_supply(state, get_supply(db) + fillers * FILLER_BALANCE)
        db.commit(db.stage(db.height + (1 if start + chunk >= fillers else 0), state.writes))
        state = Overlay(db)
    db.close()
    return {"fill_seconds": round(time.monotonic() - started, 1), "height": 2}


def rss_kib() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0])
    return out


def measure(
    path: Path, accounts: int, senders: int, sizes: list[int], blocks: int
) -> dict[str, Any]:
    db = StateDB(path)
    app = Application(db, check_invariants=False)
    driver = Driver(app, db.height)
    stage_times: list[float] = []
    real_stage = db.stage

    def timed_stage(*args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        out = real_stage(*args, **kw)
        stage_times.append(time.perf_counter() - t0)
        return out

    db.stage = timed_stage  # type: ignore[method-assign]
    keys = bench_accounts("state", senders)
    nonces = [0] * senders
    rng = random.Random(7)
    fillers = max(0, accounts - senders)
    next_sender = 0
    rows = []
    for size in sizes:
        finalize_ms, hash_ms, commit_ms, check_ms = [], [], [], []
        for _ in range(blocks):
            txs = []
            for _ in range(size):
                s = next_sender % senders
                next_sender += 1
                to = filler_address(rng.randrange(fillers)) if fillers else addr_of(keys[0])
                txs.append(build_tx(keys[s], CHAIN_ID, nonces[s], 1_000, [MsgTransfer(to, 1)]))
                nonces[s] += 1
            t0 = time.perf_counter()
            for raw in txs:
                if app.check_tx(abci.RequestCheckTx(tx=raw)).code != 0:
                    raise SystemExit("a bench tx was refused by CheckTx")
            t1 = time.perf_counter()
            resp = driver.finalize(txs)
            t2 = time.perf_counter()
            app.commit()
            t3 = time.perf_counter()
            driver.height += 1
            if any(r.code != 0 for r in resp.tx_results):
                raise SystemExit("a bench tx failed in FinalizeBlock")
            check_ms.append((t1 - t0) * 1e3)
            finalize_ms.append((t2 - t1) * 1e3)
            hash_ms.append(stage_times[-1] * 1e3)
            commit_ms.append((t3 - t2) * 1e3)
        rows.append(
            {
                "block_txs": size,
                "check_tx_ms_per_tx": round(statistics.median(check_ms) / size, 3),
                "finalize_block_ms": round(statistics.median(finalize_ms), 1),
                "app_hash_ms": round(statistics.median(hash_ms), 1),
                "commit_ms": round(statistics.median(commit_ms), 1),
            }
        )
    keys_count, state_bytes = db.store.stats()  # a full count, not the running one
    files = [path, Path(f"{path}-wal")]
    disk = sum(f.stat().st_size for f in files if f.exists())
    db.close()
    return {
        "accounts": accounts,
        "state_keys": keys_count,
        "state_bytes": state_bytes,
        "sqlite_bytes": disk,
        "rss_mib": round(rss_kib()["VmRSS"] / 1024, 1),
        "peak_rss_mib": round(rss_kib()["VmHWM"] / 1024, 1),
        "blocks_per_size": blocks,
        "rows": rows,
    }


def run(accounts: int, senders: int, sizes: list[int], blocks: int) -> dict[str, Any]:
    """Fill then measure, each in its own process; return the measurement."""
    with tempfile.TemporaryDirectory(prefix="mt-state-") as tmp:
        path = Path(tmp) / "state.sqlite"
        me = [sys.executable, str(Path(__file__).resolve())]
        common = ["--accounts", str(accounts), "--senders", str(senders), "--db", str(path)]
        filled = subprocess.run([*me, "fill", *common], capture_output=True, text=True)
        if filled.returncode != 0:
            raise SystemExit(f"fill failed: {filled.stderr.strip()[-2000:]}")
        sizes_arg = ",".join(str(s) for s in sizes)
        measured = subprocess.run(
            [*me, "measure", *common, "--sizes", sizes_arg, "--blocks", str(blocks)],
            capture_output=True,
            text=True,
        )
        if measured.returncode != 0:
            raise SystemExit(f"measure failed: {measured.stderr.strip()[-2000:]}")
        out: dict[str, Any] = json.loads(measured.stdout)
        out.update(json.loads(filled.stdout))
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("step", nargs="?", choices=["fill", "measure"], help=argparse.SUPPRESS)
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument(
        "--senders", type=int, default=0, help="signing accounts (default: largest size)"
    )
    ap.add_argument("--sizes", default="2000", help="block sizes in txs, comma-separated")
    ap.add_argument("--blocks", type=int, default=5, help="blocks per size (median reported)")
    ap.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    if not sizes or min(sizes) < 1 or args.accounts < 1 or args.blocks < 1:
        ap.error("--accounts, --blocks and every size must be at least 1")
    senders = args.senders or max(sizes)
    if args.step == "fill":
        print(json.dumps(fill(args.db, args.accounts, senders)))
    elif args.step == "measure":
        print(json.dumps(measure(args.db, args.accounts, senders, sizes, args.blocks)))
    else:
        print(
            json.dumps({"cores": os.cpu_count(), **run(args.accounts, senders, sizes, args.blocks)})
        )


if __name__ == "__main__":
    main()
