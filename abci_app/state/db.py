"""The committed store together with its Merkle tree: staging a block's commitment and proofs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .merkle import BucketProof, MerkleTree, bucket_hash, bucket_of, value_hash
from .store import Store


@dataclass
class PendingCommit:
    """Everything Commit must persist for one block, computed (not written) in FinalizeBlock."""

    height: int
    writes: dict[bytes, bytes | None]
    bucket_hashes: dict[int, bytes]
    changed_nodes: dict[tuple[int, int], bytes] = field(repr=False)
    app_hash: bytes


class StateDB:
    def __init__(self, path: Path | str) -> None:
        self.store = Store(path)
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
        return self.store.get(key)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return self.store.iter_prefix(prefix)

    def stage(self, height: int, writes: Mapping[bytes, bytes | None]) -> PendingCommit:
        """Compute the app hash the committed state would have with ``writes`` applied."""
        by_bucket: dict[int, list[bytes]] = {}
        for key in sorted(writes):
            by_bucket.setdefault(bucket_of(key), []).append(key)
        new_hashes: dict[int, bytes] = {}
        for b in sorted(by_bucket):
            entries = {k: value_hash(v) for k, v in self.store.bucket_entries(b)}
            for key in by_bucket[b]:
                v = writes[key]
                if v is None:
                    entries.pop(key, None)
                else:
                    entries[key] = value_hash(v)
            new_hashes[b] = bucket_hash(entries.items())
        changed = self.tree.compute_update(new_hashes)
        return PendingCommit(
            height=height,
            writes=dict(writes),
            bucket_hashes=new_hashes,
            changed_nodes=changed,
            app_hash=MerkleTree.root_of(changed, self.tree.root),
        )

    def commit(self, pending: PendingCommit) -> None:
        self.store.commit(pending.writes, pending.bucket_hashes, pending.height, pending.app_hash)
        self.tree.apply(pending.changed_nodes)

    def prove(self, key: bytes) -> tuple[bytes | None, BucketProof]:
        """Committed value of ``key`` (None if absent) with a proof against :attr:`app_hash`."""
        b = bucket_of(key)
        entries = tuple((k, value_hash(v)) for k, v in self.store.bucket_entries(b))
        return self.store.get(key), BucketProof(entries, tuple(self.tree.siblings(b)))
