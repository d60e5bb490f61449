"""Slashing messages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MsgUnjail:
    """Return the sender's jailed validator to the candidate set once its jail time is over."""

    def validate(self) -> None:
        """Nothing to check without state: the sender is the validator's operator."""
