"""Bank state transitions. Pure functions of (state overlay, sender, message) -> events."""

from __future__ import annotations

from ...address import to_bech32
from ...state.overlay import Overlay
from ...types import Event
from .keeper import send
from .messages import MsgTransfer


def apply_transfer(state: Overlay, sender: bytes, msg: MsgTransfer) -> list[Event]:
    send(state, sender, msg.to, msg.amount)
    return [
        Event.of(
            "transfer",
            sender=to_bech32(sender),
            recipient=to_bech32(msg.to),
            amount=msg.amount,
        )
    ]
