"""Distribution's state migrations (run by ``abci_app.upgrades`` when a newer app opens
older state)."""

from __future__ import annotations

from ...state.overlay import Overlay
from ...types import Event
from ..bank.keeper import send
from ..bank.module_accounts import COMMUNITY_POOL
from ..bank.state import Account, get_account, get_genesis_supply, get_supply, set_genesis_supply
from ..staking.state import all_delegations, all_validators
from .rewards import pending_rewards
from .state import DISTRIBUTION_POOL, all_commissions, get_minted, get_outstanding, set_outstanding


def migrate_to_2(state: Overlay) -> list[Event]:
    """App version 1 -> 2: the bookkeeping version 1 did not keep (Cosmos x/distribution's
    ``ValidatorOutstandingRewards``, and the supply's origin).

    * Each validator's outstanding rewards = its delegations' pending rewards
      (``shares * (accumulator - start) // ACC_PRECISION``); the floor dust version 1 left in
      the distribution pool beyond those and the unpaid commissions goes to the community pool,
      as version 2 does with a removed validator's dust (``sweep_outstanding``).
    * The origin supply = supply - minted: version 1 did not count its burns, so whatever it
      burned is part of the origin (from here on every burn is counted by reason).

    Pure over ``state``; raises RuntimeError if the pool holds less than it owes (a state no
    version 1 node could have written: better to stop than to migrate it).
    """
    pending: dict[bytes, int] = {}
    for delegator, cons, _ in all_delegations(state):
        pending[cons] = pending.get(cons, 0) + pending_rewards(state, delegator, cons)
    for v in sorted(all_validators(state), key=lambda v: v.cons_address):
        if get_outstanding(state, v.cons_address) == 0 and pending.get(v.cons_address):
            set_outstanding(state, v.cons_address, pending[v.cons_address])
    pool = (get_account(state, DISTRIBUTION_POOL) or Account()).balance
    owed = sum(c for _, c in all_commissions(state)) + sum(pending.values())
    if pool < owed:
        raise RuntimeError(f"distribution pool {pool} is short of what it owes ({owed})")
    if pool > owed:
        send(state, DISTRIBUTION_POOL, COMMUNITY_POOL, pool - owed)
    if get_genesis_supply(state) == 0:
        set_genesis_supply(state, get_supply(state) - get_minted(state))
    return [Event.of("migrate_distribution", outstanding=sum(pending.values()), dust=pool - owed)]
