"""Staking parameters (genesis ``app_state.staking.params``)."""

from __future__ import annotations

from dataclasses import dataclass

from ...schema import IntParams


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
