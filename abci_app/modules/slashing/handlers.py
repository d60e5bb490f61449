"""Slashing state transitions: downtime and evidence (begin-block) and ``unjail``.

Slashing burns: the slashed tokens leave the bonded (or unbonding) pool and the total supply.
A validator's shares do not change, so every delegator loses the same fraction, and reward
accounting (per share) is untouched.
"""

from __future__ import annotations

from dataclasses import replace

from ...address import to_bech32
from ...errors import NotJailed, SelfBondTooLow, StillJailed, Tombstoned, UnknownValidator
from ...params import RATE_ONE
from ...state.overlay import Overlay
from ...types import BlockHeader, Event
from ..bank.keeper import burn
from ..distribution.rewards import settle
from ..distribution.state import delete_start
from ..staking.state import (
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
    validator_by_operator,
)
from ..staking.state import (
    get_params as get_staking_params,
)
from .messages import MsgUnjail
from .state import (
    FOREVER,
    SigningInfo,
    clear_missed,
    get_block_time,
    get_info,
    get_params,
    is_missed,
    set_block_time,
    set_info,
    set_missed,
)


def _slash_redelegation(state: Overlay, r: Redelegation, fraction: int) -> int:
    """Cut the shares a delegator moved away from the offender after the infraction."""
    dst = get_validator(state, r.dst)
    if dst is None:  # pragma: no cover - validator records are never deleted
        return 0
    have = get_shares(state, r.delegator, r.dst)
    cut = min(r.shares * fraction // RATE_ONE, have)
    if cut == 0:
        return 0
    settle(state, r.delegator, r.dst)  # rewards were earned with the shares before the cut
    tokens = dst.tokens_for(cut)
    set_shares(state, r.delegator, r.dst, have - cut)
    if have == cut:
        delete_start(state, r.delegator, r.dst)
    set_validator(
        state, dst.with_(tokens=dst.tokens - tokens, delegator_shares=dst.delegator_shares - cut)
    )
    set_redelegation(state, replace(r, shares=r.shares - cut))
    burn(state, BONDED_POOL, tokens)
    return tokens


def slash(
    state: Overlay, v: Validator, fraction: int, reason: str, since_height: int | None = None
) -> tuple[Validator, list[Event]]:
    """Burn ``fraction`` of ``v``'s tokens and jail it. With ``since_height`` (double sign),
    unbonding entries created at or after that height lose the same fraction."""
    amount = v.tokens * fraction // RATE_ONE
    burn(state, BONDED_POOL, amount)
    v2 = v.with_(tokens=v.tokens - amount, jailed=True)
    set_validator(state, v2)
    burned = amount
    if since_height is not None:
        unbonding_blocks = get_staking_params(state).unbonding_blocks
        for e in all_unbondings(state):
            if e.cons_address == v.cons_address and (
                e.completion_height - unbonding_blocks >= since_height
            ):
                cut = e.amount * fraction // RATE_ONE
                if cut:
                    remove_unbonding(state, e)
                    add_unbonding(state, replace(e, amount=e.amount - cut))
                    burn(state, UNBONDING_POOL, cut)
                    burned += cut
        for r in all_redelegations(state):
            if r.src == v.cons_address and r.creation_height >= since_height:
                burned += _slash_redelegation(state, r, fraction)
    return v2, [
        Event.of(
            "slash",
            validator=to_bech32(v.operator),
            consensus_address=v.cons_address.hex().upper(),
            reason=reason,
            amount=burned,
        ),
        Event.of("jail", validator=to_bech32(v.operator), reason=reason),
    ]


def handle_votes(state: Overlay, header: BlockHeader) -> list[Event]:
    """Count each validator's vote on the previous block; slash and jail the ones down."""
    set_block_time(state, header.time)
    params = get_params(state)
    window = params.signed_blocks_window
    max_missed = window - window * params.min_signed_per_window // RATE_ONE
    events = []
    for vote in sorted(header.votes, key=lambda v: v.address):
        v = get_validator(state, vote.address)
        if v is None:
            continue
        info = get_info(state, vote.address) or SigningInfo(start_height=header.height)
        index = info.counter % window
        was, now = is_missed(state, vote.address, index), not vote.signed
        missed = info.missed + int(now) - int(was)
        if was != now:
            set_missed(state, vote.address, index, now)
        info = info.with_(counter=info.counter + 1, missed=missed)
        if not v.jailed and not info.tombstoned and info.counter > window and missed > max_missed:
            _, slash_events = slash(state, v, params.slash_fraction_downtime, "downtime")
            events += slash_events
            clear_missed(state, vote.address)
            info = info.with_(
                counter=0,
                missed=0,
                start_height=header.height,
                jailed_until=header.time + params.downtime_jail_seconds,
            )
        set_info(state, vote.address, info)
    return events


def handle_evidence(state: Overlay, header: BlockHeader) -> list[Event]:
    """Double signing: slash 5% (and later unbonding entries), jail and tombstone."""
    params = get_params(state)
    events = []
    for ev in sorted(header.evidence, key=lambda e: (e.height, e.address)):
        v = get_validator(state, ev.address)
        info = get_info(state, ev.address) or SigningInfo(start_height=header.height)
        if v is None or info.tombstoned:
            continue
        _, slash_events = slash(
            state, v, params.slash_fraction_double_sign, ev.kind, since_height=ev.height
        )
        events += slash_events
        set_info(state, ev.address, info.with_(tombstoned=True, jailed_until=FOREVER))
        events.append(Event.of("tombstone", validator=to_bech32(v.operator)))
    return events


def apply_unjail(state: Overlay, sender: bytes, msg: MsgUnjail) -> list[Event]:
    v = validator_by_operator(state, sender)
    if v is None:
        raise UnknownValidator(f"{to_bech32(sender)} operates no validator")
    if not v.jailed:
        raise NotJailed(f"{v.moniker} is not jailed")
    info = get_info(state, v.cons_address)
    if info is not None and info.tombstoned:
        raise Tombstoned(f"{v.moniker} double-signed and can never return")
    now = get_block_time(state)
    if info is not None and now < info.jailed_until:
        raise StillJailed(f"jailed until unix time {info.jailed_until}; block time is {now}")
    own = v.tokens_for(get_shares(state, sender, v.cons_address))
    min_bond = get_staking_params(state).min_self_bond
    if own < min_bond:
        raise SelfBondTooLow(
            f"self-bond {own} is below min_self_bond {min_bond}: delegate to your validator first"
        )
    set_validator(state, v.with_(jailed=False))
    return [Event.of("unjail", validator=to_bech32(sender))]
