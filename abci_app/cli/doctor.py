"""``moderntensor doctor``: check a node and a key, and say what is wrong and what to do.

The checks are library functions in :mod:`abci_app.node.doctor`; this command runs the ones that
apply and prints one line per check (``-o json``: a list of ``{name, status, detail, hint}``).
Exit code 0 when every check is ok or a warning, 1 when one failed.
"""

from __future__ import annotations

import click

from ..node.doctor import FAIL, Check, check_disk, check_hotkey, check_node, check_validator
from ..node.home import NodeHome
from .common import Ctx, emit, user_errors
from .txsend import address_arg, keyring_of

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@click.command("doctor")
@click.option("--key", "key_name", default=None, help="A key of the keyring to check.")
@click.option("--address", default=None, help="An address to check instead of a key (mt1…).")
@click.pass_obj
def doctor(obj: Ctx, key_name: str | None, address: str | None) -> None:
    """Check the node (sync, peers, versions, disk) and, with --key or --address, the key as a
    validator operator (set, jail, missed blocks) and as a hotkey (weights, commits) (example:
    moderntensor doctor --key validator)."""
    if key_name and address:
        raise click.UsageError("give --key or --address, not both")
    if key_name:
        with user_errors():
            address = keyring_of(obj).info(key_name).address
    if address:
        address_arg(address)
    checks: list[Check] = []
    with obj.rpc() as rpc:
        checks += check_node(rpc)
        checks += check_disk(NodeHome(obj.home).root)
        if address and checks[0].status != FAIL:
            checks += check_validator(rpc, address)
            checks += check_hotkey(rpc, address)
    emit(
        obj,
        [c.to_json() for c in checks],
        lambda: "\n".join(
            f"{_MARK[c.status]}  {c.name:24} {c.detail}"
            + (f"\n      -> {c.hint}" if c.hint else "")
            for c in checks
        ),
    )
    failed = [c.name for c in checks if c.status == FAIL]
    if failed:
        raise click.ClickException(f"{len(failed)} check(s) failed: {', '.join(failed)}")
