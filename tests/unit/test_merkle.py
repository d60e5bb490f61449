"""The incremental app hash equals a from-scratch one; proofs verify and tampering fails."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from abci_app.state.db import StateDB
from abci_app.state.merkle import (
    EMPTY_ROOT,
    BucketProof,
    MerkleTree,
    bucket_hash,
    bucket_of,
    value_hash,
    verify_proof,
)


def full_root(state: dict[bytes, bytes]) -> bytes:
    buckets: dict[int, list[tuple[bytes, bytes]]] = {}
    for k, v in state.items():
        buckets.setdefault(bucket_of(k), []).append((k, value_hash(v)))
    return MerkleTree({b: bucket_hash(e) for b, e in buckets.items()}).root


def test_empty_state_has_the_empty_root(tmp_path: Path) -> None:
    assert StateDB(tmp_path / "s.sqlite").app_hash == EMPTY_ROOT


def test_incremental_updates_match_a_full_rebuild(tmp_path: Path) -> None:
    rng = random.Random(3)
    db = StateDB(tmp_path / "s.sqlite", read_cache=64)  # small: entries get evicted too
    model: dict[bytes, bytes] = {}
    assert db.stats() == (0, 0)
    for height in range(1, 30):
        for k in rng.sample(sorted(model), min(len(model), 20)):  # warm the read cache
            assert db.get(k) == model[k]
        writes: dict[bytes, bytes | None] = {}
        for _ in range(rng.randrange(1, 40)):
            k = b"k/" + bytes([rng.randrange(256) for _ in range(rng.randrange(1, 4))])
            if model and rng.random() < 0.2:
                k = rng.choice(sorted(model))
                writes[k] = None
            else:
                writes[k] = rng.randbytes(rng.randrange(0, 20))
        pending = db.stage(height, writes)
        db.commit(pending)
        for k, v in writes.items():
            if v is None:
                model.pop(k, None)
            else:
                model[k] = v
        assert db.app_hash == full_root(model)
        # the read cache and the running state size follow every commit
        assert all(db.get(k) == model.get(k) for k in writes)
        assert db.stats() == db.store.stats()
        assert db.stats() == (len(model), sum(len(k) + len(v) for k, v in model.items()))
    # reopening rebuilds the tree from stored bucket hashes
    db.close()
    again = StateDB(tmp_path / "s.sqlite")
    assert again.app_hash == full_root(model)
    assert again.height == 29


def test_proofs_of_presence_and_absence(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "s.sqlite")
    writes: dict[bytes, bytes | None] = {f"acct/{i}".encode(): f"v{i}".encode() for i in range(500)}
    db.commit(db.stage(1, writes))
    root = db.app_hash
    for i in (0, 17, 499):
        key = f"acct/{i}".encode()
        value, proof = db.prove(key)
        assert value == f"v{i}".encode()
        decoded = BucketProof.decode(proof.encode())
        assert verify_proof(root, key, value, decoded)
        assert not verify_proof(root, key, b"other", decoded)
        assert not verify_proof(root, key, None, decoded)
        assert not verify_proof(b"\x00" * 32, key, value, decoded)
    missing = b"acct/nobody"
    value, proof = db.prove(missing)
    assert value is None
    assert verify_proof(root, missing, None, proof)
    assert not verify_proof(root, missing, b"x", proof)


def test_tampered_proofs_fail(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "s.sqlite")
    db.commit(db.stage(1, {b"a": b"1", b"b": b"2"}))
    _, proof = db.prove(b"a")
    data = bytearray(proof.encode())
    for i in range(0, len(data), 7):
        bad = bytearray(data)
        bad[i] ^= 0x40
        try:
            decoded = BucketProof.decode(bytes(bad))
        except ValueError:
            continue
        assert not verify_proof(db.app_hash, b"a", b"1", decoded), f"flip at {i} accepted"
    with pytest.raises(ValueError):
        BucketProof.decode(bytes(data[:-1]))


def _to_the_old_layout(path: Path) -> None:
    """Rewrite a state as the first versions stored it: kv keyed by key, no leaf hashes."""
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE kv_old (key BLOB PRIMARY KEY, value BLOB NOT NULL, bucket INTEGER NOT NULL)
            WITHOUT ROWID;
        INSERT INTO kv_old SELECT key, value, bucket FROM kv;
        DROP INDEX kv_key;
        DROP TABLE kv;
        ALTER TABLE kv_old RENAME TO kv;
        CREATE INDEX kv_bucket ON kv(bucket);
        """
    )
    con.commit()
    con.close()


def test_a_state_in_the_old_layout_is_migrated(tmp_path: Path) -> None:
    rng = random.Random(9)
    paths = [tmp_path / "migrated.sqlite", tmp_path / "current.sqlite"]
    dbs = [StateDB(p) for p in paths]
    writes: dict[bytes, bytes | None] = {
        b"k/" + rng.randbytes(3): rng.randbytes(rng.randrange(1, 30)) for _ in range(300)
    }
    for db in dbs:
        db.commit(db.stage(1, writes))
        db.close()
    _to_the_old_layout(paths[0])
    migrated, current = (StateDB(p) for p in paths)  # opening migrates (and checks the hash)
    assert migrated.app_hash == current.app_hash and migrated.height == 1
    assert migrated.store.stats() == current.store.stats()
    assert all(migrated.get(k) == v for k, v in writes.items())
    more: dict[bytes, bytes | None] = {k: None for k in list(writes)[:50]}
    more.update({b"k/new" + bytes([i]): b"v" for i in range(20)})
    for db in (migrated, current):
        db.commit(db.stage(2, more))
    assert migrated.app_hash == current.app_hash
    columns = [r[1] for r in migrated.store._db.execute("PRAGMA table_info(kv)")]
    assert columns == ["bucket", "key", "value", "leaf"]
