"""Every command that reads a file the user names, given a file no one should hand it: a
directory, a binary, JSON nested a hundred thousand deep, a missing path, /dev/zero. Each
answer is one line ``Error: …`` (exit 1 or 2): never a traceback, never an "internal error",
and /dev/zero is refused after a bounded read (run under a 1 GiB address-space limit, where an
unbounded read dies of MemoryError)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from harness import REPO

from abci_app.cli.main import cli
from abci_app.client.keyring import Keyring

DEAD_NODE = "http://127.0.0.1:9"
ADDRESS = "mt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqlztf84"  # a valid address: the file is reached
COMMANDS = {
    "keys import": ("keys", "import", "x", "{f}"),
    "tx sign": ("tx", "sign", "{f}", "--from", "k", "--offline", "--nonce", "1", "--chain-id", "c"),
    "tx broadcast": ("tx", "broadcast", "{f}"),
    "tx encode": ("tx", "encode", "{f}"),
    "genesis validate": ("genesis", "validate", "{f}"),
    "genesis add-validator": ("genesis", "add-validator", "{f}", "{f}"),
    "subnet simulate-epoch": ("subnet", "simulate-epoch", "--input", "{f}"),
    "query account --prove": ("query", "account", ADDRESS, "--prove", "--genesis", "{f}"),
}


def _files(tmp: Path) -> dict[str, Path]:
    (tmp / "binary").write_bytes(bytes(range(128, 256)) * 64)
    (tmp / "deep.json").write_text("[" * 100_000)
    (tmp / "folder").mkdir()
    (tmp / "empty.json").write_text("{}")
    (tmp / "partial.json").write_text('{"chain_id": "x", "app_state": {"accounts": 5}}')
    return {
        "empty object": tmp / "empty.json",
        "partial object": tmp / "partial.json",
        "directory": tmp / "folder",
        "binary": tmp / "binary",
        "deep JSON": tmp / "deep.json",
        "missing": tmp / "missing.json",
    }


def _one_line_error(code: int, err: str) -> None:
    assert code in (1, 2), (code, err)
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert "internal error" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_hostile_files(command: str, tmp_path: Path) -> None:
    Keyring(tmp_path / "keyring", backend="test").add("k")
    for kind, path in _files(tmp_path).items():
        args = [a.replace("{f}", str(path)) for a in COMMANDS[command]]
        res = CliRunner().invoke(cli, ["--home", str(tmp_path), "--node", DEAD_NODE, *args])
        assert res.exit_code != 0, (kind, res.stdout)
        _one_line_error(res.exit_code, res.stderr)


DEV_ZERO_SCRIPT = """
import json, resource, sys
from click.testing import CliRunner
from abci_app.cli.main import cli
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
out = []
for args in json.loads(sys.argv[1]):
    res = CliRunner().invoke(cli, args)
    out.append([res.exit_code, res.stderr])
print(json.dumps(out))
"""


def test_dev_zero_is_read_with_a_bound(tmp_path: Path) -> None:
    """One process under a 1 GiB address-space limit runs each command on /dev/zero."""
    runs = [
        ["--home", str(tmp_path), *[a.replace("{f}", "/dev/zero") for a in COMMANDS[c]]]
        for c in ("keys import", "genesis validate", "subnet simulate-epoch", "tx sign")
    ]
    res = subprocess.run(
        [sys.executable, "-c", DEV_ZERO_SCRIPT, json.dumps(runs)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    for code, err in json.loads(res.stdout):
        _one_line_error(code, err)
        assert "is over" in err, err
    # a recovery phrase read from stdin: one bounded line
    with open("/dev/zero", "rb") as zero:
        res = subprocess.run(
            [sys.executable, "-m", "abci_app", "--home", str(tmp_path), *RECOVER],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            preexec_fn=_limit_memory,
        )
    _one_line_error(res.returncode, res.stderr)
    assert "too long" in res.stderr, res.stderr


RECOVER = ("keys", "add", "x", "--recover", "--keyring-backend", "test")


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
