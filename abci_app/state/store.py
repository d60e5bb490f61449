"""The committed consensus state in SQLite.

Tables: ``kv`` (key, value, bucket) holds every state entry; ``buckets`` holds the Merkle bucket
hashes so the tree is rebuilt at start without reading all of state; ``meta`` holds the last
committed height and app hash. :meth:`Store.commit` writes all three in ONE transaction, so after
a crash the store is either at the previous block or at the new one, never in between, and
CometBFT's handshake replays whatever blocks the app is missing.

WAL mode with ``synchronous=NORMAL``: a commit survives the app being killed (the WAL is in the
OS page cache); an OS crash may lose the last blocks, which CometBFT then replays from its block
store. No per-transaction fsync.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

from .merkle import bucket_of

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL, bucket INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_bucket ON kv(bucket);
CREATE TABLE IF NOT EXISTS buckets (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


class Store:
    """Committed state. Reads see only what the last Commit wrote."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # --- reads -------------------------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def bucket_entries(self, bucket: int) -> list[tuple[bytes, bytes]]:
        rows = self._db.execute(
            "SELECT key, value FROM kv WHERE bucket = ? ORDER BY key", (bucket,)
        ).fetchall()
        return [(bytes(k), bytes(v)) for k, v in rows]

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Committed entries whose key starts with ``prefix``, in key order."""
        end = _prefix_end(prefix)
        if end is None:
            cur = self._db.execute(
                "SELECT key, value FROM kv WHERE key >= ? ORDER BY key", (prefix,)
            )
        else:
            cur = self._db.execute(
                "SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key", (prefix, end)
            )
        for k, v in cur:
            yield bytes(k), bytes(v)

    def bucket_hashes(self) -> dict[int, bytes]:
        return {int(i): bytes(h) for i, h in self._db.execute("SELECT idx, hash FROM buckets")}

    def last_height(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'height'").fetchone()
        return 0 if row is None else int(bytes(row[0]).decode())

    def last_app_hash(self) -> bytes:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'app_hash'").fetchone()
        return b"" if row is None else bytes(row[0])

    def stats(self) -> tuple[int, int]:
        """(number of keys, bytes of keys and values): for metrics and benchmarks."""
        row = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) FROM kv"
        ).fetchone()
        return int(row[0]), int(row[1])

    # --- the one write path ------------------------------------------------------------------
    def commit(
        self,
        writes: Mapping[bytes, bytes | None],
        bucket_hashes: Mapping[int, bytes],
        height: int,
        app_hash: bytes,
    ) -> None:
        """Persist a block's writes, its bucket hashes, height and app hash atomically."""
        puts = [(k, v, bucket_of(k)) for k, v in sorted(writes.items()) if v is not None]
        dels = [(k,) for k, v in sorted(writes.items()) if v is None]
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if puts:
                db.executemany(
                    "INSERT OR REPLACE INTO kv (key, value, bucket) VALUES (?, ?, ?)", puts
                )
            if dels:
                db.executemany("DELETE FROM kv WHERE key = ?", dels)
            if bucket_hashes:
                db.executemany(
                    "INSERT OR REPLACE INTO buckets (idx, hash) VALUES (?, ?)",
                    sorted(bucket_hashes.items()),
                )
            db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [("height", str(height).encode()), ("app_hash", app_hash)],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _prefix_end(prefix: bytes) -> bytes | None:
    """Smallest key greater than every key with ``prefix``; None when there is none."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return None
    p[-1] += 1
    return bytes(p)
