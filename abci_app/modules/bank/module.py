"""Bank: accounts, balances, the total supply and the ``transfer`` message."""

from __future__ import annotations

from ..._proto.moderntensor.tx.v1 import tx_pb2
from ..spec import Module, MsgSpec, flat
from .handlers import apply_transfer
from .invariants import invariants
from .messages import MsgTransfer
from .queries import bank_query

MODULE = Module(
    name="bank",
    messages=(
        MsgSpec("transfer", MsgTransfer, tx_pb2.MsgTransfer, apply_transfer, weight=flat(20)),
    ),
    invariants=invariants,
    query=bank_query,
)
