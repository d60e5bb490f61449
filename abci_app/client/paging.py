"""Reading a paginated list route to its end (modules/pagination.py is the node's side).

Each request asks for :data:`PAGE` entries; the walk stops when the node gives no
``next_key``, and also after :data:`MAX_PAGES` pages or when a node's ``next_key`` does not
move forward (it is the key of the list's next entry, so each one is above the last; a lying or
broken node cannot keep the client in a loop). A page with a ``next_key`` holds exactly the
PAGE entries asked for (the node stops after limit + 1). An answer not shaped as the node's
(modules/pagination.py: a list of at most PAGE entries, a ``next_key`` of null or lower-case
hex of at most 64 bytes) is a :class:`PagingError` too, before any of it is kept: a lying node
cannot grow a page past what was asked, slip text into the next request's path, or crash the
walk with a TypeError. Sync and async callers share
:func:`page_path` and :class:`Walk`.
"""

from __future__ import annotations

import re
from typing import Any

PAGE = 1_000
"""Entries asked for per request (the node's maximum)."""
MAX_PAGES = 10_000
"""Pages read at most by one walk (10^7 entries)."""
_NEXT_KEY = re.compile(r"(?:[0-9a-f]{2}){1,64}")
"""A next_key as the node writes it (``bytes.hex()`` of at most MAX_NEXT_KEY_BYTES, 64)."""


class PagingError(RuntimeError):
    """The node's pagination did not end (a repeated next_key, or more than MAX_PAGES), or
    an answer is not a page (wrong shape, more than PAGE entries, a next_key that is not
    hex)."""


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
        self._done = False

    def next_path(self) -> str | None:
        if self._done:
            return None
        return page_path(self.route, PAGE, self._next)

    def add(self, answer: Any) -> None:
        """One page's JSON answer ``{field: [...], "pagination": {"next_key", "total"}}``.

        Raises:
            PagingError: the answer is not such a page, or the walk does not end.
        """
        items = answer.get(self.field) if isinstance(answer, dict) else None
        pagination = answer.get("pagination") if isinstance(answer, dict) else None
        nxt = pagination.get("next_key", "") if isinstance(pagination, dict) else ""
        full = len(items) == PAGE if isinstance(items, list) else False
        if not isinstance(items, list) or len(items) > PAGE or (nxt is not None and not full):
            raise PagingError(f"{self.route}: the node's answer is not a page of {self.field}")
        if nxt is not None and (not isinstance(nxt, str) or not _NEXT_KEY.fullmatch(nxt)):
            raise PagingError(f"{self.route}: the node's next_key is not a next_key")
        self.items.extend(items)
        self._pages += 1
        if nxt is None:
            self._done = True
            return
        # lower-case hex orders as the bytes it spells: a next_key at or below the last repeats
        if (self._next is not None and nxt <= self._next) or self._pages >= MAX_PAGES:
            raise PagingError(f"{self.route}: the node's pagination does not end")
        self._next = nxt
