"""Slashing: downtime and double-sign punishment, jail time, tombstone and ``unjail``."""

from __future__ import annotations

from ..._proto.moderntensor.tx.v1 import tx_pb2
from ..spec import Module, MsgSpec, flat
from .handlers import apply_unjail
from .messages import MsgUnjail
from .params import SlashingParams
from .queries import slashing_query
from .state import get_params

MODULE = Module(
    name="slashing",
    messages=(MsgSpec("unjail", MsgUnjail, tx_pb2.MsgUnjail, apply_unjail, weight=flat(30)),),
    params=(SlashingParams, get_params),
    query=slashing_query,
)
