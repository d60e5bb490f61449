"""Distribution's invariants: every base unit of the pool is owed, and the supply's history
adds up."""

from __future__ import annotations

from ...state.overlay import KVReader
from ..bank.state import Account, get_account, get_burned, get_genesis_supply, get_supply
from ..staking.state import all_delegations, all_validators
from .rewards import pending_rewards
from .state import (
    DISTRIBUTION_POOL,
    all_commissions,
    all_outstanding,
    all_starts,
    get_accumulator,
    get_minted,
)


def invariants(state: KVReader) -> list[str]:
    """* The distribution pool = every unpaid commission + every validator's outstanding
      rewards (Cosmos ``ValidatorOutstandingRewards``), exactly; a validator's outstanding
      rewards cover its delegations' pending rewards (the difference is floor dust), and a
      validator without shares has none (its dust went to the community pool); no
      delegation's reward start is past its validator's accumulator (its pending rewards
      would be negative: a withdrawal would take from the pool's other creditors).
    * The supply = the origin supply + minted (this module's emission) - burned (bank counts
      every burn by reason)."""
    problems = []
    pool = (get_account(state, DISTRIBUTION_POOL) or Account()).balance
    outstanding = dict(all_outstanding(state))
    owed = sum(c for _, c in all_commissions(state)) + sum(outstanding.values())
    if pool != owed:
        problems.append(f"distribution pool {pool} != commission + outstanding rewards {owed}")
    pending: dict[bytes, int] = {}
    for d, c, _ in all_delegations(state):
        pending[c] = pending.get(c, 0) + pending_rewards(state, d, c)
    for c, p in sorted(pending.items()):
        if p > outstanding.get(c, 0):
            problems.append(f"validator {c.hex()}: pending rewards {p} > outstanding")
    for d, c, start in all_starts(state):
        if start > get_accumulator(state, c):
            problems.append(f"delegation {d.hex()} -> {c.hex()}: reward start past the accumulator")
    for v in all_validators(state):
        if v.delegator_shares == 0 and outstanding.get(v.cons_address, 0):
            problems.append(f"validator {v.moniker} has no shares but outstanding rewards")
    supply, minted = get_supply(state), get_minted(state)
    origin, burned = get_genesis_supply(state), sum(get_burned(state).values())
    if supply != origin + minted - burned:
        problems.append(f"supply {supply} != origin {origin} + minted {minted} - burned {burned}")
    return problems
