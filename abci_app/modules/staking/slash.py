"""Slashing mechanics: how much of a validator's stake a slash burns, and jailing.

Staking owns these; the slashing module decides *when* (downtime window, double-sign evidence)
and calls them (Cosmos SDK: ``x/staking/keeper/slash.go`` vs ``x/slashing/keeper``). Slashed
tokens are burned through bank (reason ``slash``). A validator's shares do not change when its
tokens are cut, so every delegator loses the same fraction and reward accounting per share is
untouched.

The rule follows the stake (Cosmos ``Keeper.Slash``): the amount is ``fraction`` of the power
the validator had at the infraction (what CometBFT's evidence or vote reports), not of its
tokens now, and it is taken first from what left the validator since then:

* unbonding entries from it created at or after the infraction's distribution height
  (``SlashUnbondingDelegation``), and
* redelegations out of it created since then (``SlashRedelegation``), at the destination, from
  the delegator's shares there and, for what moved on by unbonding from the destination, from
  those unbonding entries (the "undelegation after redelegation" bypass Cosmos SDK v0.50
  closed). Redelegating further is refused while the entry lives (transitive redelegation), so
  those are the only ways the stake can have gone;

and the validator's own tokens pay the rest. Stake delegated after the infraction shares the
validator's part pro rata, but no more than the infraction's amount is burned in all.
"""

from __future__ import annotations

from ...params import RATE_ONE
from ...state.overlay import Overlay
from ...types import DISCARD_EVENTS
from ..bank.keeper import burn
from .hooks import StakingHooks
from .params import StakingParams
from .state import (
    BONDED_POOL,
    UNBONDING_POOL,
    Redelegation,
    Validator,
    get_shares,
    get_validator,
    redelegations_from,
    set_shares,
    set_unbonding_amount,
    set_validator,
    unbondings_from,
    unbondings_of_pair,
)

VALIDATOR_UPDATE_DELAY = 1
"""Stake that left a validator in block ``h - 1`` still counted in its power at ``h``: CometBFT
applies the validator updates of block ``h - 1`` at ``h + 1``. So a slash for an infraction at
``h`` reaches what left at ``h - 1`` or later (Cosmos ``sdk.ValidatorUpdateDelay``; x/evidence
slashes from ``distributionHeight = infractionHeight - ValidatorUpdateDelay``)."""


def slash(
    state: Overlay,
    validator: Validator,
    fraction: int,
    infraction_height: int,
    power: int,
    params: StakingParams,
    hooks: StakingHooks,
) -> tuple[Validator, int]:
    """Burn ``fraction`` (of RATE_ONE) of the stake ``validator`` had when it committed an
    infraction at ``infraction_height`` with voting ``power``; return the updated validator and
    the base units burned in all.

    The amount is ``power * power_reduction * fraction // RATE_ONE``. Unbonding entries and
    redelegations that left the validator at ``infraction_height - VALIDATOR_UPDATE_DELAY`` or
    later lose ``fraction`` of what they moved (each cut floors, and is subtracted from the
    amount); the validator's tokens pay what remains, at most all of them. Cosmos SDK
    ``Keeper.Slash``. Writes: the validator, cut unbonding entries, the destinations (validator
    and delegation) of cut redelegations; burns through bank. Emits nothing (the caller
    reports the total).
    """
    amount = power * params.power_reduction * fraction // RATE_ONE
    since = infraction_height - VALIDATOR_UPDATE_DELAY
    remaining = amount
    burned = 0
    for entry in unbondings_from(state, validator.cons_address):
        if entry.completion_height - params.unbonding_blocks < since:
            continue  # left before the infraction: not part of that power
        cut = entry.amount * fraction // RATE_ONE
        if cut:
            set_unbonding_amount(state, entry, entry.amount - cut)
            burn(state, UNBONDING_POOL, cut, "slash")
            burned += cut
            remaining -= cut
    for r in redelegations_from(state, validator.cons_address):
        if r.creation_height < since:
            continue
        owed, taken = _slash_redelegation(state, r, fraction, params, hooks)
        burned += taken
        remaining -= owed
    current = get_validator(state, validator.cons_address) or validator
    cut = min(max(remaining, 0), current.tokens)
    burn(state, BONDED_POOL, cut, "slash")
    slashed = current.with_(tokens=current.tokens - cut)
    set_validator(state, slashed)
    return slashed, burned + cut


def _slash_redelegation(
    state: Overlay, r: Redelegation, fraction: int, params: StakingParams, hooks: StakingHooks
) -> tuple[int, int]:
    """Take ``fraction`` of what ``r`` moved (its ``initial_balance``, floor) from the delegator
    at the destination: first from its shares there, then from its unbonding entries from the
    destination created since the redelegation. Return (what was owed, what was burned): the
    validator's own part is reduced by what was owed even when the delegator's stake there is
    gone (Cosmos ``SlashRedelegation`` returns the amount it should have slashed)."""
    owed = r.initial_balance * fraction // RATE_ONE
    if owed == 0:
        return 0, 0
    taken = 0
    dst = get_validator(state, r.dst)
    have = get_shares(state, r.delegator, r.dst)
    if dst is not None and have and dst.tokens:
        shares = min(have, owed * dst.delegator_shares // dst.tokens)  # floor: at most owed
        if shares:
            # the rewards were earned with the shares before the cut (paid without an event)
            hooks.before_delegation_shares_modified(state, r.delegator, dst, DISCARD_EVENTS)
            rest_shares = dst.delegator_shares - shares
            tokens = dst.tokens_for(shares) if rest_shares else dst.tokens
            set_shares(state, r.delegator, r.dst, have - shares)
            cut_dst = dst.with_(tokens=dst.tokens - tokens, delegator_shares=rest_shares)
            set_validator(state, cut_dst)
            if shares == have:
                hooks.after_delegation_removed(state, r.delegator, cut_dst)
            burn(state, BONDED_POOL, tokens, "slash")
            taken += tokens
    for entry in unbondings_of_pair(state, r.delegator, r.dst):
        if taken >= owed:
            break
        created = entry.completion_height - params.unbonding_blocks
        if created < r.creation_height:
            continue
        cut = min(owed - taken, entry.amount)
        set_unbonding_amount(state, entry, entry.amount - cut)
        burn(state, UNBONDING_POOL, cut, "slash")
        taken += cut
    return owed, taken


def jail(state: Overlay, validator: Validator) -> Validator:
    """Take ``validator`` out of the candidate set (the next end-block sends power 0)."""
    jailed = validator.with_(jailed=True)
    set_validator(state, jailed)
    return jailed


def unjail(state: Overlay, validator: Validator) -> Validator:
    """Return ``validator`` to the candidate set (the caller checked that it may return)."""
    free = validator.with_(jailed=False)
    set_validator(state, free)
    return free
