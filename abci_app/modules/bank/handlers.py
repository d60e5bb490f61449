"""Bank's message handler."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...address import to_bech32
from ...errors import ModuleAccountRecipient
from ...state.overlay import Overlay
from .keeper import send
from .messages import MsgTransfer
from .module_accounts import MODULE_ACCOUNTS

if TYPE_CHECKING:
    from ...context import ChainContext


def apply_transfer(state: Overlay, sender: bytes, msg: MsgTransfer, ctx: ChainContext) -> None:
    """Move ``msg.amount`` base units from ``sender`` to ``msg.to`` (Cosmos SDK x/bank MsgSend).

    Preconditions: ``msg`` passed :meth:`MsgTransfer.validate` (20-byte recipient, amount in
    [1, 2^64 - 1]). Writes: both accounts (a new recipient's record is created).
    Events: ``transfer(sender, recipient, amount)``.

    Raises:
        ModuleAccountRecipient: ``msg.to`` is a module account (Cosmos x/bank ``BlockedAddrs``).
        InsufficientFunds: the sender's balance is below the amount.
        BalanceOverflow: the recipient's balance would pass 2^64 - 1.
    """
    blocked = MODULE_ACCOUNTS.get(msg.to)
    if blocked is not None:
        raise ModuleAccountRecipient(
            f"{to_bech32(msg.to)} is the {blocked.name} module account: it holds tokens for "
            "its module only"
        )
    send(state, sender, msg.to, msg.amount)
    ctx.events.emit(
        "transfer", sender=to_bech32(sender), recipient=to_bech32(msg.to), amount=msg.amount
    )
