"""CLI conventions: an example in every command's help, shell completion, errors that say what
to do."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from abci_app.cli.main import cli
from abci_app.cli.txsend import HINTS, explain
from abci_app.errors import ERRORS_BY_CODE


def leaves(cmd: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from leaves(sub, (*path, name))
    else:
        yield path


ALL = list(leaves(cli))


def test_the_groups_are_the_documented_ones() -> None:
    groups = {p[0] for p in ALL}
    assert {"keys", "tx", "query", "subnet", "genesis", "localnet", "faucet", "node"} <= groups
    assert len(ALL) > 40


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_every_command_has_an_example_in_its_help(path: tuple[str, ...]) -> None:
    res = CliRunner().invoke(cli, [*path, "--help"])
    assert res.exit_code == 0, res.output
    assert "example" in res.output.lower(), res.output


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str) -> None:
    res = CliRunner().invoke(cli, ["completion", shell])
    assert res.exit_code == 0 and "_MODERNTENSOR_COMPLETE" in res.output


def test_completion_rejects_an_unknown_shell() -> None:
    res = CliRunner().invoke(cli, ["completion", "powershell"])
    assert res.exit_code == 2 and "powershell" in res.output


def test_rejections_carry_a_hint() -> None:
    text = explain(21, "bad nonce: account nonce is 4, tx has 3")
    assert "code 21 (BadNonce)" in text and "pending" in text
    assert "wait until the height" in explain(138, "weights set too recently: …")
    assert all(code in ERRORS_BY_CODE for code in HINTS)
