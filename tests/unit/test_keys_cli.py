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


def test_files_an_attacker_prepared_or_made_huge(tmp_path: Path) -> None:
    """`keys export --out` replaces what is at the path with a new 0600 file: an existing
    world-readable file does not keep its mode, a symlink is not followed. `keys import` of a
    huge file is refused after reading at most its limit; a key name with a line break is no
    name."""
    pf = tmp_path / "pass"
    pf.write_text("correct horse battery\n")
    pf.chmod(0o600)
    assert mt(tmp_path, "keys", "add", "dev", "--keyring-backend", "test")[0] == 0
    export = ["keys", "export", "dev", "--export-passphrase-file", str(pf), "--out"]
    readable = tmp_path / "readable.key"
    readable.write_text("old")
    readable.chmod(0o644)
    code, _, err = mt(tmp_path, *export, str(readable))
    assert code == 0, err
    assert (readable.stat().st_mode & 0o777) == 0o600 and "sealed" in readable.read_text()
    target = tmp_path / "elsewhere"
    target.write_text("not yours to overwrite")
    link = tmp_path / "link.key"
    link.symlink_to(target)
    code, _, err = mt(tmp_path, *export, str(link))
    assert code == 0, err
    assert not link.is_symlink() and (link.stat().st_mode & 0o777) == 0o600
    assert target.read_text() == "not yours to overwrite"
    assert not list(tmp_path.glob(".tmp-*"))
    huge = tmp_path / "huge.key"
    with open(huge, "wb") as f:
        f.truncate(2 << 20)  # sparse: 2 MiB of zeros
    code, _, err = mt(tmp_path, "keys", "import", "x", str(huge))
    assert code == 1 and err.startswith("Error: ") and "over 1 MiB" in err, err
    code, _, err = mt(tmp_path, "keys", "add", "evil\n", "--keyring-backend", "test")
    assert code == 1 and "invalid key name" in err, err
    assert sorted(p.name for p in (tmp_path / "keyring").iterdir()) == ["dev.json"]


def test_a_new_keyring_folder_is_private_under_any_umask(tmp_path: Path) -> None:
    """With umask 000 the keyring folder and the folders made for it are 0700 from the start
    (no moment when another user could place a file in them)."""
    import os

    old = os.umask(0)
    try:
        code, _, err = mt(
            tmp_path / "new" / "home", "keys", "add", "a", "--keyring-backend", "test"
        )
    finally:
        os.umask(old)
    assert code == 0, err
    for folder in (tmp_path / "new", tmp_path / "new" / "home", tmp_path / "new/home/keyring"):
        assert (folder.stat().st_mode & 0o777) == 0o700, folder
    assert ((tmp_path / "new/home/keyring/a.json").stat().st_mode & 0o777) == 0o600


def test_a_production_validator_home_seals_new_keys(tmp_path: Path, cometbft_bin: Path) -> None:
    """`node init --template production-validator` keeps its development dev key in the `test`
    backend (its genesis is replaced anyway) but does not make `test` the keyring's default:
    the operator's `keys add op` there is sealed without a flag to remember."""
    pf = tmp_path / "pass"
    pf.write_text("correct horse battery\n")
    pf.chmod(0o600)
    home = tmp_path / "val"
    code, _, err = mt(home, "node", "init", "--template", "production-validator")
    assert code == 0, err
    code, out, err = mt(home, "keys", "add", "op", "-o", "json", "--passphrase-file", str(pf))
    assert code == 0 and json.loads(out)["backend"] == "file", err
    listed = {
        k["name"]: k["backend"] for k in json.loads(mt(home, "keys", "list", "-o", "json")[1])
    }
    assert listed == {"dev": "test", "op": "file"}
