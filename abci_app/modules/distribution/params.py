"""Distribution parameters (genesis ``app_state.distribution.params``). Rates: 10^9 = 100%."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import InvalidGenesis
from ...params import RATE_ONE
from ...schema import IntParams, check_duration


@dataclass(frozen=True)
class DistributionParams(IntParams):
    """Distribution's params (genesis ``app_state.distribution.params``)."""

    SECTION = "distribution.params"

    block_reward: int = 240_000_000
    """Tokens minted per block before halvings: 0.24 MDT (ModernTensor's published schedule)."""
    halving_interval: int = 8_760_000
    """Blocks between halvings of the block reward."""
    max_supply: int = 21_000_000 * 10**9
    """Minting stops when the total supply reaches this (21,000,000 MDT)."""
    base_proposer_reward: int = 10_000_000
    """Share of the block's rewards for the proposer, always (1%)."""
    bonus_proposer_reward: int = 40_000_000
    """Further share for the proposer, scaled by the fraction of power that signed (4%)."""
    fee_burn_rate: int = 0
    """Share of collected fees burned instead of paid out."""
    consensus_reward_share: int = 100_000_000
    """Share of each block's minted reward for consensus validators (10%); the rest accrues to
    subnets pro rata to their stake. With no subnet stake, all of it goes to validators."""

    def validate(self) -> None:
        """Raises:
        InvalidGenesis: a value out of range (rates above 10^9, proposer shares above 100%,
            halving_interval 0).
        """
        super().validate()
        check_duration(self.halving_interval, "distribution.params.halving_interval")
        for name in (
            "base_proposer_reward",
            "bonus_proposer_reward",
            "fee_burn_rate",
            "consensus_reward_share",
        ):
            if getattr(self, name) > RATE_ONE:
                raise InvalidGenesis(f"distribution.params.{name} must be at most 10^9 (100%)")
        if self.base_proposer_reward + self.bonus_proposer_reward > RATE_ONE:
            raise InvalidGenesis("proposer rewards must add up to at most 100%")
