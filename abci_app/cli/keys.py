"""``moderntensor keys …``: the keyring of --home (add, recover, show, list, export, import,
migrate, delete).

Backends (``--keyring-backend``, else the keyring folder's default, else ``file``): ``file``
seals each key with a passphrase (asked on the terminal, or ``--passphrase-file FILE`` /
``MODERNTENSOR_KEYRING_PASSPHRASE`` for automation), ``test`` stores it unencrypted (dev homes
made by ``node init`` and ``localnet`` use it), ``os`` uses the platform keyring.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..client.keyring import PassphraseSource
from ..client.keyring.files import write_private
from ..client.keyring.mnemonic import MNEMONIC_WORDS
from ..client.local_files import MAX_SMALL_FILE_BYTES, read_text_file
from .common import Ctx, emit, user_errors
from .txsend import keyring_of

MAX_PHRASE_CHARS = 1024
"""The longest line read as a recovery phrase."""


@click.group()
def keys() -> None:
    """Manage local keys in <home>/keyring (backends: file, test, os)."""


def _read_phrase() -> str:
    """The recovery phrase: asked (hidden) on a terminal, else the first line of stdin (at most
    MAX_PHRASE_CHARS: 24 words are under 250)."""
    if sys.stdin.isatty():
        return str(click.prompt("Recovery phrase (BIP-39 words)", hide_input=True))
    line = sys.stdin.readline(MAX_PHRASE_CHARS + 1)
    if len(line) > MAX_PHRASE_CHARS:
        raise click.ClickException("the recovery phrase on stdin is too long: 12 to 24 words")
    return line.strip()


@keys.command("add")
@click.argument("name")
@click.option("--recover", is_flag=True, help="Recreate the key from its recovery phrase.")
@click.option("--account", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True)
@click.option("--index", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True)
@click.option(
    "--words",
    type=click.Choice(["12", "24"]),
    default=str(MNEMONIC_WORDS),
    show_default=True,
    help="Length of a new recovery phrase.",
)
@click.pass_obj
def keys_add(obj: Ctx, name: str, recover: bool, account: int, index: int, words: str) -> None:
    """Create a key and show its recovery phrase once; --recover recreates one from its phrase
    (path m/44'/118'/ACCOUNT'/0'/INDEX', SLIP-0010) (example: moderntensor keys add alice)."""
    ring = keyring_of(obj)
    with user_errors():
        if recover:
            phrase = _read_phrase()
            key = ring.recover(name, phrase, account=account, index=index)
            info = ring.info(name)
            emit(obj, info.public_info(), f"recovered key {name}: {key.address} ({info.backend})")
            return
        key, phrase = ring.add_with_mnemonic(name, words=int(words))
        info = ring.info(name)
    data = {**info.public_info(), "mnemonic": phrase}
    emit(
        obj,
        data,
        lambda: (
            f"created key {name}: {key.address} (backend {info.backend})\n\n"
            "Write down this recovery phrase and keep it offline; it is the only way to "
            "recover the key and it is not stored:\n\n" + phrase
        ),
    )


@keys.command("show")
@click.argument("name")
@click.pass_obj
def keys_show(obj: Ctx, name: str) -> None:
    """Show a key's address (no passphrase needed) (example: moderntensor keys show dev)."""
    with user_errors():
        info = keyring_of(obj).info(name)
    emit(obj, info.public_info(), info.address)


@keys.command("list")
@click.pass_obj
def keys_list(obj: Ctx) -> None:
    """List every key with its backend (example: moderntensor keys list)."""
    with user_errors():
        found = keyring_of(obj).list()
    emit(
        obj,
        [k.public_info() for k in found],
        lambda: "\n".join(f"{k.name}\t{k.address}\t{k.backend}" for k in found) or "(no keys)",
    )


def _export_source(file: Path | None) -> PassphraseSource:
    return PassphraseSource(file=file) if file is not None else PassphraseSource()


@keys.command("export")
@click.argument("name")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default: stdout.")
@click.option(
    "--export-passphrase-file",
    type=click.Path(path_type=Path),
    default=None,
    help="Passphrase sealing the export (default: asked, or the keyring's passphrase source).",
)
@click.pass_obj
def keys_export(obj: Ctx, name: str, out: Path | None, export_passphrase_file: Path | None) -> None:
    """Write the key sealed under a passphrase of its own (example: moderntensor keys export
    op --out op.key)."""
    with user_errors():
        text = keyring_of(obj).export(name, _export_source(export_passphrase_file))
    if out is None:
        click.echo(text, nl=False)
        return
    try:  # a new 0600 file replaces whatever is at --out (never written through a link)
        write_private(out, text, replace=True)
    except OSError as e:
        raise click.ClickException(f"cannot write {out}: {e.strerror}") from None
    click.echo(f"exported {name} to {out} (sealed; keep it like the key itself)", err=True)


@keys.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--export-passphrase-file", type=click.Path(path_type=Path), default=None)
@click.pass_obj
def keys_import(obj: Ctx, name: str, file: Path, export_passphrase_file: Path | None) -> None:
    """Store the key of an export file as NAME (example: moderntensor keys import op op.key)."""
    with user_errors():
        text = read_text_file(file, MAX_SMALL_FILE_BYTES, "key export file")
        ring = keyring_of(obj)
        key = ring.import_key(name, text, _export_source(export_passphrase_file))
        info = ring.info(name)
    emit(obj, info.public_info(), f"imported {name}: {key.address} ({info.backend})")


@keys.command("migrate")
@click.option(
    "--to", "backend", type=click.Choice(["file", "os"]), default="file", show_default=True
)
@click.pass_obj
def keys_migrate(obj: Ctx, backend: str) -> None:
    """Seal every unencrypted key (old plain files and `test` keys) with the `file` backend
    (or move them to `os`) and make it the keyring's default (example: moderntensor keys
    migrate)."""
    with user_errors():
        moved = keyring_of(obj).migrate(backend)
    emit(
        obj,
        {"migrated": moved, "backend": backend},
        f"migrated {len(moved)} key(s) to {backend}: {', '.join(moved) or '-'}",
    )


@keys.command("delete")
@click.argument("name")
@click.pass_obj
def keys_delete(obj: Ctx, name: str) -> None:
    """Delete a key (asks first on a terminal; --yes skips) (example: moderntensor keys delete
    old --yes)."""
    ring = keyring_of(obj)
    with user_errors():
        info = ring.info(name)
    if not obj.yes:
        if not sys.stdin.isatty():
            raise click.UsageError("deleting a key needs --yes when not on a terminal")
        click.confirm(f"Delete key {name} ({info.address})? It cannot be undone", abort=True)
    with user_errors():
        ring.delete(name)
    emit(obj, {"deleted": name, "address": info.address}, f"deleted {name} ({info.address})")
