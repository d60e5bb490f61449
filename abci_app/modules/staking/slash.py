"""Slashing mechanics: how much of a validator's stake a slash burns, and jailing.

Staking owns these; the slashing module decides *when* (downtime window, double-sign evidence)
and calls them (Cosmos SDK: ``x/staking/keeper/slash.go`` vs ``x/slashing/keeper``). Slashed
tokens are burned through bank. A validator's shares do not change when its tokens are cut, so
every delegator loses the same fraction and reward accounting per share is untouched.
"""

from __future__ import annotations

from dataclasses import replace

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
    add_unbonding,
    all_redelegations,
    all_unbondings,
    get_shares,
    get_validator,
    remove_unbonding,
    set_redelegation,
    set_shares,
    set_validator,
)


def slash(
    state: Overlay,
    validator: Validator,
    fraction: int,
    infraction_height: int | None,
    params: StakingParams,
    hooks: StakingHooks,
) -> tuple[Validator, int]:
    """Burn ``fraction`` (of RATE_ONE) of ``validator``'s tokens; return the updated validator
    and the base units burned in all.

    With ``infraction_height`` (double sign) the same fraction is also cut from what left the
    validator since that height and would otherwise escape: unbonding entries created at or
    after it (their tokens wait in the unbonding pool) and shares redelegated away from it at
    or after it (cut at the destination, while the redelegation entry lives). Cosmos SDK
    ``Keeper.Slash``: SlashUnbondingDelegation and SlashRedelegation. Every cut floors.
    Writes: the validator, the cut unbonding entries, the redelegations and their destination
    validators and delegations; burns through bank. Emits nothing (the caller reports).
    """
    amount = validator.tokens * fraction // RATE_ONE
    burn(state, BONDED_POOL, amount)
    slashed = validator.with_(tokens=validator.tokens - amount)
    set_validator(state, slashed)
    burned = amount
    if infraction_height is not None:
        for e in all_unbondings(state):
            created = e.completion_height - params.unbonding_blocks
            if e.cons_address == validator.cons_address and created >= infraction_height:
                cut = e.amount * fraction // RATE_ONE
                if cut:
                    remove_unbonding(state, e)
                    add_unbonding(state, replace(e, amount=e.amount - cut))
                    burn(state, UNBONDING_POOL, cut)
                    burned += cut
        for r in all_redelegations(state):
            if r.src == validator.cons_address and r.creation_height >= infraction_height:
                burned += _slash_redelegation(state, r, fraction, hooks)
    return slashed, burned


def _slash_redelegation(state: Overlay, r: Redelegation, fraction: int, hooks: StakingHooks) -> int:
    """Cut the shares a delegator moved away from the offender after the infraction; return
    the tokens burned."""
    dst = get_validator(state, r.dst)
    if dst is None:  # pragma: no cover - validator records are never deleted
        return 0
    have = get_shares(state, r.delegator, r.dst)
    cut = min(r.shares * fraction // RATE_ONE, have)
    if cut == 0:
        return 0
    # rewards were earned with the shares before the cut (this payout has never had an event)
    hooks.before_delegation_shares_modified(state, r.delegator, dst, DISCARD_EVENTS)
    tokens = dst.tokens_for(cut)
    set_shares(state, r.delegator, r.dst, have - cut)
    if have == cut:
        hooks.after_delegation_removed(state, r.delegator, dst)
    set_validator(
        state, dst.with_(tokens=dst.tokens - tokens, delegator_shares=dst.delegator_shares - cut)
    )
    set_redelegation(state, replace(r, shares=r.shares - cut))
    burn(state, BONDED_POOL, tokens)
    return tokens


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
