"""Staking parameters (genesis ``app_state.staking.params``)."""

from __future__ import annotations

from dataclasses import dataclass

from ...codec import U64_MAX
from ...errors import InvalidGenesis
from ...schema import (
    COMETBFT_MAX_TOTAL_VOTING_POWER,
    COMETBFT_MAX_VALIDATORS,
    IntParams,
    check_duration,
)


@dataclass(frozen=True)
class StakingParams(IntParams):
    """Staking's params (genesis ``app_state.staking.params``; Cosmos Hub's values)."""

    SECTION = "staking.params"
    MINIMUM = 1

    power_reduction: int = 10**9
    """Base units per unit of CometBFT voting power: power = bonded tokens // this (1 MDT = 1)."""
    min_self_bond: int = 10**9
    """Smallest self-bond a validator may have (1 MDT)."""
    max_validators: int = 100
    """Size of the active set: the top validators by bonded tokens (Cosmos Hub's value)."""
    max_delegations: int = 64
    """Validators one account may delegate to at once: withdraw_rewards without a validator
    settles each, so its weight (weights.py) covers this many (code 123 past it)."""
    unbonding_blocks: int = 1_814_400
    """Blocks before undelegated tokens are released: 21 days at one block per second (the
    single-node default block interval is about 1 s; a slower chain waits longer)."""
    commission_change_blocks: int = 86_400
    """Blocks between two commission changes of one validator (creation counts as one): 24 h at
    one block per second, as Cosmos x/staking's ``ValidateNewRate`` allows one change per 24 h
    of ``UpdateTime``. Each change may also raise the rate by at most its max_change_rate."""
    max_entries: int = 7
    """Live unbonding entries per (delegator, validator), and redelegation entries per
    (delegator, source, destination), at most (Cosmos ``MaxEntries``, 7): bounds what a slash
    must walk through. Entries of one block for one pair are one entry."""

    def validate(self) -> None:
        """Ranges against CometBFT's limits: every token is at most U64_MAX, so with
        power_reduction >= 16 the total power stays within MaxTotalVotingPower (2^60 - 1); an
        active set of at most MaxVotesCount (10,000); unbonding_blocks a duration (heights plus
        it stay within u64)."""
        super().validate()
        if U64_MAX // self.power_reduction > COMETBFT_MAX_TOTAL_VOTING_POWER:
            raise InvalidGenesis(
                "staking.params.power_reduction must be at least 16: with less, the total voting "
                "power could pass CometBFT's maximum (2^60 - 1) and halt the chain"
            )
        if self.max_validators > COMETBFT_MAX_VALIDATORS:
            raise InvalidGenesis(
                f"staking.params.max_validators must be at most {COMETBFT_MAX_VALIDATORS} "
                "(CometBFT's MaxVotesCount)"
            )
        check_duration(self.unbonding_blocks, "staking.params.unbonding_blocks")
