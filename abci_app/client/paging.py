"""Reading a paginated list route to its end (modules/pagination.py is the node's side).

Each request asks for :data:`PAGE` entries; the walk stops when the node gives no
``next_key``, and also after :data:`MAX_PAGES` pages or when a node repeats a ``next_key`` (a
lying or broken node cannot keep the client in a loop). Sync and async callers share
:func:`page_path` and :class:`Walk`.
"""

from __future__ import annotations

from typing import Any

PAGE = 1_000
"""Entries asked for per request (the node's maximum)."""
MAX_PAGES = 10_000
"""Pages read at most by one walk (10^7 entries)."""


class PagingError(RuntimeError):
    """The node's pagination did not end (a repeated next_key, or more than MAX_PAGES)."""


def page_path(route: str, limit: int = PAGE, next_key: str | None = None) -> str:
    """``route?limit=N[&next_key=HEX]``."""
    path = f"{route}?limit={limit}"
    return path if next_key is None else f"{path}&next_key={next_key}"


class Walk:
    """The state of one walk over ``route``'s pages: :meth:`next_path` gives the path to ask
    for (None: done), :meth:`add` takes the node's answer."""

    def __init__(self, route: str, field: str) -> None:
        self.route, self.field = route, field
        self.items: list[Any] = []
        self._next: str | None = None
        self._pages = 0
        self._seen: set[str] = set()
        self._done = False

    def next_path(self) -> str | None:
        if self._done:
            return None
        return page_path(self.route, PAGE, self._next)

    def add(self, answer: Any) -> None:
        """One page's JSON answer ``{field: [...], "pagination": {"next_key", "total"}}``."""
        self.items.extend(answer[self.field])
        self._pages += 1
        nxt = answer["pagination"]["next_key"]
        if nxt is None:
            self._done = True
            return
        if nxt in self._seen or self._pages >= MAX_PAGES:
            raise PagingError(f"{self.route}: the node's pagination does not end")
        self._seen.add(nxt)
        self._next = nxt
