"""`moderntensor keys …` in-process: the phrase shown once recovers the same key, file keys
need their passphrase, export/import and migrate round trip, delete asks for --yes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from nacl.pwhash import argon2id

from abci_app.cli.main import cli
from abci_app.client.keyring import sealed


@pytest.fixture(autouse=True)
def _cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealed, "OPSLIMIT", argon2id.OPSLIMIT_INTERACTIVE)
    monkeypatch.setattr(sealed, "MEMLIMIT", argon2id.MEMLIMIT_INTERACTIVE)
    monkeypatch.delenv("MODERNTENSOR_KEYRING_PASSPHRASE", raising=False)


def mt(home: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, ["--home", str(home), *args], input=stdin)
    return res.exit_code, res.stdout, res.stderr


def test_phrase_recovers_the_key_and_file_keys_need_the_passphrase(tmp_path: Path) -> None:
    pf = tmp_path / "pass"
    pf.write_text("correct horse battery\n")
    pf.chmod(0o600)
    code, out, err = mt(
        tmp_path, "keys", "add", "alice", "-o", "json", "--passphrase-file", str(pf)
    )
    assert code == 0, err
    made = json.loads(out)
    assert made["backend"] == "file" and len(made["mnemonic"].split()) == 24
    assert mt(tmp_path, "keys", "show", "alice")[1].strip() == made["address"]  # no passphrase
    code, _, err = mt(tmp_path, "keys", "delete", "alice")
    assert code == 2 and "--yes" in err  # not on a terminal: never deletes without --yes
    assert mt(tmp_path, "keys", "delete", "alice", "--yes")[0] == 0
    code, out, err = mt(
        tmp_path,
        "keys",
        "add",
        "alice",
        "--recover",
        "--keyring-backend",
        "test",
        "-o",
        "json",
        stdin=made["mnemonic"] + "\n",
    )
    assert code == 0, err
    assert json.loads(out)["address"] == made["address"]
    code, _, err = mt(tmp_path, "keys", "add", "bob", "--recover", stdin="not a phrase\n")
    assert code == 1 and err.startswith("Error: ") and "recovery phrase" in err


def test_export_import_and_migrate(tmp_path: Path) -> None:
    pf = tmp_path / "pass"
    pf.write_text("correct horse battery\n")
    pf.chmod(0o600)
    assert mt(tmp_path, "keys", "add", "dev", "--keyring-backend", "test")[0] == 0
    address = mt(tmp_path, "keys", "show", "dev")[1].strip()
    exported = tmp_path / "dev.key"
    code, _, err = mt(
        tmp_path,
        "keys",
        "export",
        "dev",
        "--out",
        str(exported),
        "--export-passphrase-file",
        str(pf),
    )
    assert code == 0, err
    assert (exported.stat().st_mode & 0o777) == 0o600
    code, out, err = mt(
        tmp_path / "other",
        "keys",
        "import",
        "dev",
        str(exported),
        "-o",
        "json",
        "--export-passphrase-file",
        str(pf),
        "--passphrase-file",
        str(pf),
    )
    assert code == 0, err
    assert json.loads(out)["address"] == address and json.loads(out)["backend"] == "file"
    code, out, err = mt(tmp_path, "keys", "migrate", "-o", "json", "--passphrase-file", str(pf))
    assert code == 0 and json.loads(out)["migrated"] == ["dev"], err
    listed = json.loads(mt(tmp_path, "keys", "list", "-o", "json")[1])
    assert [(k["name"], k["backend"]) for k in listed] == [("dev", "file")]
