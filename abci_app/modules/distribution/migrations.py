"""Distribution's state migrations (run by ``abci_app.upgrades`` when a newer app opens
older state)."""

from __future__ import annotations

from ...state.overlay import Overlay
from ...types import Event
from ..bank.keeper import send
from ..bank.module_accounts import COMMUNITY_POOL
from ..bank.state import Account, get_account, get_genesis_supply, get_supply, set_genesis_supply
from ..staking.state import all_delegations, all_validators
from .state import (
    ACC_PRECISION,
    DISTRIBUTION_POOL,
    all_commissions,
    get_accumulator,
    get_minted,
    get_outstanding,
    get_start,
    set_outstanding,
)


def migrate_to_2(state: Overlay) -> list[Event]:
    """App version 1 -> 2: the bookkeeping version 1 did not keep (Cosmos x/distribution's
    ``ValidatorOutstandingRewards``, and the supply's origin).

    * Each validator's outstanding rewards = what its delegations have earned and not been
      paid, *before* the floor of each payout: ceil(sum of ``shares * (accumulator - start)``
      / ACC_PRECISION). Not the sum of the floored pending rewards: with no slack for the
      fractions, the next block's reward can lift several floors at once past what it adds
      (the upgrade e2e found "pending rewards > outstanding" one block after the migration).
      Version 1 credited every reward in full, so the pool covers that per validator. What
      the pool holds beyond it and the unpaid commissions (version 1 kept the community's
      share and the dust in the same account) goes to the community pool, where version 2
      keeps them (``sweep_outstanding``).
    * The origin supply = supply - minted: version 1 did not count its burns, so whatever it
      burned is part of the origin (from here on every burn is counted by reason).

    Pure over ``state``; raises RuntimeError if the pool holds less than it owes (a state no
    version 1 node could have written: better to stop than to migrate it).
    """
    earned: dict[bytes, int] = {}  # sum of shares * (accumulator - start), not yet divided
    for delegator, cons, shares in all_delegations(state):
        growth = get_accumulator(state, cons) - get_start(state, delegator, cons)
        earned[cons] = earned.get(cons, 0) + shares * growth
    pending: dict[bytes, int] = {}
    for v in sorted(all_validators(state), key=lambda v: v.cons_address):
        owed = -(-earned.get(v.cons_address, 0) // ACC_PRECISION)  # ceil
        if get_outstanding(state, v.cons_address) == 0 and owed:
            set_outstanding(state, v.cons_address, owed)
            pending[v.cons_address] = owed
    pool = (get_account(state, DISTRIBUTION_POOL) or Account()).balance
    owed = sum(c for _, c in all_commissions(state)) + sum(pending.values())
    if pool < owed:
        raise RuntimeError(f"distribution pool {pool} is short of what it owes ({owed})")
    if pool > owed:
        send(state, DISTRIBUTION_POOL, COMMUNITY_POOL, pool - owed)
    if get_genesis_supply(state) == 0:
        set_genesis_supply(state, get_supply(state) - get_minted(state))
    return [Event.of("migrate_distribution", outstanding=sum(pending.values()), dust=pool - owed)]
