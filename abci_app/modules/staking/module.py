"""Staking: validators, delegations, unbonding, redelegation and the slashing mechanics."""

from __future__ import annotations

from ..._proto.moderntensor.tx.v1 import tx_pb2
from ..spec import Module, MsgSpec, WeightBounds, flat
from .handlers import (
    apply_create_validator,
    apply_delegate,
    apply_edit_validator,
    apply_redelegate,
    apply_undelegate,
)
from .invariants import invariants
from .messages import (
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from .params import StakingParams
from .queries import staking_query
from .state import get_params


def delegations_count(bounds: WeightBounds) -> int:
    """3 units per 2 delegations the sender may hold (max_delegations): delegating to a
    validator it has no delegation with yet counts its delegations against the cap (~1.4 us
    each; issue 13 review: with 63 delegations a delegate took 246 us for 133 units)."""
    return 3 * bounds.max_delegations // 2


def delegate_weight(msg: MsgDelegate, bounds: WeightBounds) -> int:
    """70 + the delegation count (:func:`delegations_count`)."""
    return 70 + delegations_count(bounds)


def redelegate_weight(msg: MsgRedelegate, bounds: WeightBounds) -> int:
    """110 (an unbond and a delegation) + the delegation count at the destination."""
    return 110 + delegations_count(bounds)


MODULE = Module(
    name="staking",
    messages=(
        MsgSpec(
            "create_validator",
            MsgCreateValidator,
            tx_pb2.MsgCreateValidator,
            apply_create_validator,
            weight=flat(60),
        ),
        MsgSpec(
            "edit_validator",
            MsgEditValidator,
            tx_pb2.MsgEditValidator,
            apply_edit_validator,
            weight=flat(30),
        ),
        MsgSpec(
            "delegate", MsgDelegate, tx_pb2.MsgDelegate, apply_delegate, weight=delegate_weight
        ),
        MsgSpec(
            "undelegate", MsgUndelegate, tx_pb2.MsgUndelegate, apply_undelegate, weight=flat(100)
        ),
        MsgSpec(
            "redelegate",
            MsgRedelegate,
            tx_pb2.MsgRedelegate,
            apply_redelegate,
            weight=redelegate_weight,
        ),
    ),
    params=(StakingParams, get_params),
    invariants=invariants,
    query=staking_query,
)
