"""Staking messages with their stateless checks (``validate``); handlers do the stateful ones."""

from __future__ import annotations

from dataclasses import dataclass

from ...address import ADDRESS_LEN
from ...codec import U64_MAX
from ...errors import InvalidAddress, InvalidAmount, InvalidCommission, InvalidMessage
from ...params import RATE_ONE

MAX_MONIKER = 64
MAX_WEBSITE = 140


def _validator_address(addr: bytes, what: str = "validator") -> None:
    if len(addr) != ADDRESS_LEN:
        raise InvalidAddress(f"{what} must be a {ADDRESS_LEN}-byte operator address")


def _amount(amount: int) -> None:
    if not 0 < amount <= U64_MAX:
        raise InvalidAmount("amount must be positive")


def _texts(moniker: str, website: str) -> None:
    if len(moniker) > MAX_MONIKER:
        raise InvalidMessage(f"moniker is longer than {MAX_MONIKER} characters")
    if len(website) > MAX_WEBSITE:
        raise InvalidMessage(f"website is longer than {MAX_WEBSITE} characters")


@dataclass(frozen=True)
class MsgCreateValidator:
    pub_key: bytes
    self_bond: int
    moniker: str
    website: str
    commission_rate: int
    max_rate: int
    max_change_rate: int

    type_url = "create_validator"

    def validate(self) -> None:
        if len(self.pub_key) != 32:
            raise InvalidMessage("pub_key must be a 32-byte ed25519 key")
        _amount(self.self_bond)
        if not self.moniker:
            raise InvalidMessage("moniker must not be empty")
        _texts(self.moniker, self.website)
        if not self.commission_rate <= self.max_rate <= RATE_ONE:
            raise InvalidCommission("need commission_rate <= max_rate <= 10^9 (100%)")
        if self.max_change_rate > self.max_rate:
            raise InvalidCommission("max_change_rate must not exceed max_rate")


@dataclass(frozen=True)
class MsgEditValidator:
    moniker: str
    website: str
    set_commission: bool
    commission_rate: int

    type_url = "edit_validator"

    def validate(self) -> None:
        _texts(self.moniker, self.website)
        if self.set_commission and self.commission_rate > RATE_ONE:
            raise InvalidCommission("commission_rate must be at most 10^9 (100%)")
        if not (self.moniker or self.website or self.set_commission):
            raise InvalidMessage("edit_validator changes nothing")


@dataclass(frozen=True)
class MsgDelegate:
    validator: bytes
    amount: int

    type_url = "delegate"

    def validate(self) -> None:
        _validator_address(self.validator)
        _amount(self.amount)


@dataclass(frozen=True)
class MsgUndelegate:
    validator: bytes
    amount: int

    type_url = "undelegate"

    def validate(self) -> None:
        _validator_address(self.validator)
        _amount(self.amount)


@dataclass(frozen=True)
class MsgRedelegate:
    src_validator: bytes
    dst_validator: bytes
    amount: int

    type_url = "redelegate"

    def validate(self) -> None:
        _validator_address(self.src_validator, "src_validator")
        _validator_address(self.dst_validator, "dst_validator")
        if self.src_validator == self.dst_validator:
            raise InvalidMessage("redelegation to the same validator")
        _amount(self.amount)
