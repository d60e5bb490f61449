"""Distribution messages."""

from __future__ import annotations

from dataclasses import dataclass

from ...address import ADDRESS_LEN
from ...errors import InvalidAddress


@dataclass(frozen=True)
class MsgWithdrawRewards:
    validator: bytes  # operator address, or b"" for every delegation

    type_url = "withdraw_rewards"

    def validate(self) -> None:
        if self.validator and len(self.validator) != ADDRESS_LEN:
            raise InvalidAddress(f"validator must be empty or a {ADDRESS_LEN}-byte address")
