"""Staking: validators, delegations, unbonding, redelegation and the slashing mechanics."""

from __future__ import annotations

from ..._proto.moderntensor.tx.v1 import tx_pb2
from ..spec import Module, MsgSpec, flat
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
        MsgSpec("delegate", MsgDelegate, tx_pb2.MsgDelegate, apply_delegate, weight=flat(70)),
        MsgSpec(
            "undelegate", MsgUndelegate, tx_pb2.MsgUndelegate, apply_undelegate, weight=flat(60)
        ),
        MsgSpec(
            "redelegate", MsgRedelegate, tx_pb2.MsgRedelegate, apply_redelegate, weight=flat(110)
        ),
    ),
    params=(StakingParams, get_params),
    invariants=invariants,
    query=staking_query,
)
