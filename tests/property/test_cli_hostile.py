"""The whole command tree driven with hostile arguments (in-process, click's CliRunner): every
outcome is exit 0, or one line ``Error: …`` with exit 2 for a bad argument / exit 1 for a
failure (here mostly: the node is not there), never a traceback or an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from harness import free_ports
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abci_app.cli.grammar import walk_commands
from abci_app.cli.main import cli
from abci_app.client.keyring import Keyring

SKIP = (
    ("node", "start"),  # start processes or servers, or run for minutes: tested elsewhere
    ("node", "app"),
    ("node", "init"),
    ("localnet",),
    ("faucet", "serve"),
    ("explorer",),
    ("bench",),
    ("neuron",),
)
COMMANDS = [
    (path, cmd)
    for path, cmd in walk_commands(cli)
    if not any(tuple(path[: len(s)]) == s for s in SKIP)
]
HOSTILE = [
    "",
    "-",
    "--",
    "0",
    "-1",
    "1",
    "inf",
    "nan",
    "-inf",
    "1e999",
    "1.5",
    "0.0000000001",
    "18446744073709551616",
    "18446744073709551615",
    "9" * 40,
    "0x10",
    "1_000",
    "infmdt",
    "nanmdt",
    "-5mdt",
    "1.5mdt",
    "1.0000000001mdt",
    "99999999999999999999mdt",
    "mt1",
    "mt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
    "cosmos1abc",
    "../../etc/passwd",
    "\x00",
    "\u2603",
    " ",
    "a" * 300,
    "1=65535",
    "70000=1",
    "1=70000",
    "a=b",
    "=",
    "1=",
    "tempo=99999999999999999999",
    "tempo=-1",
    "kappa=1e9",
    "nosuch=1",
    "dev",
    "nosuchkey",
    "-o",
    "json",
    "text",
    "--yes",
    "--from",
    "--amount",
    "--to",
    "--node",
    "http://[::1",
    "file",
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    Keyring(root / "keyring", backend="test").add("dev", bytes(range(32)))
    return root


def _tokens(cmd_index: int) -> st.SearchStrategy[list[str]]:
    _, cmd = COMMANDS[cmd_index]
    opts = sorted({o for p in cmd.params for o in p.opts if o.startswith("-")})
    token = st.one_of(
        st.sampled_from(HOSTILE), st.sampled_from(opts or ["--help"]), st.text(max_size=12)
    )
    return st.lists(token, max_size=6)


@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[" ".join(p) for p, _ in COMMANDS])
def test_hostile_arguments(index: int, home: Path) -> None:
    path, _ = COMMANDS[index]
    dead = f"http://127.0.0.1:{free_ports(1)[0]}"
    runner = CliRunner()

    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(args=_tokens(index))
    def check(args: list[str]) -> None:
        argv = ["--home", str(home), "--node", dead, "--timeout", "0.5", *path, *args]
        res = runner.invoke(cli, argv, env={"MODERNTENSOR_KEYRING_PASSPHRASE": None})
        out = res.output + res.stderr
        assert res.exception is None or isinstance(res.exception, SystemExit), (argv, out)
        assert "Traceback" not in out and "internal error" not in out, (argv, out)
        assert res.exit_code in (0, 1, 2), (argv, res.exit_code, out)
        if res.exit_code == 2:
            lines = res.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: "), (argv, res.stderr)
        elif res.exit_code == 1:
            assert res.stderr.strip().splitlines()[-1].startswith("Error: "), (argv, res.stderr)

    check()
