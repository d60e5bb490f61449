"""State-sync snapshots of the committed state: format, taking, storing, serving and restoring.

Format 1. A snapshot of height H is every ``kv`` entry of the committed state after H, in
(Merkle bucket, key) order, the order the table is clustered in, so it is the same bytes on
every node (deterministic content: CometBFT treats snapshots with different bytes as different
snapshots). Entries are ``uvarint(len key) || key || uvarint(len value) || value``, cut into
chunks of about ``chunk_bytes`` at entry boundaries (default 1 MiB, far below CometBFT's 16 MB
chunk message limit). The metadata (below 4 MB for any state up to ~100 GiB) is::

    b"MTSNAP" || u8 format || u64 height || app_hash[32] || u64 entries || u32 chunks
              || sha256(chunk_0) || ... || sha256(chunk_n-1) || subtree_0[32] || ... || subtree_255

and the snapshot's ``hash`` is sha256(metadata). The subtrees are the 256 nodes of the app-hash
Merkle tree 8 levels above the buckets (each covers 256 buckets). What is trusted is the app hash
from CometBFT's light client: the offer is refused unless the subtrees hash up to it, and as the
entries stream by in bucket order each subtree, once complete, must hash to its node, so a peer
lying about the content is caught within 1/256 of the state (plus a chunk), not after all of
it. The per-chunk hashes only find which chunk a peer corrupted (a liar controls all of them).

Taking one (Cosmos SDK's snapshot manager is the model): right after the Commit of a height
divisible by ``interval`` a second SQLite connection opens a read transaction, which pins that
committed state (WAL isolation), and a background thread streams it into files; consensus goes
on meanwhile. Files are written into a temporary folder that is renamed when complete, so a
crash leaves no half snapshot; the newest ``keep`` snapshots are kept.

Restoring: chunks arrive in order (CometBFT applies them in order) and are written into a
temporary database beside the real one, computing each bucket's hash as its entries stream by.
After the last chunk the Merkle root is compared with the trusted app hash; only then is the
temporary database renamed over the (empty) state, so a crash in the middle of a restore leaves
the node as it was before the restore began.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import sqlite3
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..codec import decode_uvarint, encode_uvarint
from .merkle import (
    EMPTY_BUCKET,
    NUM_BUCKETS,
    MerkleTree,
    bucket_hash_of_leaves,
    bucket_of,
    leaf_hash,
    node_hash,
    value_hash,
)
from .store import Store

log = logging.getLogger("moderntensor.snapshot")

FORMAT = 1
MAGIC = b"MTSNAP"
DEFAULT_CHUNK_BYTES = 1 << 20
MAX_CHUNKS = 100_000
"""A snapshot offered with more chunks is refused before anything is downloaded (100,000 x 1 MiB
is ~100 GiB; the metadata then is 3.2 MB, under CometBFT's 4 MB snapshot message)."""
_HEADER = struct.Struct(">6sBQ32sQI")
SUBTREE_LEVEL = 8
"""Metadata carries the tree's nodes at this level (0 = buckets): 2^(DEPTH-8) = 256 of them."""
NUM_SUBTREES = NUM_BUCKETS >> SUBTREE_LEVEL


class SnapshotError(Exception):
    """A snapshot is malformed, inconsistent, or does not match the trusted app hash."""


class ChunkHashMismatch(SnapshotError):
    """A chunk's bytes do not hash to what the snapshot's metadata says (refetch it)."""


@dataclass(frozen=True)
class SnapshotMetadata:
    """What a snapshot claims about itself; only the chunk hashes are used before the root check."""

    height: int
    app_hash: bytes
    entries: int
    chunk_hashes: tuple[bytes, ...]
    subtrees: tuple[bytes, ...]
    """The tree's NUM_SUBTREES nodes at SUBTREE_LEVEL (they hash up to the app hash)."""
    format: int = FORMAT

    def encode(self) -> bytes:
        head = _HEADER.pack(
            MAGIC, self.format, self.height, self.app_hash, self.entries, len(self.chunk_hashes)
        )
        return head + b"".join(self.chunk_hashes) + b"".join(self.subtrees)

    @classmethod
    def decode(cls, data: bytes) -> SnapshotMetadata:
        """Parse metadata; raise SnapshotError for anything malformed or out of bounds."""
        if len(data) < _HEADER.size:
            raise SnapshotError("snapshot metadata is truncated")
        magic, fmt, height, app_hash, entries, n = _HEADER.unpack_from(data)
        if magic != MAGIC or fmt != FORMAT:
            raise SnapshotError("snapshot metadata is not ModernTensor format 1")
        if not 1 <= n <= MAX_CHUNKS:
            raise SnapshotError(f"snapshot has {n} chunks (allowed 1..{MAX_CHUNKS})")
        if len(data) != _HEADER.size + 32 * (n + NUM_SUBTREES):
            raise SnapshotError("snapshot metadata length does not match its chunk count")
        hashes = _split32(data[_HEADER.size : _HEADER.size + 32 * n])
        subtrees = _split32(data[_HEADER.size + 32 * n :])
        return cls(height, app_hash, entries, hashes, subtrees, fmt)

    @property
    def hash(self) -> bytes:
        return hashlib.sha256(self.encode()).digest()


def _split32(data: bytes) -> tuple[bytes, ...]:
    return tuple(bytes(data[i : i + 32]) for i in range(0, len(data), 32))


def fold(nodes: list[bytes]) -> bytes:
    """The root of a complete binary tree over ``nodes`` (a power of two of them)."""
    while len(nodes) > 1:
        nodes = [node_hash(nodes[i], nodes[i + 1]) for i in range(0, len(nodes), 2)]
    return nodes[0]


def encode_entry(key: bytes, value: bytes) -> bytes:
    return encode_uvarint(len(key)) + key + encode_uvarint(len(value)) + value


def decode_entries(chunk: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The entries of one chunk; raise SnapshotError if it is not a whole number of entries."""
    pos = 0
    end = len(chunk)
    while pos < end:
        parts = []
        for _ in range(2):
            try:
                got = decode_uvarint(chunk, pos)
            except ValueError as e:
                raise SnapshotError(f"bad length in chunk: {e}") from None
            if got is None:
                raise SnapshotError("chunk ends inside an entry")
            size, pos = got
            if pos + size > end:
                raise SnapshotError("chunk ends inside an entry")
            parts.append(bytes(chunk[pos : pos + size]))
            pos += size
        yield parts[0], parts[1]


# --- taking and storing ----------------------------------------------------------------------
@dataclass(frozen=True)
class StoredSnapshot:
    height: int
    metadata: SnapshotMetadata
    folder: Path


def write_snapshot(
    conn: sqlite3.Connection, height: int, app_hash: bytes, folder: Path, chunk_bytes: int
) -> SnapshotMetadata:
    """Stream the state that ``conn``'s open read transaction sees into chunk files in
    ``folder`` (which must exist) and its metadata; return the metadata."""
    hashes: list[bytes] = []
    entries = 0
    buf = bytearray()

    def flush() -> None:
        index = len(hashes)
        (folder / f"chunk-{index:06d}").write_bytes(buf)
        hashes.append(hashlib.sha256(buf).digest())
        buf.clear()

    cur = conn.execute("SELECT key, value FROM kv ORDER BY bucket, key")
    while rows := cur.fetchmany(4096):
        for key, value in rows:
            buf += encode_entry(key, value)
            entries += 1
            if len(buf) >= chunk_bytes:
                flush()
    if buf or not hashes:
        flush()
    buckets = {int(i): bytes(h) for i, h in conn.execute("SELECT idx, hash FROM buckets")}
    subtrees = tuple(MerkleTree(buckets).levels[SUBTREE_LEVEL])
    meta = SnapshotMetadata(height, app_hash, entries, tuple(hashes), subtrees)
    (folder / "metadata").write_bytes(meta.encode())
    return meta


class SnapshotStore:
    """Snapshots on disk under ``root`` (one folder per height); takes them in the background.

    ``interval`` 0 turns taking snapshots off (serving and restoring still work).
    """

    def __init__(
        self,
        root: Path,
        interval: int = 0,
        keep: int = 2,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ) -> None:
        if interval < 0 or keep < 1 or chunk_bytes < 1:
            raise ValueError("snapshot interval >= 0, keep >= 1 and chunk size >= 1 are required")
        self.root = root
        self.interval = interval
        self.keep = keep
        self.chunk_bytes = chunk_bytes
        self._thread: threading.Thread | None = None
        self.taken: list[int] = []
        """Heights snapshotted by this process (for tests and logs)."""
        root.mkdir(parents=True, exist_ok=True)
        # a snapshot interrupted by a crash (the store is created once, by the app, at start;
        # readers use stored_snapshots(), which removes nothing)
        for leftover in root.glob("*.tmp"):
            shutil.rmtree(leftover, ignore_errors=True)

    def due(self, height: int) -> bool:
        return self.interval > 0 and height > 0 and height % self.interval == 0

    def take(self, db_path: str, height: int, app_hash: bytes) -> bool:
        """Pin the state just committed at ``height`` and write it out on a background thread.

        Call right after Commit, before the next block can be committed. Returns False (and
        takes nothing) while an earlier snapshot is still being written.
        """
        if self._thread is not None and self._thread.is_alive():
            log.warning("snapshot at %d skipped: the previous one is still being written", height)
            return False
        conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        conn.execute("BEGIN")
        row = conn.execute("SELECT value FROM meta WHERE name = 'height'").fetchone()
        pinned = 0 if row is None else int(bytes(row[0]).decode())
        if pinned != height:  # cannot happen when called right after Commit
            conn.execute("ROLLBACK")
            conn.close()
            log.error("snapshot at %d skipped: the database is at height %d", height, pinned)
            return False
        self._thread = threading.Thread(
            target=self._write, args=(conn, height, app_hash), name="snapshot", daemon=True
        )
        self._thread.start()
        return True

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for a snapshot being written (tests; and before closing the store)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _write(self, conn: sqlite3.Connection, height: int, app_hash: bytes) -> None:
        tmp = self.root / f"{height:012d}.tmp"
        final = self.root / f"{height:012d}"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            meta = write_snapshot(conn, height, app_hash, tmp, self.chunk_bytes)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            self.taken.append(height)
            log.info(
                "snapshot at height %d: %d entries in %d chunks",
                height,
                meta.entries,
                len(meta.chunk_hashes),
            )
            self._prune()
        except (OSError, sqlite3.Error) as e:  # a snapshot is a convenience: never stop the node
            log.error("snapshot at height %d failed: %s", height, e)
            shutil.rmtree(tmp, ignore_errors=True)
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            conn.close()

    def _prune(self) -> None:
        for old in self.list()[self.keep :]:
            shutil.rmtree(old.folder, ignore_errors=True)

    def list(self) -> list[StoredSnapshot]:
        """Complete snapshots, newest first (a folder that fails to parse is skipped)."""
        return stored_snapshots(self.root)

    def load_chunk(self, height: int, fmt: int, index: int) -> bytes:
        """A chunk's bytes, or b"" if there is no such snapshot or chunk (pruned meanwhile)."""
        if fmt != FORMAT or not 0 <= index < MAX_CHUNKS or height < 0:
            return b""
        try:
            return (self.root / f"{height:012d}" / f"chunk-{index:06d}").read_bytes()
        except OSError:
            return b""


def stored_snapshots(root: Path) -> list[StoredSnapshot]:
    """The complete snapshots in ``root``, newest first, read without taking ownership (a
    :class:`SnapshotStore` is the one owner: it removes interrupted snapshots when created)."""
    out = []
    for folder in root.iterdir() if root.is_dir() else []:
        if not folder.name.isdigit():
            continue
        try:
            meta = SnapshotMetadata.decode((folder / "metadata").read_bytes())
        except (OSError, SnapshotError):
            continue
        out.append(StoredSnapshot(meta.height, meta, folder))
    return sorted(out, key=lambda s: s.height, reverse=True)


# --- restoring -------------------------------------------------------------------------------
class Restore:
    """One restore in progress into a temporary database at ``path``.

    ``trusted_app_hash`` comes from CometBFT's light client (OfferSnapshot), never from the peer.
    """

    def __init__(self, path: Path, meta: SnapshotMetadata, trusted_app_hash: bytes) -> None:
        self.path = path
        self.meta = meta
        self.trusted_app_hash = trusted_app_hash
        self.next_index = 0
        self.entries = 0
        self._last: tuple[int, bytes] | None = None
        self._bucket: int | None = None
        self._leaves: dict[bytes, bytes] = {}
        self.bucket_hashes: dict[int, bytes] = {}
        self._verified_subtrees = 0
        if fold(list(meta.subtrees)) != trusted_app_hash:
            raise SnapshotError("the snapshot's subtree hashes do not hash to the trusted app hash")
        discard(path)
        self.store = Store(path)

    def apply(self, index: int, chunk: bytes) -> bool:
        """Verify and write chunk ``index``; True after the last chunk.

        Raises ChunkHashMismatch (nothing written: refetch it from another peer) or SnapshotError
        (the snapshot itself is bad: give it up).
        """
        if index != self.next_index:
            raise SnapshotError(f"chunk {index} arrived, expected chunk {self.next_index}")
        if hashlib.sha256(chunk).digest() != self.meta.chunk_hashes[index]:
            raise ChunkHashMismatch(f"chunk {index} does not match the snapshot's chunk hash")
        rows = []
        for key, value in decode_entries(chunk):
            b = bucket_of(key)
            if self._last is not None and (b, key) <= self._last:
                raise SnapshotError("snapshot entries are not in strict (bucket, key) order")
            self._last = (b, key)
            if b != self._bucket:
                self._close_bucket()
                self._verify_subtrees(b >> SUBTREE_LEVEL)  # those before b's are complete
                self._bucket = b
            leaf = leaf_hash(key, value_hash(value))
            self._leaves[key] = leaf
            rows.append((b, key, value, leaf))
        self.entries += len(rows)
        self.store.insert_rows(rows)
        self.next_index += 1
        return self.next_index == len(self.meta.chunk_hashes)

    def _close_bucket(self) -> None:
        if self._bucket is not None:
            self.bucket_hashes[self._bucket] = bucket_hash_of_leaves(self._leaves)
        self._leaves = {}

    def _verify_subtrees(self, below: int) -> None:
        """Check every subtree numbered below ``below`` (all their entries have streamed by)
        against the metadata, which was checked against the trusted app hash."""
        per = 1 << SUBTREE_LEVEL
        for k in range(self._verified_subtrees, below):
            got = fold(
                [self.bucket_hashes.get(b, EMPTY_BUCKET) for b in range(k * per, (k + 1) * per)]
            )
            if got != self.meta.subtrees[k]:
                raise SnapshotError(f"entries of subtree {k} do not hash to the snapshot's node")
        self._verified_subtrees = max(self._verified_subtrees, below)

    def finish(self) -> None:
        """After the last chunk: check the Merkle root against the trusted app hash and record
        height and app hash; raise SnapshotError (and leave nothing) on any mismatch."""
        self._close_bucket()
        self._bucket = None
        self._verify_subtrees(NUM_SUBTREES)
        if self.entries != self.meta.entries:
            raise SnapshotError(
                f"snapshot has {self.entries} entries, its metadata says {self.meta.entries}"
            )
        root = MerkleTree(self.bucket_hashes).root
        if root != self.trusted_app_hash:
            raise SnapshotError(
                f"restored state has app hash {root.hex()}, the trusted header says "
                f"{self.trusted_app_hash.hex()}"
            )
        self.store.finish_restore(self.bucket_hashes, self.meta.height, root)
        self.store.close()

    def abort(self) -> None:
        self.store.close()
        discard(self.path)


def discard(path: Path) -> None:
    """Remove a SQLite database and its WAL and shared-memory files, if present."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def swap_in(restored: Path, live: Path) -> None:
    """Make the restored database (closed, checkpointed) the live one (closed, and empty)."""
    for suffix in ("-wal", "-shm"):
        for path in (restored, live):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{path}{suffix}")
    os.replace(restored, live)
    dir_fd = os.open(live.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
