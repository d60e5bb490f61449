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
    """Create a validator operated by the sender: ed25519 consensus ``pub_key``
    (32 bytes), ``self_bond`` in base units, texts, and commission rates of RATE_ONE (10^9 = 100%).
    """

    pub_key: bytes
    self_bond: int
    moniker: str
    website: str
    commission_rate: int
    max_rate: int
    max_change_rate: int

    def validate(self) -> None:
        """Raises:
        InvalidMessage: a key that is not 32 bytes, an empty or too long moniker or website.
        InvalidAmount: a zero self-bond.
        InvalidCommission: not commission_rate <= max_rate <= 100%, or max_change_rate > max_rate.
        """
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
    """Edit the sender's validator: non-empty texts replace the old ones; the
    commission rate changes only with ``set_commission``.
    """

    moniker: str
    website: str
    set_commission: bool
    commission_rate: int

    def validate(self) -> None:
        """Raises:
        InvalidMessage: a text too long, or nothing to change.
        InvalidCommission: a rate above 100%.
        """
        _texts(self.moniker, self.website)
        if self.set_commission and self.commission_rate > RATE_ONE:
            raise InvalidCommission("commission_rate must be at most 10^9 (100%)")
        if not (self.moniker or self.website or self.set_commission):
            raise InvalidMessage("edit_validator changes nothing")


@dataclass(frozen=True)
class MsgDelegate:
    """Bond ``amount`` base units of the sender's tokens to the validator run by ``validator``."""

    validator: bytes
    amount: int

    def validate(self) -> None:
        """Raises:
        InvalidAddress: ``validator`` is not 20 bytes.
        InvalidAmount: ``amount`` is 0 or past 2^64 - 1.
        """
        _validator_address(self.validator)
        _amount(self.amount)


@dataclass(frozen=True)
class MsgUndelegate:
    """Unbond ``amount`` tokens of a delegation, or with ``all`` the whole of it (also when it
    is worth nothing after a slash): undelegating what the delegation is worth closes it."""

    validator: bytes
    amount: int
    all: bool = False

    def validate(self) -> None:
        """Raises:
        InvalidAddress: ``validator`` is not 20 bytes.
        InvalidAmount: ``amount`` is 0 or past 2^64 - 1.
        """
        _validator_address(self.validator)
        if self.all:
            if self.amount:
                raise InvalidMessage("give an amount or all, not both")
        else:
            _amount(self.amount)


@dataclass(frozen=True)
class MsgRedelegate:
    """Move ``amount`` base units of the sender's delegation between two validators."""

    src_validator: bytes
    dst_validator: bytes
    amount: int

    def validate(self) -> None:
        """Raises:
        InvalidAddress: an operator address that is not 20 bytes.
        InvalidMessage: source and destination are the same.
        InvalidAmount: ``amount`` is 0 or past 2^64 - 1.
        """
        _validator_address(self.src_validator, "src_validator")
        _validator_address(self.dst_validator, "dst_validator")
        if self.src_validator == self.dst_validator:
            raise InvalidMessage("redelegation to the same validator")
        _amount(self.amount)
