"""Bank messages: typed, with stateless validation (``validate_*``) separate from handlers."""

from __future__ import annotations

from dataclasses import dataclass

from ...address import ADDRESS_LEN
from ...codec import U64_MAX
from ...errors import InvalidAddress, InvalidAmount


@dataclass(frozen=True)
class MsgTransfer:
    """Move ``amount`` base units from the tx sender to ``to``."""

    to: bytes
    amount: int

    def validate(self) -> None:
        """Stateless checks (Cosmos ``ValidateBasic``).

        Raises:
            InvalidAddress: ``to`` is not 20 bytes.
            InvalidAmount: ``amount`` is 0 or past 2^64 - 1.
        """
        if len(self.to) != ADDRESS_LEN:
            raise InvalidAddress(f"recipient must be {ADDRESS_LEN} bytes, got {len(self.to)}")
        if not 0 < self.amount <= U64_MAX:
            raise InvalidAmount("transfer amount must be positive")
