"""The committed store together with its Merkle tree: staging a block's commitment and proofs."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .merkle import (
    BucketProof,
    MerkleTree,
    bucket_hash_of_leaves,
    bucket_of,
    leaf_hash,
    value_hash,
)
from .store import Store


@dataclass
class PendingCommit:
    """Everything Commit must persist for one block, computed (not written) in FinalizeBlock."""

    height: int
    writes: dict[bytes, bytes | None]
    bucket_hashes: dict[int, bytes]
    changed_nodes: list[dict[int, bytes]] = field(repr=False)
    app_hash: bytes
    leaves: dict[bytes, bytes] = field(default_factory=dict, repr=False)
    """Merkle leaf hash of every written (not deleted) key, stored beside its value."""
    keys_delta: int = 0
    bytes_delta: int = 0
    """Change in the number of keys and in key+value bytes (for the state-size metrics)."""


READ_CACHE_ENTRIES = 262_144
"""Committed values kept in memory (least recently used dropped first): CheckTx, the rechecks,
PrepareProposal and FinalizeBlock read the same accounts within a block; this keeps them out
of SQLite. Tens of MiB at most; not consensus state."""


class StateDB:
    def __init__(self, path: Path | str, read_cache: int = READ_CACHE_ENTRIES) -> None:
        self.store = Store(path)
        self._cache: OrderedDict[bytes, bytes | None] = OrderedDict()
        self._cache_cap = read_cache
        self._stats: tuple[int, int] | None = None
        self.tree = MerkleTree(self.store.bucket_hashes())
        stored = self.store.last_app_hash()
        if stored and stored != self.tree.root:
            raise RuntimeError(
                "the stored app hash does not match the stored bucket hashes: state is corrupt"
            )

    def close(self) -> None:
        self.store.close()

    @property
    def height(self) -> int:
        return self.store.last_height()

    @property
    def app_hash(self) -> bytes:
        return self.tree.root

    def get(self, key: bytes) -> bytes | None:
        cache = self._cache
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        value = self.store.get(key)
        self._remember(key, value)
        return value

    def peek(self, key: bytes) -> bytes | None:
        """The committed value, from the cache if there, without adding to it: for reads a
        stranger chooses (queries), which must not fill or churn the cache the block path
        relies on."""
        cache = self._cache
        if key in cache:
            return cache[key]
        return self.store.get(key)

    def _remember(self, key: bytes, value: bytes | None) -> None:
        cache = self._cache
        cache[key] = value
        cache.move_to_end(key)
        if len(cache) > self._cache_cap:
            cache.popitem(last=False)

    def stats(self) -> tuple[int, int]:
        """(number of keys, bytes of keys and values): counted once, then kept by Commit."""
        if self._stats is None:
            self._stats = self.store.stats()
        return self._stats

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return self.store.iter_prefix(prefix)

    def iter_from(self, prefix: bytes, start: bytes) -> Iterator[tuple[bytes, bytes]]:
        return self.store.iter_from(prefix, start)

    def stage(self, height: int, writes: Mapping[bytes, bytes | None]) -> PendingCommit:
        """Compute the app hash the committed state would have with ``writes`` applied."""
        by_bucket: dict[int, list[bytes]] = {}
        for key in sorted(writes):
            by_bucket.setdefault(bucket_of(key), []).append(key)
        stored = self.store.buckets_leaves(by_bucket)
        new_hashes: dict[int, bytes] = {}
        leaves: dict[bytes, bytes] = {}
        keys_delta = bytes_delta = 0
        for b in sorted(by_bucket):
            rows = stored[b]
            entries = {k: leaf for k, leaf, _ in rows}
            for key in by_bucket[b]:
                v = writes[key]
                if key in entries:
                    before = next(size for k, _, size in rows if k == key)
                    keys_delta -= 1
                    bytes_delta -= len(key) + before
                if v is None:
                    entries.pop(key, None)
                else:
                    leaf = leaf_hash(key, value_hash(v))
                    entries[key] = leaves[key] = leaf
                    keys_delta += 1
                    bytes_delta += len(key) + len(v)
            new_hashes[b] = bucket_hash_of_leaves(entries)
        changed = self.tree.compute_update(new_hashes)
        return PendingCommit(
            height=height,
            writes=dict(writes),
            bucket_hashes=new_hashes,
            changed_nodes=changed,
            app_hash=MerkleTree.root_of(changed, self.tree.root),
            leaves=leaves,
            keys_delta=keys_delta,
            bytes_delta=bytes_delta,
        )

    def commit(self, pending: PendingCommit) -> None:
        self.store.commit(
            pending.writes, pending.bucket_hashes, pending.height, pending.app_hash, pending.leaves
        )
        self.tree.apply(pending.changed_nodes)
        for key, value in pending.writes.items():
            self._remember(key, value)
        if self._stats is not None:
            keys, size = self._stats
            self._stats = (keys + pending.keys_delta, size + pending.bytes_delta)

    def prove(self, key: bytes) -> tuple[bytes | None, BucketProof]:
        """Committed value of ``key`` (None if absent) with a proof against :attr:`app_hash`."""
        b = bucket_of(key)
        entries = tuple((k, value_hash(v)) for k, v in self.store.bucket_entries(b))
        return self.peek(key), BucketProof(entries, tuple(self.tree.siblings(b)))
