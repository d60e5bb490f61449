"""Distribution messages."""

from __future__ import annotations

from dataclasses import dataclass

from ...address import ADDRESS_LEN
from ...errors import InvalidAddress


@dataclass(frozen=True)
class MsgWithdrawRewards:
    """Withdraw the sender's delegation rewards from ``validator`` (an
    operator address) or from every validator when empty; an operator also gets its commission.
    """

    validator: bytes  # operator address, or b"" for every delegation

    def validate(self) -> None:
        """Raises:
        InvalidAddress: ``validator`` is neither empty nor 20 bytes.
        """
        if self.validator and len(self.validator) != ADDRESS_LEN:
            raise InvalidAddress(f"validator must be empty or a {ADDRESS_LEN}-byte address")
