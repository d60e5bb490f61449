"""Copy-on-write views over the store.

A block executes in an :class:`Overlay` on top of the committed store and is flushed by Commit;
each transaction's messages run in a child overlay that is merged on success and dropped on
failure, so a failing message reverts only its own writes. CheckTx uses a separate overlay that
is thrown away after every Commit.
"""

from __future__ import annotations

from typing import Protocol


class KVReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...


class Overlay:
    """Pending writes over a parent reader; ``None`` in ``writes`` marks a deletion."""

    def __init__(self, parent: KVReader) -> None:
        self.parent = parent
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self.parent.get(key)

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
