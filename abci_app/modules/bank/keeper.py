"""The only code that changes the total supply: :func:`mint` and :func:`burn`, with the module
account permissions of :mod:`.module_accounts`; and :func:`send`, the one way tokens move between
accounts. (Cosmos SDK x/bank keeper: SendCoins, MintCoins, BurnCoins.)
"""

from __future__ import annotations

from ...state.overlay import Overlay
from .module_accounts import MODULE_ACCOUNTS
from .state import BURN_REASONS, add_burned, credit, debit, get_supply, set_supply


def send(state: Overlay, sender: bytes, recipient: bytes, amount: int) -> None:
    """Move ``amount`` base units from ``sender`` to ``recipient`` (both records are written,
    even for 0). Raises InsufficientFunds (the sender is short) or BalanceOverflow (the
    recipient's balance would pass 2^64 - 1)."""
    debit(state, sender, amount)
    credit(state, recipient, amount)


def mint(state: Overlay, minter: bytes, amount: int) -> None:
    """Create ``amount`` base units in the module account ``minter`` and add them to the total
    supply. Only a module account declared ``minter=True`` may receive them (RuntimeError
    otherwise: a bug, never a user's doing). A zero amount writes nothing."""
    acct = MODULE_ACCOUNTS.get(minter)
    if acct is None or not acct.minter:
        raise RuntimeError(f"{minter.hex()} is not a minter module account")
    if amount:
        credit(state, minter, amount)
        set_supply(state, get_supply(state) + amount)


def burn(state: Overlay, holder: bytes, amount: int, reason: str) -> None:
    """Destroy ``amount`` base units held by ``holder`` and take them off the total supply,
    counted under ``reason`` (one of :data:`.state.BURN_REASONS`), so that the supply is always
    genesis + minted - the burns by reason (the supply invariant).

    ``holder`` is a module account declared ``burner=True`` (slashed stake, burned fees) or a
    user account paying a burn-priced message with its own tokens (subnet lock, neuron
    registration); any other module account is a bug (RuntimeError). A zero amount writes
    nothing. Raises InsufficientFunds when the holder is short."""
    acct = MODULE_ACCOUNTS.get(holder)
    if acct is not None and not acct.burner:
        raise RuntimeError(f"module account {acct.name} may not burn")
    if reason not in BURN_REASONS:
        raise RuntimeError(f"unknown burn reason {reason!r}")
    if amount:
        debit(state, holder, amount)
        set_supply(state, get_supply(state) - amount)
        add_burned(state, reason, amount)
