"""Pagination of list queries (Cosmos SDK ``query.PageRequest``/``PageResponse``, key-based).

A list route takes ``?limit=N`` (default :data:`DEFAULT_LIMIT`, at most :data:`MAX_LIMIT`) and
``&next_key=<hex>`` (the ``next_key`` of the previous page) and answers
``{"<items>": [...], "pagination": {"next_key": <hex> | null, "total": n}}``. A page reads the
store from its first key on and stops after ``limit`` + 1 entries (the extra one gives
``next_key``), so a query costs the same however long the list is; ``total`` comes from a count
the list's writers keep (never from counting the list). ``next_key`` is the key of the next
entry below the list's prefix, so it can only point inside that list.

Bad values (a limit that is not a number in [1, MAX_LIMIT], a ``next_key`` that is not hex or
too long, an unknown or repeated parameter) raise :class:`InvalidQuery` (code 201).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from ..errors import InvalidQuery
from ..state.overlay import KVReader

DEFAULT_LIMIT = 100
"""Entries of a page when the query gives no ``limit`` (Cosmos: 100)."""
MAX_LIMIT = 1_000
"""Largest ``limit`` answered: bounds what one query reads and returns."""
MAX_NEXT_KEY_BYTES = 64
"""Longest ``next_key`` (bytes below the list's prefix): longer than any key of a list."""
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
"""A ``next_key``'s text: pairs of hex digits and nothing else (ASCII; no whitespace)."""


@dataclass(frozen=True)
class PageRequest:
    """A page: at most ``limit`` entries from ``key`` (bytes after the list's prefix; b"": the
    first entry)."""

    limit: int = DEFAULT_LIMIT
    key: bytes = b""


def split_path(path: str) -> tuple[str, PageRequest]:
    """``/route?limit=N&next_key=HEX`` -> (``/route``, its page). No ``?``: the first page of
    DEFAULT_LIMIT entries.

    Raises:
        InvalidQuery: an unknown or repeated parameter, a bad limit or next_key.
    """
    route, sep, query = path.partition("?")
    if not sep:
        return route, PageRequest()
    seen: dict[str, str] = {}
    for part in query.split("&") if query else []:
        name, eq, value = part.partition("=")
        if not eq or name not in ("limit", "next_key"):
            raise InvalidQuery(
                f"unknown query parameter {part[:32]!r}: a list takes ?limit=N&next_key=HEX"
            )
        if name in seen:
            raise InvalidQuery(f"{name} is given twice")
        seen[name] = value
    limit = DEFAULT_LIMIT
    if "limit" in seen:
        raw = seen["limit"]
        if not raw.isdecimal() or not raw.isascii() or len(raw) > 7:
            raise InvalidQuery(f"limit must be a number from 1 to {MAX_LIMIT}, got {raw[:16]!r}")
        limit = int(raw)
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit must be a number from 1 to {MAX_LIMIT}, got {limit}")
    key = b""
    if "next_key" in seen:
        raw = seen["next_key"]
        if len(raw) > 2 * MAX_NEXT_KEY_BYTES:
            raise InvalidQuery(f"next_key longer than {MAX_NEXT_KEY_BYTES} bytes")
        if not _HEX.fullmatch(raw):  # bytes.fromhex alone would take " 00" or "00\n"
            raise InvalidQuery("next_key must be hex (the next_key of the previous page)")
        key = bytes.fromhex(raw)
        if not key:
            raise InvalidQuery("next_key must not be empty (omit it for the first page)")
    return route, PageRequest(limit, key)


def page(
    state: KVReader, prefix: bytes, req: PageRequest
) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
    """The page's entries under ``prefix`` as (key without the prefix, value), and the
    next_key (None: this was the last page). Reads at most ``req.limit`` + 1 entries."""
    it: Iterator[tuple[bytes, bytes]] = state.iter_from(prefix, prefix + req.key)
    got = [(k[len(prefix) :], v) for k, v in islice(it, req.limit + 1)]
    next_key = got[req.limit][0] if len(got) > req.limit else None
    return got[: req.limit], next_key


def page_json(next_key: bytes | None, total: int) -> dict[str, Any]:
    """The ``pagination`` object of an answer."""
    return {"next_key": None if next_key is None else next_key.hex(), "total": total}
