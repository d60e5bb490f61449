"""State sync against a hostile peer, through the app's ABCI methods (DESIGN.md section 8: "lying
state-sync peers: the chain recovers with the same app hash and nothing committed is lost").

What a peer controls is everything in an offered snapshot except the app hash (CometBFT's light
client gives that) and every chunk's bytes. Here: absurd offers, chunks out of order, repeated or
duplicated across chunks, memory held by a restore in progress, and the node that was killed
after its restore was swapped in but before CometBFT recorded it.
"""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

from chain_driver import Driver
from test_snapshot import (
    Apply,
    Offer,
    all_entries,
    apply,
    chunks_of,
    fresh_app,
    offer,
    source_chain,
)

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.app import Application
from abci_app.state.db import StateDB
from abci_app.state.merkle import MerkleTree, bucket_hash, bucket_of, value_hash
from abci_app.state.snapshot import (
    SUBTREE_LEVEL,
    Restore,
    SnapshotMetadata,
    decode_entries,
    encode_entry,
)


def snapshot_of(meta: SnapshotMetadata) -> abci.Snapshot:
    return abci.Snapshot(
        height=meta.height,
        format=meta.format,
        chunks=len(meta.chunk_hashes),
        hash=meta.hash,
        metadata=meta.encode(),
    )


def synthetic(
    entries: list[tuple[bytes, bytes]], height: int, per_chunk: int
) -> tuple[SnapshotMetadata, list[bytes]]:
    """A self-consistent snapshot of arbitrary entries (what a peer can send: the restore checks
    the Merkle commitment, not what the entries mean), ``per_chunk`` entries a chunk."""
    entries = sorted(entries, key=lambda kv: (bucket_of(kv[0]), kv[0]))
    by_bucket: dict[int, list[tuple[bytes, bytes]]] = {}
    for k, v in entries:
        by_bucket.setdefault(bucket_of(k), []).append((k, value_hash(v)))
    tree = MerkleTree({b: bucket_hash(kvs) for b, kvs in by_bucket.items()})
    chunks = [
        b"".join(encode_entry(k, v) for k, v in entries[i : i + per_chunk])
        for i in range(0, len(entries), per_chunk)
    ]
    meta = SnapshotMetadata(
        height,
        tree.root,
        len(entries),
        tuple(hashlib.sha256(c).digest() for c in chunks),
        tuple(tree.levels[SUBTREE_LEVEL]),
    )
    return meta, chunks


def test_absurd_offers_are_refused(tmp_path: Path) -> None:
    """Height 0 (no block has state at 0: the restored node would report no state), and a
    claimed chunk count beyond the format's bound, are refused before anything is fetched."""
    meta, _ = synthetic([(b"acct/x", b"1")], height=0, per_chunk=1)
    dst = fresh_app(tmp_path)
    assert offer(dst, snapshot_of(meta), meta.app_hash) == Offer.REJECT
    huge = snapshot_of(meta)
    huge.height, huge.chunks = 7, 2**32 - 1
    assert offer(dst, huge, meta.app_hash) == Offer.REJECT
    assert dst.snapshots.restore is None  # type: ignore[attr-defined]
    assert not (tmp_path / "dst.sqlite.restore").exists()


def test_chunks_out_of_order_repeated_or_after_abort_are_refused(tmp_path: Path) -> None:
    src, _ = source_chain(tmp_path, blocks=10)
    snap = src.app.list_snapshots(abci.RequestListSnapshots()).snapshots[0]
    chunks = chunks_of(src.app, snap)
    assert len(chunks) >= 3
    trusted = src.app.db.app_hash
    dst = fresh_app(tmp_path)
    # out of order: the restore is given up, nothing is left on disk
    assert offer(dst, snap, trusted) == Offer.ACCEPT
    assert apply(dst, 1, chunks[1]).result == Apply.REJECT_SNAPSHOT
    assert not (tmp_path / "dst.sqlite.restore").exists()
    assert apply(dst, 0, chunks[0]).result == Apply.ABORT  # nothing in progress any more
    # a chunk applied twice
    assert offer(dst, snap, trusted) == Offer.ACCEPT
    assert apply(dst, 0, chunks[0]).result == Apply.ACCEPT
    assert apply(dst, 0, chunks[0]).result == Apply.REJECT_SNAPSHOT
    # a new offer aborts the restore in progress and starts over
    assert offer(dst, snap, trusted) == Offer.ACCEPT
    assert apply(dst, 0, chunks[0]).result == Apply.ACCEPT
    assert offer(dst, snap, trusted) == Offer.ACCEPT
    for i, c in enumerate(chunks):
        assert apply(dst, i, c).result == Apply.ACCEPT
    assert dst.db.app_hash == trusted and all_entries(dst.db) == all_entries(src.app.db)
    src.close()


