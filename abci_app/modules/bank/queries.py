"""Bank's ``abci_query`` routes."""

from __future__ import annotations

from typing import Any

from ...address import to_bech32
from ...state.overlay import KVReader
from .module_accounts import MODULE_ACCOUNTS
from .state import Account, get_account


def bank_query(state: KVReader, path: str, height: int) -> Any | None:
    """``/module_accounts``: every module account, by name, with its address, balance and
    supply permissions (the pools' balances are what invariants compare with the records they
    back); None for another module's path (``height`` is unused here)."""
    if path == "/module_accounts":
        return [
            {
                "name": acct.name,
                "address": to_bech32(acct.address),
                "balance": str((get_account(state, acct.address) or Account()).balance),
                "minter": acct.minter,
                "burner": acct.burner,
            }
            for acct in sorted(MODULE_ACCOUNTS.values(), key=lambda a: a.name)
        ]
    return None
