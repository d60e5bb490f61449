"""Slashing parameters (genesis ``app_state.slashing.params``). Rates: 10^9 = 100%."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import InvalidGenesis
from ...params import RATE_ONE
from ...schema import IntParams, check_duration


@dataclass(frozen=True)
class SlashingParams(IntParams):
    """Slashing's params (genesis ``app_state.slashing.params``; Cosmos Hub's values)."""

    SECTION = "slashing.params"

    signed_blocks_window: int = 10_000
    """Blocks over which a validator's signing is counted (Cosmos Hub's value)."""
    min_signed_per_window: int = 50_000_000
    """A validator that signed less than this share of the window is down (5%)."""
    downtime_jail_seconds: int = 600
    """How long a validator jailed for downtime must wait before unjail (10 minutes)."""
    slash_fraction_downtime: int = 100_000
    """Share of its tokens burned for downtime (0.01%)."""
    slash_fraction_double_sign: int = 50_000_000
    """Share of its tokens (and of unbonding entries since the infraction) burned for double
    signing (5%); the validator is also tombstoned: jailed for ever."""

    def validate(self) -> None:
        """Raises:
        InvalidGenesis: a rate above 10^9 or a zero window.
        """
        super().validate()
        check_duration(self.signed_blocks_window, "slashing.params.signed_blocks_window")
        check_duration(self.downtime_jail_seconds, "slashing.params.downtime_jail_seconds")
        for name in (
            "min_signed_per_window",
            "slash_fraction_downtime",
            "slash_fraction_double_sign",
        ):
            if getattr(self, name) > RATE_ONE:
                raise InvalidGenesis(f"slashing.params.{name} must be at most 10^9 (100%)")
