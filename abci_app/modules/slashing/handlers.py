"""Slashing decides *when* a validator is punished: downtime over a sliding window of blocks and
double signing from CometBFT's evidence (begin-block steps), and when it may return (``unjail``).
How much is burned, and jailing itself, are staking's (:mod:`..staking.slash`). Model: Cosmos
SDK x/slashing (``HandleValidatorSignature``, ``HandleEquivocationEvidence``, ``Unjail``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...address import to_bech32
from ...errors import NotJailed, SelfBondTooLow, StillJailed, Tombstoned, UnknownValidator
from ...params import RATE_ONE
from ...state.overlay import Overlay
from ...types import BlockHeader, Event
from ..staking.params import StakingParams
from ..staking.slash import jail, slash, unjail
from ..staking.state import Validator, get_validator, self_bond_of, validator_by_operator
from .messages import MsgUnjail
from .params import SlashingParams
from .state import (
    FOREVER,
    SigningInfo,
    clear_missed,
    get_block_time,
    get_info,
    is_missed,
    set_block_time,
    set_info,
    set_missed,
)

if TYPE_CHECKING:
    from ...context import ChainContext


def record_block_time(state: Overlay, header: BlockHeader) -> None:
    """Begin-block step: keep the block's time (unix seconds from the header, never the wall
    clock): ``unjail``, also in CheckTx, compares it with ``jailed_until``."""
    set_block_time(state, header.time)


def _punish(
    state: Overlay,
    v: Validator,
    fraction: int,
    reason: str,
    infraction_height: int,
    power: int,
    ctx: ChainContext,
) -> list[Event]:
    """Have staking slash ``fraction`` of the stake ``v`` had at ``infraction_height`` (its
    voting ``power`` then, including what left it since) and jail it; the ``slash`` and
    ``jail`` events."""
    staking = ctx.params_of(StakingParams)
    slashed, burned = slash(state, v, fraction, infraction_height, power, staking, ctx.hooks)
    jail(state, slashed)
    return [
        Event.of(
            "slash",
            validator=to_bech32(v.operator),
            consensus_address=v.cons_address.hex().upper(),
            reason=reason,
            amount=burned,
        ),
        Event.of("jail", validator=to_bech32(v.operator), reason=reason),
    ]


def handle_downtime(state: Overlay, header: BlockHeader, ctx: ChainContext) -> list[Event]:
    """Begin-block step: count each validator's vote on the previous block into its signing
    window; one that signed fewer than ``min_signed_per_window`` of the last
    ``signed_blocks_window`` blocks (once a full window is counted) is slashed
    ``slash_fraction_downtime`` of its power on the missed block (the vote's power; the
    infraction is the previous block, as Cosmos ``HandleValidatorSignature``), jailed until
    block time + ``downtime_jail_seconds`` and starts a fresh window. Jailed and tombstoned
    validators are counted but not punished again.

    Writes: signing infos and missed-block bits; through staking, the slashed validators.
    Returns the ``slash`` and ``jail`` events.
    """
    params = ctx.params_of(SlashingParams)
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
            events += _punish(
                state,
                v,
                params.slash_fraction_downtime,
                "downtime",
                header.height - 1,
                vote.power,
                ctx,
            )
            clear_missed(state, vote.address)
            info = info.with_(
                counter=0,
                missed=0,
                start_height=header.height,
                jailed_until=header.time + params.downtime_jail_seconds,
            )
        set_info(state, vote.address, info)
    return events


def handle_evidence(state: Overlay, header: BlockHeader, ctx: ChainContext) -> list[Event]:
    """Begin-block step: for each piece of double-sign evidence (by infraction height, then
    address), slash ``slash_fraction_double_sign`` of the power the evidence reports at the
    infraction height (Cosmos x/evidence ``HandleEquivocationEvidence``: the stake that signed,
    wherever it went since), jail it and tombstone it (``jailed_until`` = FOREVER). Evidence
    against an unknown or already tombstoned validator changes nothing.

    Writes: signing infos; through staking, the slashed records. Returns the ``slash``,
    ``jail`` and ``tombstone`` events.
    """
    params = ctx.params_of(SlashingParams)
    events = []
    for ev in sorted(header.evidence, key=lambda e: (e.height, e.address)):
        v = get_validator(state, ev.address)
        info = get_info(state, ev.address) or SigningInfo(start_height=header.height)
        if v is None or info.tombstoned:
            continue
        events += _punish(
            state, v, params.slash_fraction_double_sign, ev.kind, ev.height, ev.power, ctx
        )
        set_info(state, ev.address, info.with_(tombstoned=True, jailed_until=FOREVER))
        events.append(Event.of("tombstone", validator=to_bech32(v.operator)))
    return events


def apply_unjail(state: Overlay, sender: bytes, msg: MsgUnjail, ctx: ChainContext) -> None:
    """Return the jailed validator ``sender`` operates to the candidate set.

    Preconditions: none beyond a paid tx (the message is empty). Writes: the validator record
    (staking's end-block then sends its power). Events: ``unjail(validator)``.

    Raises:
        UnknownValidator: ``sender`` operates no validator.
        NotJailed: the validator is not jailed.
        Tombstoned: it double-signed and can never return.
        StillJailed: the last block's time is before its ``jailed_until``.
        SelfBondTooLow: the operator's own delegation is worth less than ``min_self_bond``.
    """
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
    own = self_bond_of(state, v)
    min_bond = ctx.params_of(StakingParams).min_self_bond
    if own < min_bond:
        raise SelfBondTooLow(
            f"self-bond {own} is below min_self_bond {min_bond}: delegate to your validator first"
        )
    unjail(state, v)
    ctx.events.emit("unjail", validator=to_bech32(sender))
