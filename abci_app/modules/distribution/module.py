"""Distribution: block rewards (minting by the emission schedule, fees, proposer bonus,
commission, reward per share) and their withdrawal; follows staking through its hooks."""

from __future__ import annotations

from ..._proto.moderntensor.tx.v1 import tx_pb2
from ..spec import Module, MsgSpec, WeightBounds
from .handlers import apply_withdraw_rewards
from .invariants import invariants
from .messages import MsgWithdrawRewards
from .params import DistributionParams
from .queries import distribution_query
from .rewards import get_params


def withdraw_weight(msg: MsgWithdrawRewards, bounds: WeightBounds) -> int:
    """30 + 25 per delegation settled: one for a named validator, else every delegation the
    sender may hold (max_delegations)."""
    return 30 + (25 if msg.validator else 25 * bounds.max_delegations)


MODULE = Module(
    name="distribution",
    messages=(
        MsgSpec(
            "withdraw_rewards",
            MsgWithdrawRewards,
            tx_pb2.MsgWithdrawRewards,
            apply_withdraw_rewards,
            weight=withdraw_weight,
        ),
    ),
    params=(DistributionParams, get_params),
    invariants=invariants,
    query=distribution_query,
)
