"""Distribution's invariant."""

from __future__ import annotations

from ...state.overlay import KVReader
from ..bank.state import Account, get_account
from ..staking.state import all_delegations
from .rewards import pending_rewards
from .state import DISTRIBUTION_POOL, all_commissions


def invariants(state: KVReader) -> list[str]:
    """The distribution pool covers every unpaid commission and every delegation's pending
    reward (floor division leaves dust in it, never a shortfall)."""
    pool = (get_account(state, DISTRIBUTION_POOL) or Account()).balance
    owed = sum(c for _, c in all_commissions(state))
    owed += sum(pending_rewards(state, d, c) for d, c, _ in all_delegations(state))
    if pool < owed:
        return [f"distribution pool {pool} < rewards owed {owed}"]
    return []
