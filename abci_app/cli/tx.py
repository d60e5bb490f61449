"""``moderntensor tx …``: the tx group and bank's ``transfer``; the other modules' tx commands
live in their own files (``staking.py``) and are registered under this group in ``main.py``."""

from __future__ import annotations

import click

from ..modules.bank.messages import MsgTransfer
from .common import Ctx, format_mdt, parse_amount
from .txsend import TxOpts, address_arg, send_tx, tx_options


@click.group()
def tx() -> None:
    """Sign and broadcast transactions."""


@tx.command("transfer")
@tx_options
@click.option("--to", required=True, help="Recipient address (mt1…).")
@click.option("--amount", required=True, help="Base units (1000) or MDT (1.5mdt).")
@click.pass_obj
def tx_transfer(
    obj: Ctx,
    to: str,
    amount: str,
    tx: TxOpts,
) -> None:
    """Send tokens (example: moderntensor tx transfer --from dev --to mt1… --amount 1.5mdt)."""
    value = parse_amount(amount)
    msg = MsgTransfer(to=address_arg(to), amount=value)
    send_tx(obj, tx, [msg], f"sent {format_mdt(value)} to {to}")
