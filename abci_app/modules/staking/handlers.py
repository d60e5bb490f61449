"""Staking state transitions: pure functions of (state, sender, message, context) -> events.

Token flows keep two module accounts exact: the bonded pool holds every validator's tokens, the
unbonding pool every unbonding entry, so supply = sum of all balances at all times.
"""

from __future__ import annotations

from ...address import to_bech32
from ...errors import (
    ConsensusKeyInUse,
    InsufficientDelegation,
    InvalidAmount,
    InvalidCommission,
    SelfBondTooLow,
    TooManyDelegations,
    UnknownValidator,
    ValidatorExists,
)
from ...state.overlay import Overlay
from ...types import Event
from ..bank.state import credit, debit
from ..distribution.rewards import settle, settle_event
from ..distribution.state import delete_start
from .messages import (
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from .params import StakingParams
from .state import (
    BONDED_POOL,
    UNBONDING_POOL,
    Redelegation,
    UnbondingEntry,
    Validator,
    add_redelegation,
    add_unbonding,
    consensus_address,
    delegations_of,
    get_params,
    get_shares,
    get_validator,
    set_shares,
    set_validator,
    validator_by_operator,
)


def _validator(state: Overlay, operator: bytes) -> Validator:
    v = validator_by_operator(state, operator)
    if v is None:
        raise UnknownValidator(f"no validator with operator {to_bech32(operator)}")
    return v


def apply_create_validator(
    state: Overlay, sender: bytes, msg: MsgCreateValidator, params: StakingParams
) -> list[Event]:
    if validator_by_operator(state, sender) is not None:
        raise ValidatorExists(f"{to_bech32(sender)} already operates a validator")
    cons = consensus_address(msg.pub_key)
    if get_validator(state, cons) is not None:
        raise ConsensusKeyInUse(f"consensus address {cons.hex().upper()} is taken")
    if msg.self_bond < params.min_self_bond:
        raise SelfBondTooLow(f"self_bond {msg.self_bond} < min_self_bond {params.min_self_bond}")
    debit(state, sender, msg.self_bond)
    credit(state, BONDED_POOL, msg.self_bond)
    v = Validator(
        operator=sender,
        pub_key=msg.pub_key,
        tokens=msg.self_bond,
        moniker=msg.moniker,
        delegator_shares=msg.self_bond,
        commission_rate=msg.commission_rate,
        max_rate=msg.max_rate,
        max_change_rate=msg.max_change_rate,
        website=msg.website,
    )
    set_validator(state, v)
    set_shares(state, sender, cons, msg.self_bond)
    settle(state, sender, cons)  # starts the self-delegation at the current accumulator
    return [
        Event.of(
            "create_validator",
            validator=to_bech32(sender),
            consensus_address=cons.hex().upper(),
            amount=msg.self_bond,
        )
    ]


def apply_edit_validator(state: Overlay, sender: bytes, msg: MsgEditValidator) -> list[Event]:
    v = _validator(state, sender)
    changes: dict[str, object] = {}
    if msg.moniker:
        changes["moniker"] = msg.moniker
    if msg.website:
        changes["website"] = msg.website
    if msg.set_commission:
        if msg.commission_rate > v.max_rate:
            raise InvalidCommission(f"commission_rate above max_rate {v.max_rate}")
        if abs(msg.commission_rate - v.commission_rate) > v.max_change_rate:
            raise InvalidCommission(f"commission may change by at most {v.max_change_rate}")
        changes["commission_rate"] = msg.commission_rate
    set_validator(state, v.with_(**changes))
    return [Event.of("edit_validator", validator=to_bech32(sender))]


def delegate_tokens(
    state: Overlay, delegator: bytes, v: Validator, amount: int
) -> tuple[Validator, list[Event]]:
    """Add ``amount`` (already in the bonded pool) to ``v`` as ``delegator``'s shares."""
    shares = v.shares_for(amount)
    if shares == 0:
        raise InvalidAmount("amount is too small to buy one share of this validator")
    had = get_shares(state, delegator, v.cons_address)
    if had == 0:
        cap = get_params(state).max_delegations
        if len(delegations_of(state, delegator)) >= cap:
            raise TooManyDelegations(
                f"{to_bech32(delegator)} already delegates to {cap} validators "
                "(max_delegations): undelegate or redelegate from one first"
            )
    # rewards so far were earned by the old shares: pay them first
    events = settle_event(delegator, v.operator, settle(state, delegator, v.cons_address))
    v2 = v.with_(tokens=v.tokens + amount, delegator_shares=v.delegator_shares + shares)
    set_validator(state, v2)
    set_shares(state, delegator, v.cons_address, had + shares)
    return v2, events


def apply_delegate(state: Overlay, sender: bytes, msg: MsgDelegate) -> list[Event]:
    v = _validator(state, msg.validator)
    debit(state, sender, msg.amount)
    credit(state, BONDED_POOL, msg.amount)
    _, events = delegate_tokens(state, sender, v, msg.amount)
    return [
        *events,
        Event.of(
            "delegate",
            delegator=to_bech32(sender),
            validator=to_bech32(msg.validator),
            amount=msg.amount,
        ),
    ]


def unbond_tokens(
    state: Overlay, delegator: bytes, v: Validator, amount: int, params: StakingParams
) -> tuple[Validator, int, list[Event]]:
    """Remove ``amount`` tokens' worth of shares; return (updated validator, tokens removed).

    Shares needed are rounded up, tokens paid out rounded down, so rounding never favours
    the one leaving. The last shares out take any remaining dust with them.
    """
    have = get_shares(state, delegator, v.cons_address)
    worth = v.tokens_for(have)
    if have == 0 or amount > worth:
        raise InsufficientDelegation(f"delegation to {v.moniker} is worth {worth}, asked {amount}")
    shares = -(-amount * v.delegator_shares // v.tokens)  # ceil
    shares = min(shares, have)
    events = settle_event(delegator, v.operator, settle(state, delegator, v.cons_address))
    if shares == have:
        delete_start(state, delegator, v.cons_address)
    out = v.tokens_for(shares)
    rest_shares = v.delegator_shares - shares
    rest_tokens = v.tokens - out
    if rest_shares == 0:
        out += rest_tokens
        rest_tokens = 0
    set_shares(state, delegator, v.cons_address, have - shares)
    jailed = v.jailed
    if delegator == v.operator and rest_tokens > 0:
        left = (have - shares) * rest_tokens // rest_shares if rest_shares else 0
        jailed = jailed or left < params.min_self_bond  # as in Cosmos: under-bonded is jailed
    v2 = v.with_(tokens=rest_tokens, delegator_shares=rest_shares, jailed=jailed)
    set_validator(state, v2)
    return v2, out, events


def apply_undelegate(
    state: Overlay, sender: bytes, msg: MsgUndelegate, params: StakingParams, height: int
) -> list[Event]:
    v = _validator(state, msg.validator)
    _, out, events = unbond_tokens(state, sender, v, msg.amount, params)
    debit(state, BONDED_POOL, out)
    credit(state, UNBONDING_POOL, out)
    done = height + params.unbonding_blocks
    add_unbonding(state, UnbondingEntry(sender, v.cons_address, done, out))
    return [
        *events,
        Event.of(
            "unbond",
            delegator=to_bech32(sender),
            validator=to_bech32(msg.validator),
            amount=out,
            completion_height=done,
        ),
    ]


def apply_redelegate(
    state: Overlay, sender: bytes, msg: MsgRedelegate, params: StakingParams, height: int
) -> list[Event]:
    src = _validator(state, msg.src_validator)
    dst = _validator(state, msg.dst_validator)
    _, out, events = unbond_tokens(state, sender, src, msg.amount, params)
    dst2, more = delegate_tokens(state, sender, dst, out)  # tokens stay in the bonded pool
    add_redelegation(
        state,
        Redelegation(
            sender,
            src.cons_address,
            dst.cons_address,
            height,
            height + params.unbonding_blocks,
            dst2.delegator_shares - dst.delegator_shares,
        ),
    )
    return (
        events
        + more
        + [
            Event.of(
                "redelegate",
                delegator=to_bech32(sender),
                src_validator=to_bech32(msg.src_validator),
                dst_validator=to_bech32(msg.dst_validator),
                amount=out,
            )
        ]
    )
