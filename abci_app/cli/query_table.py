"""Query commands as a table: each row is (command, ``abci_query`` path template, renderer).

Most read commands do the same thing: take a few arguments, ``abci_query`` one JSON route, and
print the answer as JSON or as text. A :class:`QueryRoute` says only what differs; the command
(arguments, help, errors) is built from it, so every such command behaves alike. Commands that
do more (a proof, two queries) stay functions of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import click

from ..client.paging import page_path
from ..modules.pagination import DEFAULT_LIMIT, MAX_LIMIT
from .common import Ctx, emit
from .txsend import query_json

Renderer = Callable[[Any], str]
"""The text output of a query's JSON answer (``-o text``)."""


@dataclass(frozen=True)
class Arg:
    """A positional argument of a query command; its value fills ``{name}`` in the path."""

    name: str
    type: type[int] | type[str] = str
    check: Callable[[str], object] | None = None
    """Run on the value before querying, raising ``click.ClickException`` if it is bad (e.g.
    ``address_arg``: a malformed address is refused without asking the node)."""


@dataclass(frozen=True)
class QueryRoute:
    """One query command.

    ``path`` is the ``abci_query`` route with ``{arg}`` placeholders (``"/validator/{operator}"``);
    ``help`` the command's help, ending with an example like every command's; ``render`` turns
    the answer into text, or None to print JSON in both output modes.
    """

    name: str
    path: str
    help: str
    args: tuple[Arg, ...] = ()
    render: Renderer | None = None
    paged: str = ""
    """For a paginated list route (modules/pagination.py), the answer's list field: the
    command takes ``--limit`` and ``--next-key``, and the text output ends with how to get the
    next page."""


def query_command(route: QueryRoute) -> click.Command:
    """The click command for ``route``: check the arguments, query, print.

    A rejection by the node is one ``Error: rejected with code N (Name): …`` line (exit 1), an
    unreachable node one ``Error: node at … did not answer …`` line (``query_json``).
    """

    @click.pass_obj
    def run(obj: Ctx, /, **values: Any) -> None:
        for arg in route.args:
            if arg.check is not None:
                arg.check(values[arg.name])
        limit, next_key = values.pop("limit", None), values.pop("next_key", None)
        path = route.path.format(**values)
        if route.paged:
            path = page_path(path, limit or DEFAULT_LIMIT, next_key)
        data = query_json(obj, path)
        render = route.render
        if route.paged:
            emit(obj, data, lambda: _paged_text(route, data))
        else:
            emit(obj, data, None if render is None else lambda: render(data))

    params: list[click.Parameter] = [click.Argument([a.name], type=a.type) for a in route.args]
    if route.paged:
        params += [
            click.Option(
                ["--limit"],
                type=click.IntRange(1, MAX_LIMIT),
                help=f"Entries per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).",
            ),
            click.Option(
                ["--next-key"], help="The next_key a previous page printed: the page after it."
            ),
        ]
    return click.Command(route.name, callback=run, params=params, help=route.help)


def _paged_text(route: QueryRoute, data: Any) -> str:
    """A page as text: the rows (the route's renderer, or JSON), then where the next is."""
    rows = data[route.paged]
    body = route.render(rows) if route.render is not None else json.dumps(rows, indent=2)
    nxt, total = data["pagination"]["next_key"], data["pagination"]["total"]
    if nxt is None:
        return body
    return f"{body}\n({len(rows)} of {total}; next page: --next-key {nxt})"


def add_query_commands(group: click.Group, routes: Iterable[QueryRoute]) -> None:
    """Add one command per route to ``group``."""
    for route in routes:
        group.add_command(query_command(route))
