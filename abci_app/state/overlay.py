"""Copy-on-write views over the store.

A block executes in an :class:`Overlay` on top of the committed store and is flushed by Commit;
each transaction's messages run in a child overlay that is merged on success and dropped on
failure, so a failing message reverts only its own writes. CheckTx uses a separate overlay that
is thrown away after every Commit.

Prefix scans touch only matching keys (issue 13): an overlay keeps the keys it wrote in a
sorted list (``sortedcontainers.SortedList``), so a scan costs O(log w + matches) at each level,
where ``w`` is the number of writes in that overlay. Scanning every write instead made a block
quadratic: a scan late in a block of many writes paid for all the writes before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from sortedcontainers import SortedList

from .keys import prefix_end


class KVReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Live entries whose key starts with ``prefix``, in ascending key order."""
        ...

    def iter_from(self, prefix: bytes, start: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Live entries whose key starts with ``prefix`` and is >= ``start``, in ascending key
        order, produced lazily: taking the first n reads about n entries of the store (an
        index's top entries, a page of a list query), not every entry under ``prefix``."""
        ...


class EmptyReader:
    """A store with nothing in it: the base of a dry run (``genesis validate`` writes a genesis
    into an overlay over it to check what InitChain would check)."""

    def get(self, key: bytes) -> bytes | None:
        return None

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return iter(())

    def iter_from(self, prefix: bytes, start: bytes) -> Iterator[tuple[bytes, bytes]]:
        return iter(())


class Overlay:
    """Pending writes over a parent reader; ``None`` in ``writes`` marks a deletion.

    ``writes`` is the one record of what was written (read it, never assign or mutate it from
    outside: :meth:`set`, :meth:`delete` and :meth:`load` keep the sorted key index in step).
    Keys new to ``writes`` are appended to ``_fresh`` and sorted into ``_index`` only when a
    scan needs them, so a write costs a dict store and a list append."""

    __slots__ = ("_fresh", "_index", "parent", "writes")

    def __init__(self, parent: KVReader) -> None:
        self.parent = parent
        self.writes: dict[bytes, bytes | None] = {}
        self._index: SortedList[bytes] | None = None  # built by the first scan (most never scan)
        self._fresh: list[bytes] = []

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self.parent.get(key)

    def _written_under(self, prefix: bytes, start: bytes = b"") -> list[bytes]:
        """Keys this overlay wrote (or deleted) that start with ``prefix`` (and are >= ``start``),
        sorted."""
        index = self._index
        if index is None:
            index = self._index = SortedList(self._fresh)
            self._fresh.clear()
        elif self._fresh:
            index.update(self._fresh)
            self._fresh.clear()
        end, lo = prefix_end(prefix), max(prefix, start)
        if end is None:
            return list(index.irange(minimum=lo))
        return list(index.irange(lo, end, inclusive=(True, False)))

    def has_writes_under(self, prefix: bytes) -> bool:
        """Whether this overlay wrote or deleted any key starting with ``prefix``."""
        return bool(self._written_under(prefix))

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Merge of the parent's entries and this overlay's writes, in key order.

        The entries are gathered when this is called (a snapshot): writing to the overlay
        while iterating the result is safe and does not change what it yields."""
        below = list(self.parent.iter_prefix(prefix))
        mine = self._written_under(prefix)
        if not mine:
            return iter(below)
        writes = self.writes
        out: list[tuple[bytes, bytes]] = []
        i, n = 0, len(below)
        for key in mine:
            while i < n and below[i][0] < key:
                out.append(below[i])
                i += 1
            if i < n and below[i][0] == key:
                i += 1  # overridden (or deleted) here
            value = writes[key]
            if value is not None:
                out.append((key, value))
        out.extend(below[i:])
        return iter(out)

    def iter_from(self, prefix: bytes, start: bytes) -> Iterator[tuple[bytes, bytes]]:
        """The lazy merge of the parent's entries from ``start`` and this overlay's writes
        there, in key order (see :class:`KVReader`). This overlay's writes are taken when this
        is called; the parent is read as the result is consumed, so take what you need before
        writing again (``itertools.islice`` then ``list``)."""
        lo = max(prefix, start)
        writes = self.writes
        mine = [(k, writes[k]) for k in self._written_under(prefix, lo)]
        return _merge(self.parent.iter_from(prefix, lo), mine)

    def set(self, key: bytes, value: bytes) -> None:
        writes = self.writes
        if key not in writes:
            self._fresh.append(key)
        writes[key] = value

    def delete(self, key: bytes) -> None:
        writes = self.writes
        if key not in writes:
            self._fresh.append(key)
        writes[key] = None

    def load(self, writes: Mapping[bytes, bytes | None]) -> None:
        """Apply ``writes`` (a deletion as ``None``) as if each had been set here."""
        mine = self.writes
        # iterate the (small) incoming writes only: ``writes.keys() - mine.keys()`` would walk
        # every key of ``mine`` (the whole check-state) inside set.difference_update
        self._fresh.extend([k for k in writes if k not in mine])
        mine.update(writes)

    def branch(self) -> Overlay:
        return Overlay(self)

    def merge_into(self, parent: Overlay) -> None:
        """Apply this overlay's writes to ``parent``, the overlay it was branched from."""
        if self.parent is not parent:
            raise ValueError("an overlay can only be merged into the overlay it was branched from")
        parent.load(self.writes)
        self.writes = {}
        self._index = None
        self._fresh = []


def _merge(
    below: Iterator[tuple[bytes, bytes]], mine: list[tuple[bytes, bytes | None]]
) -> Iterator[tuple[bytes, bytes]]:
    """Entries of ``below`` overridden by ``mine`` (sorted; None deletes), in key order."""
    i, n = 0, len(mine)
    for key, value in below:
        while i < n and mine[i][0] < key:
            if mine[i][1] is not None:
                yield mine[i]  # type: ignore[misc]
            i += 1
        if i < n and mine[i][0] == key:
            if mine[i][1] is not None:
                yield mine[i]  # type: ignore[misc]
            i += 1
            continue
        yield key, value
    for k, v in mine[i:]:
        if v is not None:
            yield k, v
