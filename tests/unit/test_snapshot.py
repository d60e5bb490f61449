"""State-sync snapshots in process: round trip, deterministic bytes, a corrupted chunk refetched,
lying snapshots rejected with no state left behind, pruning, and a snapshot pinned to its height
while later blocks commit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from chain_driver import Driver, genesis_app_state, transfer
from test_determinism import random_blocks, subnet_blocks

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.app import Application
from abci_app.state.db import StateDB
from abci_app.state.snapshot import (
    SnapshotMetadata,
    SnapshotStore,
    decode_entries,
    encode_entry,
)

N = 12
Offer = abci.ResponseOfferSnapshot
Apply = abci.ResponseApplySnapshotChunk


def source_chain(tmp: Path, blocks: int = 30, chunk_bytes: int = 1024) -> tuple[Driver, int]:
    """A chain of transfers and subnet activity whose app snapshots every 10 blocks."""
    store = SnapshotStore(tmp / "snapshots", interval=10, keep=2, chunk_bytes=chunk_bytes)
    d = Driver(Application(StateDB(tmp / "src.sqlite"), True, snapshot_store=store))
    state = genesis_app_state(N)
    state["subnets"] = {"params": {"min_lock_cost": 10**9}}
    d.init_chain(state)
    for txs in subnet_blocks(seed=9, n_blocks=blocks - 2)[:blocks]:
        d.block(txs)
        store.wait()
    return d, d.height


def fresh_app(tmp: Path, name: str = "dst") -> Application:
    return Application(StateDB(tmp / f"{name}.sqlite"), True)


def offer(app: Application, snap: abci.Snapshot, trusted: bytes) -> int:
    return app.offer_snapshot(abci.RequestOfferSnapshot(snapshot=snap, app_hash=trusted)).result


def apply(app: Application, index: int, chunk: bytes, sender: str = "peer-a") -> Apply:
    return app.apply_snapshot_chunk(
        abci.RequestApplySnapshotChunk(index=index, chunk=chunk, sender=sender)
    )


def chunks_of(app: Application, snap: abci.Snapshot) -> list[bytes]:
    return [
        app.load_snapshot_chunk(
            abci.RequestLoadSnapshotChunk(height=snap.height, format=snap.format, chunk=i)
        ).chunk
        for i in range(snap.chunks)
    ]


def all_entries(db: StateDB) -> list[tuple[bytes, bytes]]:
    return list(db.iter_prefix(b""))


def test_round_trip_restores_the_same_state_and_the_chain_continues(tmp_path: Path) -> None:
    src, height = source_chain(tmp_path)
    listed = src.app.list_snapshots(abci.RequestListSnapshots()).snapshots
    assert [s.height for s in listed] == [30, 20]  # keep=2: the snapshot at 10 was pruned
    snap = listed[0]
    assert snap.chunks > 5  # 1 KiB chunks: the restore really streams several chunks
    dst = fresh_app(tmp_path)
    assert offer(dst, snap, src.app.db.app_hash) == Offer.ACCEPT
    results = [apply(dst, i, c).result for i, c in enumerate(chunks_of(src.app, snap))]
    assert results == [Apply.ACCEPT] * snap.chunks
    assert dst.db.height == height
    assert dst.db.app_hash == src.app.db.app_hash
    assert all_entries(dst.db) == all_entries(src.app.db)
    info = dst.info(abci.RequestInfo())
    assert (info.last_block_height, info.last_block_app_hash) == (height, src.app.db.app_hash)
    # the restored node executes the next blocks exactly as the source does
    restored = Driver(dst, height)
    for txs in random_blocks(seed=4, n_blocks=5):
        assert restored.block(txs) == src.block(txs)
    restored.close()
    src.close()


def test_two_nodes_write_byte_identical_snapshots(tmp_path: Path) -> None:
    a, _ = source_chain(tmp_path / "a")
    b, _ = source_chain(tmp_path / "b")
    sa, sb = (
        a.app.list_snapshots(abci.RequestListSnapshots()).snapshots[0],
        b.app.list_snapshots(abci.RequestListSnapshots()).snapshots[0],
    )
    assert (sa.hash, sa.metadata) == (sb.hash, sb.metadata)
    assert chunks_of(a.app, sa) == chunks_of(b.app, sb)
    a.close()
    b.close()


def test_corrupted_chunk_is_refetched_and_its_sender_rejected(tmp_path: Path) -> None:
    src, _ = source_chain(tmp_path)
    snap = src.app.list_snapshots(abci.RequestListSnapshots()).snapshots[0]
    chunks = chunks_of(src.app, snap)
    dst = fresh_app(tmp_path)
    assert offer(dst, snap, src.app.db.app_hash) == Offer.ACCEPT
    assert apply(dst, 0, chunks[0]).result == Apply.ACCEPT
    bad = bytearray(chunks[1])
    bad[len(bad) // 2] ^= 0x01
    resp = apply(dst, 1, bytes(bad), sender="liar")
    assert resp.result == Apply.RETRY
    assert list(resp.refetch_chunks) == [1]
    assert list(resp.reject_senders) == ["liar"]
    # the same chunk from an honest peer goes on where the restore was
    for i in range(1, snap.chunks):
        assert apply(dst, i, chunks[i], sender="honest").result == Apply.ACCEPT
    assert dst.db.app_hash == src.app.db.app_hash
    src.close()


def forged(
    snap: abci.Snapshot, chunks: list[bytes], first: bool = False
) -> tuple[abci.Snapshot, list[bytes]]:
    """The same snapshot with one balance raised (the first account, or with ``first`` the very
    first entry changed), its chunk hashes recomputed to match (the liar controls every one),
    still claiming the true app hash and subtree nodes (or its offer would be refused)."""
    meta = SnapshotMetadata.decode(snap.metadata)
    new_chunks = []
    changed = False
    for c in chunks:
        out = bytearray()
        for k, v in decode_entries(c):
            if not changed and first:
                v = v + b"\x00"
                changed = True
            elif not changed and k.startswith(b"acct/"):
                v = (int.from_bytes(v[:8], "big") + 10**9).to_bytes(8, "big") + v[8:]
                changed = True
            out += encode_entry(k, v)
        new_chunks.append(bytes(out))
    assert changed
    fake = SnapshotMetadata(
        meta.height,
        meta.app_hash,
        meta.entries,
        tuple(hashlib.sha256(c).digest() for c in new_chunks),
        meta.subtrees,
    )
    return (
        abci.Snapshot(
            height=snap.height,
            format=snap.format,
            chunks=snap.chunks,
            hash=fake.hash,
            metadata=fake.encode(),
        ),
        new_chunks,
    )


def apply_until_refused(app: Application, chunks: list[bytes]) -> list[int]:
    results = []
    for i, c in enumerate(chunks):
        results.append(apply(app, i, c).result)
        if results[-1] != Apply.ACCEPT:
            break
    return results


def test_a_forged_snapshot_is_rejected_and_leaves_nothing(tmp_path: Path) -> None:
    src, _ = source_chain(tmp_path)
    snap = src.app.list_snapshots(abci.RequestListSnapshots()).snapshots[0]
    fake, fake_chunks = forged(snap, chunks_of(src.app, snap))
    dst = fresh_app(tmp_path)
    assert offer(dst, fake, src.app.db.app_hash) == Offer.ACCEPT
    results = apply_until_refused(dst, fake_chunks)
    assert results[-1] == Apply.REJECT_SNAPSHOT
    assert set(results[:-1]) <= {Apply.ACCEPT}
    assert dst.db.height == 0
    assert not (tmp_path / "dst.sqlite.restore").exists()
    # then the honest snapshot restores fine
    assert offer(dst, snap, src.app.db.app_hash) == Offer.ACCEPT
    for i, c in enumerate(chunks_of(src.app, snap)):
        assert apply(dst, i, c).result == Apply.ACCEPT
    assert dst.db.app_hash == src.app.db.app_hash
    src.close()


def test_a_lie_is_caught_as_soon_as_its_subtree_is_complete(tmp_path: Path) -> None:
    """The forged entry is the very first: the restore stops within the first chunks, not
    after downloading the whole snapshot."""
    src, _ = source_chain(tmp_path)
    snap = src.app.list_snapshots(abci.RequestListSnapshots()).snapshots[0]
    fake, fake_chunks = forged(snap, chunks_of(src.app, snap), first=True)
    dst = fresh_app(tmp_path)
    assert offer(dst, fake, src.app.db.app_hash) == Offer.ACCEPT
    results = apply_until_refused(dst, fake_chunks)
    assert results[-1] == Apply.REJECT_SNAPSHOT
    assert len(results) <= 2 < snap.chunks
    # a liar that also forges a subtree node to match its content is refused at the offer
    meta = SnapshotMetadata.decode(fake.metadata)
    subtrees = list(meta.subtrees)
    subtrees[0] = hashlib.sha256(b"forged").digest()
    lie = SnapshotMetadata(
        meta.height, meta.app_hash, meta.entries, meta.chunk_hashes, tuple(subtrees)
    )
    fake.hash, fake.metadata = lie.hash, lie.encode()
    assert offer(fresh_app(tmp_path, "other"), fake, src.app.db.app_hash) == Offer.REJECT
    src.close()


def test_offers_that_cannot_be_right_are_refused_before_any_download(tmp_path: Path) -> None:
    src, _ = source_chain(tmp_path, blocks=10)
    snap = src.app.list_snapshots(abci.RequestListSnapshots()).snapshots[0]
    trusted = src.app.db.app_hash
    dst = fresh_app(tmp_path)
    assert offer(dst, snap, b"\x01" * 32) == Offer.REJECT  # not the trusted app hash

    def variant(**kw: object) -> abci.Snapshot:
        s = abci.Snapshot()
        s.CopyFrom(snap)
        for k, v in kw.items():
            setattr(s, k, v)
        return s

    assert offer(dst, variant(format=2), trusted) == Offer.REJECT_FORMAT
    assert offer(dst, variant(metadata=snap.metadata[:-1]), trusted) == Offer.REJECT
    assert offer(dst, variant(metadata=b""), trusted) == Offer.REJECT
    assert offer(dst, variant(hash=b"\x00" * 32), trusted) == Offer.REJECT
    assert offer(dst, variant(height=snap.height + 1), trusted) == Offer.REJECT
    assert offer(dst, variant(chunks=snap.chunks + 1), trusted) == Offer.REJECT
    # a chunk before any accepted offer, and an offer to a node that has state, abort
    assert apply(fresh_app(tmp_path, "other"), 0, b"").result == Apply.ABORT
    assert offer(src.app, snap, trusted) == Offer.ABORT
    src.close()


@pytest.mark.parametrize("damage", ["truncated", "unordered", "extra"])
def test_malformed_chunk_content_rejects_the_snapshot(tmp_path: Path, damage: str) -> None:
    src, _ = source_chain(tmp_path, blocks=10, chunk_bytes=1 << 20)
    snap = src.app.list_snapshots(abci.RequestListSnapshots()).snapshots[0]
    (chunk,) = chunks_of(src.app, snap)
    entries = list(decode_entries(chunk))
    if damage == "truncated":
        bad = chunk[:-3]
    elif damage == "unordered":
        entries[0], entries[1] = entries[1], entries[0]
        bad = b"".join(encode_entry(k, v) for k, v in entries)
    else:  # a duplicate entry
        bad = chunk + encode_entry(*entries[-1])
    meta = SnapshotMetadata.decode(snap.metadata)
    lie = SnapshotMetadata(
        meta.height, meta.app_hash, meta.entries, (hashlib.sha256(bad).digest(),), meta.subtrees
    )
    fake = abci.Snapshot(
        height=snap.height, format=1, chunks=1, hash=lie.hash, metadata=lie.encode()
    )
    dst = fresh_app(tmp_path)
    assert offer(dst, fake, src.app.db.app_hash) == Offer.ACCEPT
    assert apply(dst, 0, bad).result == Apply.REJECT_SNAPSHOT
    assert dst.db.height == 0
    src.close()


def test_snapshot_is_pinned_to_its_height_while_blocks_commit(tmp_path: Path) -> None:
    """take() opens the read transaction before returning: blocks committed while the
    background thread writes do not leak into the snapshot."""
    store = SnapshotStore(tmp_path / "snaps", interval=5, chunk_bytes=256)
    d = Driver(Application(StateDB(tmp_path / "s.sqlite"), True, snapshot_store=store))
    d.init_chain(genesis_app_state(N))
    hashes = {}
    for h in range(1, 9):
        d.block([transfer(h, h + 1, 1000 + h, 0)])
        hashes[h] = d.app.db.app_hash
    store.wait()
    (snap,) = d.app.list_snapshots(abci.RequestListSnapshots()).snapshots
    assert snap.height == 5
    assert SnapshotMetadata.decode(snap.metadata).app_hash == hashes[5] != hashes[8]
    dst = fresh_app(tmp_path)
    assert offer(dst, snap, hashes[5]) == Offer.ACCEPT
    for i, c in enumerate(chunks_of(d.app, snap)):
        assert apply(dst, i, c).result == Apply.ACCEPT
    assert dst.db.height == 5 and dst.db.app_hash == hashes[5]
    d.close()


def test_interrupted_snapshot_folders_are_removed_and_bad_requests_give_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "s" / "000000000010.tmp").mkdir(parents=True)
    store = SnapshotStore(tmp_path / "s", interval=10)
    assert not (tmp_path / "s" / "000000000010.tmp").exists()
    assert store.list() == []
    assert store.load_chunk(10, 1, 0) == b""
    assert store.load_chunk(10, 2, 0) == b""
    assert store.load_chunk(-1, 1, -5) == b""
    with pytest.raises(ValueError):
        SnapshotStore(tmp_path / "t", interval=-1)
