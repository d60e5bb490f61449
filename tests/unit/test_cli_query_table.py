"""The table-driven query commands: every row's path fits its arguments and is the command the
tree runs; argument checks run before the node is asked."""

from __future__ import annotations

import string

import click
import pytest
from click.testing import CliRunner
from harness import free_ports

from abci_app.cli.main import cli
from abci_app.cli.query import QUERIES
from abci_app.cli.query_table import QueryRoute
from abci_app.cli.staking import STAKING_QUERIES
from abci_app.cli.subnet import SUBNET_QUERIES

TABLES: list[tuple[tuple[str, ...], tuple[QueryRoute, ...]]] = [
    (("query",), QUERIES),
    (("query", "staking"), STAKING_QUERIES),
    (("subnet",), SUBNET_QUERIES),
]
ROWS = [(group, route) for group, routes in TABLES for route in routes]


def command_at(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = cli
    for name in path:
        assert isinstance(cmd, click.Group), path
        cmd = cmd.commands[name]
    return cmd


@pytest.mark.parametrize(("group", "route"), ROWS, ids=[" ".join((*g, r.name)) for g, r in ROWS])
def test_row_is_the_registered_command(group: tuple[str, ...], route: QueryRoute) -> None:
    fields = [f for _, f, _, _ in string.Formatter().parse(route.path) if f is not None]
    assert fields == [a.name for a in route.args], "path placeholders must be the arguments"
    cmd = command_at((*group, route.name))
    own = [p.name for p in cmd.params if p.expose_value]  # not the global options (grammar.py)
    paging = ["limit", "next_key"] if route.paged else []  # a paginated list's options
    assert own == [a.name for a in route.args] + paging
    assert cmd.help == route.help and "example" in route.help


def test_tables_have_no_duplicate_commands() -> None:
    for group, routes in TABLES:
        names = [r.name for r in routes]
        assert len(names) == len(set(names)), group


def test_an_argument_check_runs_before_the_node_is_asked() -> None:
    dead = f"http://127.0.0.1:{free_ports(1)[0]}"
    res = CliRunner().invoke(cli, ["--node", dead, "subnet", "stake", "mt1notanaddress"])
    assert res.exit_code == 2  # a bad argument: one usage-error line
    assert "invalid address" in res.output and "did not answer" not in res.output
    res = CliRunner().invoke(cli, ["--node", dead, "--timeout", "1", "subnet", "hyperparams", "1"])
    assert res.exit_code == 1 and "did not answer" in res.output


def test_the_staking_lists_are_paged() -> None:
    assert {r.name for r in STAKING_QUERIES if r.paged} == {
        "validators",
        "delegations",
        "unbonding",
    }
    res = CliRunner().invoke(cli, ["query", "staking", "validators", "--limit", "0"])
    assert res.exit_code == 2 and "--limit" in res.output  # refused before asking the node


def test_a_page_in_text_ends_with_how_to_get_the_next() -> None:
    from abci_app.cli.query_table import _paged_text

    (route,) = [r for r in STAKING_QUERIES if r.name == "validators"]
    row = {"moniker": "v", "operator": "mt1x", "power": 1, "tokens": "1", "jailed": False}
    more = {"validators": [row], "pagination": {"next_key": "ab01", "total": 7}}
    assert _paged_text(route, more).endswith("(1 of 7; next page: --next-key ab01)")
    last = {"validators": [row], "pagination": {"next_key": None, "total": 1}}
    assert "next page" not in _paged_text(route, last) and "mt1x" in _paged_text(route, last)


def test_a_typed_argument_is_refused_by_click() -> None:
    res = CliRunner().invoke(cli, ["subnet", "weights", "1", "x"])
    assert res.exit_code == 2 and "'x' is not a valid integer" in res.output
