"""The reward rules: minting by the emission schedule, allocating a block's rewards, settling
and withdrawing them.

Begin of block H, for the commit of block H-1 (execution calls the steps in this order):
1. :func:`mint_block_reward`: the block reward (halved every ``halving_interval`` blocks, capped
   at ``max_supply``), minted by bank into the distribution pool;
2. (subnets) all but ``consensus_reward_share`` of it (:func:`subnet_share`) accrues to the
   subnets, pro rata to their stake (none when no subnet has stake);
3. :func:`allocate`: the fees collected so far join it (``fee_burn_rate`` of them burned); the
   previous block's proposer gets base + bonus * (signed power / total power) of the total and
   the rest goes to the validators that signed, pro rata to power; of each share the validator
   keeps ``commission_rate`` as commission and the rest raises its reward-per-share accumulator
   and its outstanding rewards.
Every division floors; what no validator was paid (a block nobody signed, the rounding of the
split) goes to the community pool (Cosmos x/distribution ``AllocateTokens``), so the
distribution pool holds exactly what it owes. Delegations are paid when their shares change
(:func:`settle`, through staking's hooks) or on ``withdraw_rewards``. Model: Cosmos SDK
x/distribution (F1 fee distribution).
"""

from __future__ import annotations

from ...params import RATE_ONE
from ...state.keys import DIST_PARAMS
from ...state.overlay import KVReader, Overlay
from ...types import Event, Vote
from ..bank.keeper import burn, mint, send
from ..bank.module_accounts import COMMUNITY_POOL, FEE_COLLECTOR
from ..bank.state import Account, get_account, get_supply
from ..staking.state import (
    get_shares,
    get_validator,
)
from .params import DistributionParams
from .state import (
    ACC_PRECISION,
    DISTRIBUTION_POOL,
    get_accumulator,
    get_commission,
    get_minted,
    get_outstanding,
    get_prev_proposer,
    get_start,
    set_accumulator,
    set_commission,
    set_minted,
    set_outstanding,
    set_prev_proposer,
    set_start,
)


def get_params(state: KVReader) -> DistributionParams:
    """Distribution's params as stored (defaults before genesis writes them)."""
    raw = state.get(DIST_PARAMS)
    return DistributionParams() if raw is None else DistributionParams.decode(raw)


def set_params(state: Overlay, params: DistributionParams) -> None:
    """Store distribution's params (genesis only)."""
    state.set(DIST_PARAMS, params.encode())


def block_reward(params: DistributionParams, height: int) -> int:
    """The block reward at ``height`` in base units before the supply cap:
    ``block_reward >> (height // halving_interval)`` (0 after 64 halvings). ModernTensor's
    published schedule: 0.24 MDT per block, halving every 8,760,000 blocks.
    """
    halvings = height // params.halving_interval
    return params.block_reward >> halvings if halvings < 64 else 0


def mint_block_reward(state: Overlay, params: DistributionParams, height: int) -> int:
    """Mint this block's reward into the distribution pool; return the amount."""
    amount = min(block_reward(params, height), max(0, params.max_supply - get_supply(state)))
    if amount:
        mint(state, DISTRIBUTION_POOL, amount)
        set_minted(state, get_minted(state) + amount)
    return amount


def collect_fees(state: Overlay, params: DistributionParams, fee_collector: bytes) -> int:
    """Move collected fees into the distribution pool, burning ``fee_burn_rate`` of them."""
    fees = (get_account(state, fee_collector) or Account()).balance
    if not fees:
        return 0
    burned = fees * params.fee_burn_rate // RATE_ONE
    burn(state, fee_collector, burned, "fee")
    send(state, fee_collector, DISTRIBUTION_POOL, fees - burned)
    return fees - burned


def reward_validator(state: Overlay, cons: bytes, amount: int) -> int:
    """Credit ``amount`` (already in the pool) to validator ``cons``: ``commission_rate`` of it
    as commission, the rest to its delegators (reward per share and outstanding rewards).
    Return what could not be credited (no such validator, or no shares to own it), for the
    caller to send to the community pool."""
    v = get_validator(state, cons)
    if v is None or amount == 0:
        return amount
    commission = amount * v.commission_rate // RATE_ONE
    set_commission(state, cons, get_commission(state, cons) + commission)
    rest = amount - commission
    if not v.delegator_shares:
        return rest
    delta = rest * ACC_PRECISION // v.delegator_shares
    set_accumulator(state, cons, get_accumulator(state, cons) + delta)
    set_outstanding(state, cons, get_outstanding(state, cons) + rest)
    return 0


