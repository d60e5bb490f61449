"""In-process cost per tx of each ABCI step on the transaction path, without sockets or
cometbft: a 2,000-transfer block from 200 funded accounts through CheckTx (first check: decode
and verify), a recheck of the same txs (decoded-tx cache warm), PrepareProposal, FinalizeBlock
and Commit. Each step is repeated and the minimum reported (the least disturbed run), which is
what the fast-path changes were compared with.

    .venv/bin/python bench/tx_path_bench.py [--txs 2000] [--repeat 7]

Prints one JSON object (microseconds per tx; Commit in ms per block). No network.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from chain_driver import CHAIN_ID, Driver, genesis_app_state  # noqa: E402
from harness import seeded_key  # noqa: E402

from abci_app._proto.tendermint.abci import types_pb2 as abci  # noqa: E402
from abci_app.app import Application  # noqa: E402
from abci_app.state.db import StateDB  # noqa: E402
from abci_app.tools.loadgen import presign_transfers  # noqa: E402

ACCOUNTS = 200


def measure(txs_per_block: int, repeat: int) -> dict[str, float]:
    keys = [seeded_key(i) for i in range(ACCOUNTS)]
    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, seconds), seconds)

    with tempfile.TemporaryDirectory(prefix="mt-txpath-") as tmp:
        driver = Driver(Application(StateDB(Path(tmp) / "state.sqlite"), False))
        driver.init_chain(genesis_app_state(ACCOUNTS))
        driver.block([])
        nonces = [0] * ACCOUNTS
        for _ in range(repeat):
            streams = presign_transfers(keys, CHAIN_ID, txs_per_block, start_nonces=nonces)
            txs = [raw for stream in streams for raw in stream]
            nonces = [n + len(stream) for n, stream in zip(nonces, streams, strict=True)]
            app = driver.app
            t0 = time.perf_counter()
            codes = [driver.check(raw).code for raw in txs]
            t1 = time.perf_counter()
            app._reset_check_state()  # what Commit does; the mempool then rechecks
            for raw in txs:
                driver.check(raw)
            t2 = time.perf_counter()
            request = abci.RequestPrepareProposal(
                txs=txs, max_tx_bytes=10**8, height=driver.height + 1
            )
            prepared = app.prepare_proposal(request).txs
            t3 = time.perf_counter()
            resp = driver.finalize(txs)
            t4 = time.perf_counter()
            app.commit()
            driver.height += 1
            t5 = time.perf_counter()
            if any(codes) or len(prepared) != len(txs) or any(r.code for r in resp.tx_results):
                raise SystemExit("a bench tx was refused")
            n = len(txs)
            keep("check_tx_first_us", (t1 - t0) / n * 1e6)
            keep("recheck_us", (t2 - t1) / n * 1e6)
            keep("prepare_proposal_us", (t3 - t2) / n * 1e6)
            keep("finalize_block_us", (t4 - t3) / n * 1e6)
            keep("commit_ms_per_block", (t5 - t4) * 1e3)
        driver.close()
    return {k: round(v, 1) for k, v in best.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--txs", type=int, default=2_000, help="transfers per block")
    ap.add_argument("--repeat", type=int, default=7, help="blocks measured (minimum reported)")
    args = ap.parse_args()
    if args.txs < 1 or args.repeat < 1:
        ap.error("--txs and --repeat must be at least 1")
    print(json.dumps({"txs_per_block": args.txs, **measure(args.txs, args.repeat)}))


if __name__ == "__main__":
    main()
