"""Staking's message handlers: pure functions ``(state, sender, msg, ctx) -> None``.

Token flows keep two module accounts exact: the bonded pool holds every validator's tokens, the
unbonding pool every unbonding entry, so supply = sum of all balances at all times. Before a
delegation's shares change, :attr:`ChainContext.hooks` settles what they earned (distribution
implements the hooks; staking imports nothing from it). Model: Cosmos SDK x/staking msg_server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...address import to_bech32
from ...errors import (
    CommissionChangeTooSoon,
    ConsensusKeyInUse,
    InsufficientDelegation,
    InvalidAmount,
    InvalidCommission,
    MaxEntriesReached,
    SelfBondTooLow,
    TooManyDelegations,
    TransitiveRedelegation,
    UnknownValidator,
    ValidatorExists,
    ValidatorHasNoTokens,
)
from ...state.overlay import Overlay
from ..bank.keeper import send
from .hooks import StakingHooks
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
    receiving_redelegation,
    redelegation_entries,
    set_shares,
    set_validator,
    unbondings_of_pair,
    validator_by_operator,
)

if TYPE_CHECKING:
    from ...context import ChainContext
    from ...types import EventSink


def _validator(state: Overlay, operator: bytes) -> Validator:
    v = validator_by_operator(state, operator)
    if v is None:
        raise UnknownValidator(f"no validator with operator {to_bech32(operator)}")
    return v


def apply_create_validator(
    state: Overlay, sender: bytes, msg: MsgCreateValidator, ctx: ChainContext
) -> None:
    """Create a validator operated by ``sender`` with a self-bond of ``msg.self_bond``.

    Preconditions: ``msg`` validated (32-byte key, commission_rate <= max_rate <= 100%,
    max_change_rate <= max_rate). Writes: sender's balance, the bonded pool, the validator
    record and operator index (creation counts as its first commission change), the
    self-delegation; the hooks start its rewards.
    Events: ``create_validator(validator, consensus_address, amount)``.

    Raises:
        ValidatorExists: ``sender`` already operates a validator.
        ConsensusKeyInUse: another validator has this consensus key.
        SelfBondTooLow: ``self_bond`` < ``min_self_bond``.
        InsufficientFunds: the sender cannot pay the self-bond.
    """
    params = ctx.params_of(StakingParams)
    if validator_by_operator(state, sender) is not None:
        raise ValidatorExists(f"{to_bech32(sender)} already operates a validator")
    cons = consensus_address(msg.pub_key)
    if get_validator(state, cons) is not None:
        raise ConsensusKeyInUse(f"consensus address {cons.hex().upper()} is taken")
    if msg.self_bond < params.min_self_bond:
        raise SelfBondTooLow(f"self_bond {msg.self_bond} < min_self_bond {params.min_self_bond}")
    send(state, sender, BONDED_POOL, msg.self_bond)
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
        commission_updated_at=ctx.height,
    )
    set_validator(state, v)
    set_shares(state, sender, cons, msg.self_bond)
    ctx.hooks.after_validator_created(state, v)
    ctx.events.emit(
        "create_validator",
        validator=to_bech32(sender),
        consensus_address=cons.hex().upper(),
        amount=msg.self_bond,
    )


def apply_edit_validator(
    state: Overlay, sender: bytes, msg: MsgEditValidator, ctx: ChainContext
) -> None:
    """Change the moniker, website and (with ``set_commission``) commission rate of the
    validator ``sender`` operates; empty texts leave a field as it is.

    A commission change follows Cosmos x/staking ``Commission.ValidateNewRate``: at most one per
    ``commission_change_blocks`` (counted from the last change, creation included, so several
    messages or txs cannot add up), never above the validator's max_rate, and an increase of at
    most its max_change_rate (a decrease may be of any size).

    Writes: the validator record (``commission_updated_at`` on a commission change).
    Events: ``edit_validator(validator)``.

    Raises:
        UnknownValidator: ``sender`` operates no validator.
        CommissionChangeTooSoon: the last change was less than ``commission_change_blocks``
            ago (the log gives the height the next one is allowed at).
        InvalidCommission: the new rate is above max_rate, or above the current one by more
            than max_change_rate.
    """
    v = _validator(state, sender)
    changes: dict[str, object] = {}
    if msg.moniker:
        changes["moniker"] = msg.moniker
    if msg.website:
        changes["website"] = msg.website
    if msg.set_commission:
        window = ctx.params_of(StakingParams).commission_change_blocks
        allowed = v.commission_updated_at + window
        if ctx.height < allowed:
            raise CommissionChangeTooSoon(
                f"{v.moniker}'s commission last changed at height {v.commission_updated_at}; "
                f"the next change is allowed from height {allowed} (commission_change_blocks "
                f"{window})"
            )
        if msg.commission_rate > v.max_rate:
            raise InvalidCommission(f"commission_rate above max_rate {v.max_rate}")
        if msg.commission_rate - v.commission_rate > v.max_change_rate:
            raise InvalidCommission(
                f"commission may rise by at most {v.max_change_rate} per change "
                f"(from {v.commission_rate})"
            )
        changes["commission_rate"] = msg.commission_rate
        changes["commission_updated_at"] = ctx.height
    set_validator(state, v.with_(**changes))
    ctx.events.emit("edit_validator", validator=to_bech32(sender))


def delegate_tokens(
    state: Overlay,
    delegator: bytes,
    v: Validator,
    amount: int,
    hooks: StakingHooks,
    events: EventSink,
) -> Validator:
    """Add ``amount`` tokens (already in the bonded pool) to ``v`` as ``delegator``'s shares
    (``amount * delegator_shares // tokens``, 1:1 for a fresh validator); return the updated
    validator. The hooks settle the delegation's rewards first.

    Raises:
        ValidatorHasNoTokens: ``v`` was slashed to zero tokens while shares remain: its shares
            are worth nothing and new ones would be sold 1:1 into them (Cosmos
            ``ErrDelegatorShareExRateInvalid``).
        InvalidAmount: ``amount`` buys less than one share.
        TooManyDelegations: a new delegation past ``max_delegations`` (issue 13: the loop of
            withdraw_rewards over an account's delegations is bounded by it).
    """
    if v.has_no_tokens_for_its_shares:
        raise ValidatorHasNoTokens(
            f"{v.moniker} has 0 tokens for {v.delegator_shares} shares: it sells no shares "
            "until its delegators have left"
        )
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
    hooks.before_delegation_shares_modified(state, delegator, v, events)
    v2 = v.with_(tokens=v.tokens + amount, delegator_shares=v.delegator_shares + shares)
    set_validator(state, v2)
    set_shares(state, delegator, v.cons_address, had + shares)
    return v2


def apply_delegate(state: Overlay, sender: bytes, msg: MsgDelegate, ctx: ChainContext) -> None:
    """Bond ``msg.amount`` of ``sender``'s tokens to the validator operated by
    ``msg.validator``.

    Writes: sender's balance, the bonded pool, the validator, the delegation (pending rewards
    are paid out first). Events: ``withdraw_rewards`` (when rewards were paid), then
    ``delegate(delegator, validator, amount)``.

    Raises:
        UnknownValidator: no validator with that operator.
        InsufficientFunds: the sender cannot pay.
        ValidatorHasNoTokens: the validator was slashed to zero tokens while shares remain.
        InvalidAmount: the amount buys less than one share.
    """
    v = _validator(state, msg.validator)
    send(state, sender, BONDED_POOL, msg.amount)
    delegate_tokens(state, sender, v, msg.amount, ctx.hooks, ctx.events)
    ctx.events.emit(
        "delegate",
        delegator=to_bech32(sender),
        validator=to_bech32(msg.validator),
        amount=msg.amount,
    )


def unbond_tokens(
    state: Overlay,
    delegator: bytes,
    v: Validator,
    amount: int,
    params: StakingParams,
    hooks: StakingHooks,
    events: EventSink,
    everything: bool = False,
) -> tuple[Validator, int]:
    """Remove ``amount`` tokens' worth of ``delegator``'s shares of ``v`` (with
    ``everything``: all its shares, ``amount`` ignored); return (updated validator, tokens
    removed).

    Shares needed are rounded up, tokens paid out rounded down, so rounding never favours the
    one leaving (Cosmos ``ValidateUnbondAmount``). When the shares left would be worth nothing,
    they go too: undelegating what the delegation is worth (what the query shows) closes it.
    The last shares out take any remaining dust with them. An operator whose own delegation
    falls below ``min_self_bond`` is jailed (as in Cosmos). The hooks settle the delegation's
    rewards first and drop its records when it is gone.

    Raises:
        InsufficientDelegation: there is no delegation, or it is worth less than ``amount``.
    """
    have = get_shares(state, delegator, v.cons_address)
    worth = v.tokens_for(have)
    if have == 0:
        raise InsufficientDelegation(f"{to_bech32(delegator)} has no delegation to {v.moniker}")
    if everything:
        shares = have
    else:
        if amount > worth:
            raise InsufficientDelegation(
                f"delegation to {v.moniker} is worth {worth}, asked {amount}"
            )
        shares = min(-(-amount * v.delegator_shares // v.tokens), have)  # ceil
        if v.tokens_for(have - shares) == 0:
            shares = have  # what would be left is worth nothing: close the delegation
    hooks.before_delegation_shares_modified(state, delegator, v, events)
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
    if shares == have:
        hooks.after_delegation_removed(state, delegator, v2)
    return v2, out


def apply_undelegate(state: Overlay, sender: bytes, msg: MsgUndelegate, ctx: ChainContext) -> None:
    """Unbond ``msg.amount`` tokens (``msg.all``: the whole delegation) of ``sender``'s
    delegation to ``msg.validator``; they wait in the unbonding pool for ``unbonding_blocks``
    (staking's end-block releases them). Undelegating what the delegation is worth, or all of
    it, closes it, even when a slash left it worth nothing.

    Writes: the delegation, the validator, both pools, an unbonding entry completing at
    height + unbonding_blocks (same height and pair: amounts add up; none for 0 tokens).
    Events: ``withdraw_rewards`` (when rewards were paid), then
    ``unbond(delegator, validator, amount, completion_height)``.

    Raises:
        UnknownValidator: no validator with that operator.
        MaxEntriesReached: ``max_entries`` unbonding entries from this validator are live.
        InsufficientDelegation: no delegation, or it is worth less than the amount.
    """
    params = ctx.params_of(StakingParams)
    v = _validator(state, msg.validator)
    done = ctx.height + params.unbonding_blocks
    heights = {e.completion_height for e in unbondings_of_pair(state, sender, v.cons_address)}
    _, out = unbond_tokens(
        state, sender, v, msg.amount, params, ctx.hooks, ctx.events, everything=msg.all
    )
    if out and done not in heights and len(heights) >= params.max_entries:
        raise MaxEntriesReached(
            f"{len(heights)} unbonding entries from {v.moniker} (max_entries): the first "
            f"completes at height {min(heights)}"
        )
    if out:
        send(state, BONDED_POOL, UNBONDING_POOL, out)
        add_unbonding(state, UnbondingEntry(sender, v.cons_address, done, out))
    ctx.events.emit(
        "unbond",
        delegator=to_bech32(sender),
        validator=to_bech32(msg.validator),
        amount=out,
        completion_height=done,
    )


def apply_redelegate(state: Overlay, sender: bytes, msg: MsgRedelegate, ctx: ChainContext) -> None:
    """Move ``msg.amount`` tokens of ``sender``'s delegation from ``msg.src_validator`` to
    ``msg.dst_validator`` at once (the tokens stay in the bonded pool). A redelegation entry
    keeps the moved tokens slashable for an infraction of the source until
    height + unbonding_blocks, and until then the delegator may not redelegate out of the
    destination (Cosmos x/staking ``BeginRedelegation``: ``HasReceivingRedelegation``, no
    transitive redelegation), so a hop cannot carry stake out of a slash's reach.

    Writes: both delegations and validators, the redelegation entry (with the tokens moved).
    Events: ``withdraw_rewards`` for each delegation that was paid, then
    ``redelegate(delegator, src_validator, dst_validator, amount)``.

    Raises:
        UnknownValidator: either operator has no validator.
        TransitiveRedelegation: ``sender``'s stake at the source is still arriving by
            redelegation (the log gives the height it completes at).
        MaxEntriesReached: ``max_entries`` redelegations of this pair are live.
        InsufficientDelegation: the source delegation is worth less than the amount.
        ValidatorHasNoTokens: the destination was slashed to zero tokens.
        InvalidAmount: the moved tokens buy less than one share of the destination.
    """
    params = ctx.params_of(StakingParams)
    src = _validator(state, msg.src_validator)
    dst = _validator(state, msg.dst_validator)
    arriving_until = receiving_redelegation(state, sender, src.cons_address)
    if arriving_until is not None:
        raise TransitiveRedelegation(
            f"stake of {to_bech32(sender)} is still redelegating into {src.moniker} until height "
            f"{arriving_until}: redelegate it after that (undelegating is allowed)"
        )
    done = ctx.height + params.unbonding_blocks
    entries = redelegation_entries(state, sender, src.cons_address, dst.cons_address)
    if done not in entries and len(entries) >= params.max_entries:
        raise MaxEntriesReached(
            f"{len(entries)} redelegations from {src.moniker} to {dst.moniker} (max_entries): "
            f"the first completes at height {min(entries)}"
        )
    _, out = unbond_tokens(state, sender, src, msg.amount, params, ctx.hooks, ctx.events)
    dst2 = delegate_tokens(state, sender, dst, out, ctx.hooks, ctx.events)
    add_redelegation(
        state,
        Redelegation(
            sender,
            src.cons_address,
            dst.cons_address,
            ctx.height,
            done,
            dst2.delegator_shares - dst.delegator_shares,
            out,
        ),
    )
    ctx.events.emit(
        "redelegate",
        delegator=to_bech32(sender),
        src_validator=to_bech32(msg.src_validator),
        dst_validator=to_bech32(msg.dst_validator),
        amount=out,
    )
