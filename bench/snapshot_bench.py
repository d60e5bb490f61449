"""State-sync snapshot cost for a chain of N accounts: how long Commit is held up by taking a
snapshot (the synchronous part: pinning a read transaction), how long the background thread
writes it, how much the blocks committed meanwhile slow down, and how long a fresh app takes to
restore it (all chunks applied, verified, swapped in).

    .venv/bin/python bench/snapshot_bench.py --accounts 100000 [--blocks 10]

Prints one JSON object. Works in a temporary folder; no network.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from chain_driver import Driver  # noqa: E402
from state_bench import fill  # noqa: E402

from abci_app._proto.tendermint.abci import types_pb2 as abci  # noqa: E402
from abci_app.app import Application  # noqa: E402
from abci_app.state.db import StateDB  # noqa: E402
from abci_app.state.snapshot import SnapshotStore  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--blocks", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.sqlite"
        fill(path, args.accounts, 10)
        store = SnapshotStore(Path(tmp) / "snaps", interval=0, keep=1)  # taken by hand below
        db = StateDB(path)
        d = Driver(Application(db, check_invariants=False, snapshot_store=store), db.height)

        def block_ms() -> float:
            t = time.perf_counter()
            d.block([])
            return (time.perf_counter() - t) * 1000

        quiet = [block_ms() for _ in range(args.blocks)]
        pinned_hash = d.app.db.app_hash
        t0 = time.perf_counter()
        assert store.take(db.store.path, d.app.db.height, pinned_hash)
        take_ms = (time.perf_counter() - t0) * 1000
        during = []
        while store._thread is not None and store._thread.is_alive():
            during.append(block_ms())
        write_s = time.perf_counter() - t0
        snap = store.list()[0]
        size = sum(f.stat().st_size for f in snap.folder.glob("chunk-*"))
        dst = Application(StateDB(Path(tmp) / "dst.sqlite"), check_invariants=False)
        t1 = time.perf_counter()
        pb = abci.Snapshot(
            height=snap.height,
            format=1,
            chunks=len(snap.metadata.chunk_hashes),
            hash=snap.metadata.hash,
            metadata=snap.metadata.encode(),
        )
        offered = dst.offer_snapshot(abci.RequestOfferSnapshot(snapshot=pb, app_hash=pinned_hash))
        assert offered.result == abci.ResponseOfferSnapshot.ACCEPT
        for i in range(pb.chunks):
            chunk = store.load_chunk(snap.height, 1, i)
            r = dst.apply_snapshot_chunk(abci.RequestApplySnapshotChunk(index=i, chunk=chunk))
            assert r.result == abci.ResponseApplySnapshotChunk.ACCEPT
        restore_s = time.perf_counter() - t1
        assert dst.db.app_hash == pinned_hash
        print(
            json.dumps(
                {
                    "accounts": args.accounts,
                    "entries": snap.metadata.entries,
                    "chunks": pb.chunks,
                    "snapshot_mib": round(size / 2**20, 1),
                    "take_ms": round(take_ms, 2),
                    "background_write_s": round(write_s, 2),
                    "empty_block_ms_quiet_median": round(statistics.median(quiet), 1),
                    "empty_block_ms_during_write_median": round(statistics.median(during), 1)
                    if during
                    else None,
                    "blocks_during_write": len(during),
                    "restore_s": round(restore_s, 2),
                }
            )
        )
        dst.db.close()
        d.close()


if __name__ == "__main__":
    main()
