"""``moderntensor keys …``: the local keyring of --home (add, show, list)."""

from __future__ import annotations

import click

from .common import Ctx, emit, user_errors
from .txsend import keyring_of


@click.group()
def keys() -> None:
    """Manage local keys (stored with 0600 permissions in <home>/keyring)."""


@keys.command("add")
@click.argument("name")
@click.pass_obj
def keys_add(obj: Ctx, name: str) -> None:
    """Create a new key (example: moderntensor keys add alice)."""
    with user_errors():
        key = keyring_of(obj).add(name)
    emit(obj, key.public_info(), f"created key {name}: {key.address}")


@keys.command("show")
@click.argument("name")
@click.pass_obj
def keys_show(obj: Ctx, name: str) -> None:
    """Show a key's address and public key (example: moderntensor keys show dev)."""
    with user_errors():
        key = keyring_of(obj).get(name)
    emit(obj, key.public_info(), key.address)


@keys.command("list")
@click.pass_obj
def keys_list(obj: Ctx) -> None:
    """List every key (example: moderntensor keys list)."""
    with user_errors():
        found = keyring_of(obj).list()
    emit(
        obj,
        [k.public_info() for k in found],
        lambda: "\n".join(f"{k.name}\t{k.address}" for k in found) or "(no keys)",
    )