def subnet_share(params: DistributionParams, minted: int) -> int:
    """The part of a block's minted reward offered to the subnets: all but
    ``consensus_reward_share`` of it (floor on the validators' part)."""
    return minted - minted * params.consensus_reward_share // RATE_ONE


def allocate(
    state: Overlay,
    params: DistributionParams,
    height: int,
    proposer: bytes,
    votes: tuple[Vote, ...],
    minted: int,
    to_subnets: int,
) -> list[Event]:
    """Begin-block step: pay the previous block's signers and proposer what stayed of the
    minted reward (``minted - to_subnets``) plus the collected fees (less the burned part).

    The proposer of the previous block (remembered from the last call) gets
    ``base_proposer_reward + bonus_proposer_reward * signed power / total power`` of it; the
    rest goes to the validators that signed, pro rata to power, in ascending address order.
    Every division floors; what is not paid to a validator (nobody signed, no such proposer,
    the rounding of the split) goes to the community pool. Returns the
    ``rewards(height, minted, subnets, fees, paid, community_pool)`` event.
    """
    fees = collect_fees(state, params, FEE_COLLECTOR)
    total = minted - to_subnets + fees
    prev = get_prev_proposer(state)
    if proposer:
        set_prev_proposer(state, proposer)
    total_power = sum(v.power for v in votes)
    signers = [v for v in votes if v.signed and v.power > 0]
    signed_power = sum(v.power for v in signers)
    paid = 0
    unowned = 0
    if total and total_power and signers:
        if prev is not None and get_validator(state, prev) is not None:
            rate = params.base_proposer_reward + (
                params.bonus_proposer_reward * signed_power // total_power
            )
            bonus = total * rate // RATE_ONE
            unowned += reward_validator(state, prev, bonus)
            paid += bonus
        rest = total - paid
        for vote in sorted(signers, key=lambda v: v.address):
            share = rest * vote.power // signed_power
            unowned += reward_validator(state, vote.address, share)
            paid += share
    to_community = total - paid + unowned
    if to_community:
        send(state, DISTRIBUTION_POOL, COMMUNITY_POOL, to_community)
    return [
        Event.of(
            "rewards",
            height=height,
            minted=minted,
            subnets=to_subnets,
            fees=fees,
            paid=paid - unowned,
            community_pool=to_community,
        )
    ]


def pending_rewards(state: KVReader, delegator: bytes, cons: bytes) -> int:
    """Rewards a delegation has earned and not been paid, base units:
    ``shares * (accumulator - start) // ACC_PRECISION`` (Cosmos F1's reward per share).
    """
    shares = get_shares(state, delegator, cons)
    acc = get_accumulator(state, cons)
    return shares * (acc - get_start(state, delegator, cons)) // ACC_PRECISION


def settle(state: Overlay, delegator: bytes, cons: bytes) -> int:
    """Pay a delegation's pending rewards (out of the validator's outstanding rewards) and
    restart it at the current accumulator.

    Staking calls this (through its hooks) before every change of the delegation's shares, so
    rewards are always computed with the shares that earned them.
    """
    amount = pending_rewards(state, delegator, cons)
    if amount:
        send(state, DISTRIBUTION_POOL, delegator, amount)
        set_outstanding(state, cons, get_outstanding(state, cons) - amount)
    set_start(state, delegator, cons, get_accumulator(state, cons))
    return amount


def sweep_outstanding(state: Overlay, cons: bytes) -> int:
    """The validator ``cons`` has no share left, so nobody can claim its outstanding rewards
    (the floor dust of its delegations' payouts): move them to the community pool (Cosmos
    ``AfterValidatorRemoved``). Return the amount moved."""
    dust = get_outstanding(state, cons)
    if dust:
        send(state, DISTRIBUTION_POOL, COMMUNITY_POOL, dust)
        set_outstanding(state, cons, 0)
    return dust


def withdraw_commission(state: Overlay, cons: bytes, operator: bytes) -> int:
    """Pay a validator's unpaid commission to its ``operator``; return the
    amount (0 writes nothing).
    """
    amount = get_commission(state, cons)
    if amount:
        send(state, DISTRIBUTION_POOL, operator, amount)
        set_commission(state, cons, 0)
    return amount