def test_an_entry_repeated_across_chunks_rejects_the_snapshot(tmp_path: Path) -> None:
    """The last entry of chunk 0 again at the start of chunk 1 (a key written twice would make
    the database and the hashed entries differ): rejected, nothing left."""
    entries = [(f"acct/{i:04d}".encode(), b"v" * (i % 7)) for i in range(300)]
    meta, chunks = synthetic(entries, height=5, per_chunk=100)
    last = list(decode_entries(chunks[0]))[-1]
    chunks[1] = encode_entry(*last) + chunks[1]
    lie = SnapshotMetadata(
        meta.height,
        meta.app_hash,
        meta.entries + 1,
        tuple(hashlib.sha256(c).digest() for c in chunks),
        meta.subtrees,
    )
    dst = fresh_app(tmp_path)
    assert offer(dst, snapshot_of(lie), meta.app_hash) == Offer.ACCEPT
    assert apply(dst, 0, chunks[0]).result == Apply.ACCEPT
    assert apply(dst, 1, chunks[1]).result == Apply.REJECT_SNAPSHOT
    assert dst.db.height == 0 and not (tmp_path / "dst.sqlite.restore").exists()


def test_memory_held_by_a_restore_does_not_grow_with_the_chunk(tmp_path: Path) -> None:
    """A peer chooses the chunk: 16 MB (CometBFT's limit) of tiny entries is ~1.6 million of
    them. Writing a chunk must hold a bounded batch of them, not the whole chunk (the old code
    built every row of the chunk in memory first: ~300 bytes an entry, 320 MiB of RSS for an
    8 MB chunk of a million entries)."""
    n = 20_000
    entries = [(b"k" + i.to_bytes(4, "big"), b"") for i in range(n)]
    meta, (chunk,) = synthetic(entries, height=9, per_chunk=n)
    restore = Restore(tmp_path / "r.sqlite", meta, meta.app_hash)
    tracemalloc.start()
    try:
        assert restore.apply(0, chunk) is True
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    restore.finish()
    assert peak < 40 * n  # under 40 bytes an entry of the chunk (the old code: > 200)
    db = StateDB(tmp_path / "r.sqlite")
    assert (db.height, db.app_hash) == (9, meta.app_hash)
    assert len(all_entries(db)) == n
    db.close()


def test_a_restore_killed_before_cometbft_recorded_it_is_done_again(tmp_path: Path) -> None:
    """CometBFT records the synced state only after the last chunk is applied and Info checked
    (node/setup.go startStateSync: Bootstrap, SaveSeenCommit). A node killed in between has the
    restored state in the app and no state in CometBFT, which then state-syncs again at its next
    start: the app must take a new snapshot over a restored state no block was committed on
    (the old code answered ABORT, and CometBFT's state sync then stops for good: the node never
    starts). Once a block is committed on it, the state is the node's own and is never replaced."""
    src, height = source_chain(tmp_path)
    snap = src.app.list_snapshots(abci.RequestListSnapshots()).snapshots[0]
    chunks = chunks_of(src.app, snap)
    trusted = src.app.db.app_hash
    dst = fresh_app(tmp_path)
    assert offer(dst, snap, trusted) == Offer.ACCEPT
    for i, c in enumerate(chunks):
        assert apply(dst, i, c).result == Apply.ACCEPT
    dst.db.close()  # killed here: a new process opens the same state
    again = Application(StateDB(tmp_path / "dst.sqlite"), True)
    assert again.db.height == height
    assert offer(again, snap, trusted) == Offer.ACCEPT
    for i, c in enumerate(chunks):
        assert apply(again, i, c).result == Apply.ACCEPT
    assert (again.db.height, again.db.app_hash) == (height, trusted)
    # the node goes on: its first block makes the state its own
    node = Driver(again, height)
    assert node.block([]) == src.block([])
    assert offer(again, snap, trusted) == Offer.ABORT
    node.close()
    src.close()
