"""Copy-on-write views over the store.

A block executes in an :class:`Overlay` on top of the committed store and is flushed by Commit;
each transaction's messages run in a child overlay that is merged on success and dropped on
failure, so a failing message reverts only its own writes. CheckTx uses a separate overlay that
is thrown away after every Commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class KVReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Live entries whose key starts with ``prefix``, in ascending key order."""
        ...


class EmptyReader:
    """A store with nothing in it: the base of a dry run (``genesis validate`` writes a genesis
    into an overlay over it to check what InitChain would check)."""

    def get(self, key: bytes) -> bytes | None:
        return None

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return iter(())


class Overlay:
    """Pending writes over a parent reader; ``None`` in ``writes`` marks a deletion."""

    def __init__(self, parent: KVReader) -> None:
        self.parent = parent
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self.parent.get(key)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Merge of the parent's entries and this overlay's writes, in key order."""
        mine = {k: v for k, v in self.writes.items() if k.startswith(prefix)}
        merged = {k: v for k, v in self.parent.iter_prefix(prefix) if k not in mine}
        merged.update({k: v for k, v in mine.items() if v is not None})
        for k in sorted(merged):
            yield k, merged[k]

    def set(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self.writes[key] = None

    def branch(self) -> Overlay:
        return Overlay(self)

    def merge_into(self, parent: Overlay) -> None:
        """Apply this overlay's writes to ``parent``, the overlay it was branched from."""
        if self.parent is not parent:
            raise ValueError("an overlay can only be merged into the overlay it was branched from")
        parent.writes.update(self.writes)
        self.writes = {}
