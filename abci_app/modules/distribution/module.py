"""Distribution: block rewards (minting by the emission schedule, fees, proposer bonus,
commission, reward per share) and their withdrawal; follows staking through its hooks."""

from __future__ import annotations

from ..._proto.moderntensor.tx.v1 import tx_pb2
from ..spec import Module, MsgSpec
from .handlers import apply_withdraw_rewards
from .invariants import invariants
from .messages import MsgWithdrawRewards
from .params import DistributionParams
from .queries import distribution_query
from .rewards import get_params

MODULE = Module(
    name="distribution",
    messages=(
        MsgSpec(
            "withdraw_rewards",
            MsgWithdrawRewards,
            tx_pb2.MsgWithdrawRewards,
            apply_withdraw_rewards,
        ),
    ),
    params=(DistributionParams, get_params),
    invariants=invariants,
    query=distribution_query,
)
