"""Bank's invariant: the total supply is exactly the sum of every balance."""

from __future__ import annotations

from ...state.keys import ACCOUNT
from ...state.overlay import KVReader
from .state import Account, get_supply


def invariants(state: KVReader) -> list[str]:
    """supply = sum of every account balance (module accounts included), so minted tokens
    never vanish and none appear."""
    balances = sum(Account.decode(v).balance for _, v in state.iter_prefix(ACCOUNT))
    supply = get_supply(state)
    if balances != supply:
        return [f"supply {supply} != sum of balances {balances}"]
    return []
