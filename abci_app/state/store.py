"""The committed consensus state in SQLite. Tables: ``kv`` (bucket, key, value, leaf) holds every
state entry, clustered by (bucket, key) so that staging a block reads each touched bucket as one
contiguous range, with the entry's Merkle leaf hash stored beside it so that it is not
recomputed; a unique index on ``key`` serves prefix scans. ``buckets`` holds the Merkle bucket
hashes so the tree is rebuilt at start without reading all of state; ``meta`` holds the last
committed height and app hash (and ``restored`` from a state-sync restore until the first Commit
on it: not state, never hashed). (A state written by an earlier version, keyed by ``key`` alone,
is migrated when opened.) :meth:`Store.commit` writes all three in ONE transaction, so after a
crash the store is either at the previous block or at the new one, never in between, and
CometBFT's handshake replays whatever blocks the app is missing.

WAL mode with ``synchronous=NORMAL``: a commit survives the app being killed (the WAL is in the
OS page cache); an OS crash may lose the last blocks, which CometBFT then replays from its block
store. No per-transaction fsync.

Checkpoints (copying the WAL back into the database file, with an fsync) do not run inside
Commit: a block of random accounts dirties thousands of pages and SQLite's automatic checkpoint
would then run on nearly every Commit. A background thread with its own connection runs a
PASSIVE checkpoint after each Commit instead (SQLite makes that safe against concurrent writes
and against a kill at any moment; the GIL is released while it runs).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from .keys import prefix_end
from .merkle import bucket_of, leaf_hash, value_hash

_KV_TABLE = """
CREATE TABLE {name} (
    bucket INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, leaf BLOB NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID
"""

_SCHEMA = """
CREATE UNIQUE INDEX IF NOT EXISTS kv_key ON kv(key);
CREATE TABLE IF NOT EXISTS buckets (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


PAGE_CACHE_KIB = 64 * 1024
"""SQLite's page cache per connection (its default is 2 MiB): bucket scans and account reads
of a large state hit memory instead of the OS."""

SCAN_CHUNK = 64
"""Rows one query of a lazy scan (:meth:`Store.iter_from`) reads."""

BUCKETS_PER_QUERY = 500
"""Buckets read by one ``IN (...)`` query when staging a block (well under SQLite's limit on
bound parameters)."""


class _Checkpointer:
    """Runs ``wal_checkpoint(PASSIVE)`` on its own connection whenever :meth:`kick` is called."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop:
                return
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join()
        self._db.close()


class Store:
    """Committed state. Reads see only what the last Commit wrote."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        self._create_or_migrate_kv()
        self._db.executescript(_SCHEMA)
        self._checkpointer: _Checkpointer | None = None
        if self.path != ":memory:":
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = _Checkpointer(self.path)

    def _create_or_migrate_kv(self) -> None:
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(kv)")]
        if not columns:
            self._db.execute(_KV_TABLE.format(name="kv"))
        elif "leaf" not in columns:
            self._migrate_from_key_table()

    def _migrate_from_key_table(self) -> None:
        """Copy a state keyed by ``key`` alone (no leaf hashes) into the clustered table, in
        one transaction: the app hash does not change, only how the entries are stored."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_KV_TABLE.format(name="kv_new"))
            rows = db.execute("SELECT key, value FROM kv")
            while batch := rows.fetchmany(50_000):
                db.executemany(
                    "INSERT INTO kv_new (bucket, key, value, leaf) VALUES (?, ?, ?, ?)",
                    [
                        (bucket_of(bytes(k)), bytes(k), bytes(v), leaf_hash(k, value_hash(v)))
                        for k, v in batch
                    ],
                )
            db.execute("DROP TABLE kv")
            db.execute("ALTER TABLE kv_new RENAME TO kv")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()

    # --- reads -------------------------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        row = self._db.execute(
            "SELECT value FROM kv WHERE bucket = ? AND key = ?", (bucket_of(key), key)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def bucket_entries(self, bucket: int) -> list[tuple[bytes, bytes]]:
        rows = self._db.execute(
            "SELECT key, value FROM kv WHERE bucket = ? ORDER BY key", (bucket,)
        ).fetchall()
        return [(bytes(k), bytes(v)) for k, v in rows]

    def buckets_leaves(self, buckets: Iterable[int]) -> dict[int, list[tuple[bytes, bytes, int]]]:
        """(key, leaf hash, value length) of every entry of several buckets, each list sorted
        by key: what staging a block needs, without the values."""
        wanted = sorted(set(buckets))
        out: dict[int, list[tuple[bytes, bytes, int]]] = {b: [] for b in wanted}
        for i in range(0, len(wanted), BUCKETS_PER_QUERY):
            part = wanted[i : i + BUCKETS_PER_QUERY]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                f"SELECT bucket, key, leaf, LENGTH(value) FROM kv WHERE bucket IN ({marks}) "
                "ORDER BY bucket, key",
                part,
            )
            for b, k, leaf, size in rows:  # INTEGER and BLOB columns come back as int, bytes
                out[b].append((k, leaf, size))
        return out

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Committed entries whose key starts with ``prefix``, in key order."""
        end = prefix_end(prefix)
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

    def iter_from(
        self, prefix: bytes, start: bytes, chunk: int = SCAN_CHUNK
    ) -> Iterator[tuple[bytes, bytes]]:
        """Committed entries whose key starts with ``prefix`` and is >= ``start``, in key
        order, read lazily ``chunk`` rows per query: a caller that stops after n entries has
        read at most n + chunk rows (a page, the first max_validators of an index), however many
        the prefix holds. No statement stays open between chunks."""
        end = prefix_end(prefix)
        lo, op = max(prefix, start), ">="
        while True:
            if end is None:
                sql = f"SELECT key, value FROM kv WHERE key {op} ? ORDER BY key LIMIT ?"
                rows = self._db.execute(sql, (lo, chunk)).fetchall()
            else:
                sql = f"SELECT key, value FROM kv WHERE key {op} ? AND key < ? ORDER BY key LIMIT ?"
                rows = self._db.execute(sql, (lo, end, chunk)).fetchall()
            for k, v in rows:
                yield bytes(k), bytes(v)
            if len(rows) < chunk:
                return
            lo, op = bytes(rows[-1][0]), ">"

    def count_prefix(self, prefix: bytes) -> int:
        """Number of committed entries under ``prefix`` (one SQL COUNT: metrics, rarely)."""
        end = prefix_end(prefix)
        if end is None:
            row = self._db.execute("SELECT COUNT(*) FROM kv WHERE key >= ?", (prefix,)).fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM kv WHERE key >= ? AND key < ?", (prefix, end)
            ).fetchone()
        return int(row[0])

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
        leaves: Mapping[bytes, bytes],
    ) -> None:
        """Persist a block's writes (with the leaf hash of each written value), its bucket
        hashes, height and app hash atomically."""
        puts = [(bucket_of(k), k, v, leaves[k]) for k, v in sorted(writes.items()) if v is not None]
        dels = [(bucket_of(k), k) for k, v in sorted(writes.items()) if v is None]
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if puts:
                # an upsert updates the row in place: the bucket index is rewritten only for
                # new keys (REPLACE would delete and re-insert both)
                db.executemany(
                    "INSERT INTO kv (bucket, key, value, leaf) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(bucket, key) DO UPDATE "
                    "SET value = excluded.value, leaf = excluded.leaf",
                    puts,
                )
            if dels:
                db.executemany("DELETE FROM kv WHERE bucket = ? AND key = ?", dels)
            if bucket_hashes:
                db.executemany(
                    "INSERT INTO buckets (idx, hash) VALUES (?, ?) "
                    "ON CONFLICT(idx) DO UPDATE SET hash = excluded.hash",
                    sorted(bucket_hashes.items()),
                )
            db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [("height", str(height).encode()), ("app_hash", app_hash)],
            )
            db.execute("DELETE FROM meta WHERE name = 'restored'")  # a block made it our own
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        if self._checkpointer is not None:
            self._checkpointer.kick()

    # --- state-sync restore (a fresh, temporary store; see state/snapshot.py) ----------------
    def insert_rows(self, rows: Iterable[tuple[int, bytes, bytes, bytes]]) -> None:
        """Insert (bucket, key, value, leaf) rows of a snapshot chunk in one transaction,
        consumed one at a time (an exception raised by ``rows`` rolls the chunk back)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT INTO kv (bucket, key, value, leaf) VALUES (?, ?, ?, ?)", rows)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def finish_restore(
        self, bucket_hashes: Mapping[int, bytes], height: int, app_hash: bytes
    ) -> None:
        """Write the bucket hashes, height and app hash of a verified restore, marked as
        restored until the first Commit on it (:meth:`fresh_restore`)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO buckets (idx, hash) VALUES (?, ?)",
                sorted(bucket_hashes.items()),
            )
            db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [("height", str(height).encode()), ("app_hash", app_hash), ("restored", b"1")],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def fresh_restore(self) -> bool:
        """True while the state is a state-sync restore no block has been committed on yet
        (CometBFT may not have recorded it: see ``StateSync``)."""
        row = self._db.execute("SELECT 1 FROM meta WHERE name = 'restored'").fetchone()
        return row is not None
