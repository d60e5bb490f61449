"""Typed chain parameters with documented defaults. They are genesis values kept in state.

Amounts are integers in base units: 1 MDT = 10**9 base units.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidGenesis
from .schema import COMETBFT_MAX_BLOCK_BYTES, IntParams

BASE_UNITS_PER_MDT = 10**9
"""1 MDT in base units; every amount in state and messages is an integer of base units."""
RATE_ONE = 10**9
"""Fixed-point one of every rate and fraction (commission, reward shares, slash fractions,
fee burn): 10^8 is 10%. A product ``amount * rate // RATE_ONE`` is floored."""


@dataclass(frozen=True)
class AppParams(IntParams):
    SECTION = "params"

    min_fee: int = 1_000
    """Smallest fee a tx may carry, in base units (0.000001 MDT): a plain transfer pays this."""
    gas_price: int = 10
    """Base units per weight unit (weights.py, ~1 us of work each): a tx must pay
    max(min_fee, weight x gas_price)."""
    max_tx_bytes: int = 65_536
    """Largest encoded tx accepted by CheckTx and kept by PrepareProposal."""
    max_memo_bytes: int = 256
    """Longest memo (UTF-8 bytes)."""
    max_msgs_per_tx: int = 32
    """Most messages one tx may carry."""

    def validate(self) -> None:
        super().validate()
        if self.max_tx_bytes < 256:
            raise InvalidGenesis("params.max_tx_bytes must be at least 256")
        if self.max_tx_bytes > COMETBFT_MAX_BLOCK_BYTES:
            raise InvalidGenesis(
                "params.max_tx_bytes must be at most 104857600 (CometBFT's largest block)"
            )
        if self.max_memo_bytes > self.max_tx_bytes:
            raise InvalidGenesis("params.max_memo_bytes must not exceed max_tx_bytes")
        if not 1 <= self.max_msgs_per_tx <= 1_000:
            raise InvalidGenesis("params.max_msgs_per_tx must be in [1, 1000]")
