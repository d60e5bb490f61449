"""Strict checks for JSON documents we accept (genesis files, gen_txs, params).

Every failure is an :class:`InvalidGenesis` that names the offending field, so an operator can
fix the file without reading code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection
from typing import Any, Self

from .address import from_bech32
from .codec import U64_MAX, canonical_json
from .errors import InvalidAddress, InvalidGenesis

MAX_DECIMAL_DIGITS = 20
"""Longest decimal integer accepted in a genesis document (U64_MAX has 20 digits): a longer
one is refused before conversion (Python would spend time on it, or raise past 4,300 digits)."""
INT64_MAX = 2**63 - 1
"""CometBFT's heights and times are int64: nonces and heights stay below this, so their
increments still fit the u64 fields they are stored in."""
MAX_DURATION = 2**32
"""Largest duration param (blocks or seconds: unbonding, jail, windows, intervals): a height or
time below INT64_MAX plus one stays within u64 (2^32 blocks is 136 years at one per second)."""
COMETBFT_MAX_TOTAL_VOTING_POWER = 2**60 - 1
"""CometBFT's MaxTotalVotingPower (MaxInt64 / 8): the validator set's total power must stay
under it, or CometBFT refuses the set and halts."""
COMETBFT_MAX_VALIDATORS = 10_000
"""CometBFT's MaxVotesCount: at most this many validators in a set."""
COMETBFT_MAX_BLOCK_BYTES = 104_857_600
"""CometBFT's MaxBlockSizeBytes (100 MiB): no tx can be larger than a block."""


MAX_INITIAL_HEIGHT = 2**62
"""Highest initial_height a genesis may set: CometBFT's heights are int64, and every height the
chain computes from one (+ unbonding, windows: durations up to MAX_DURATION) must stay below
INT64_MAX."""


def check_genesis_start(time_seconds: int, initial_height: int) -> None:
    """The genesis time and initial height as CometBFT hands them to the chain: the first
    block's time is the genesis time, and block times are kept as unsigned unix seconds
    (slashing's block time, jail ends), so a time before 1970 would stop every node at the
    first block; heights stay within int64 after their increments.

    Raises:
        InvalidGenesis: naming the value.
    """
    if time_seconds < 0:
        raise InvalidGenesis(
            f"genesis_time must be 1970-01-01T00:00:00Z or later (block times are unsigned unix "
            f"seconds), got {time_seconds} s"
        )
    if not 0 <= initial_height <= MAX_INITIAL_HEIGHT:
        raise InvalidGenesis(f"initial_height must be in [0, 2^62], got {initial_height}")


def check_duration(value: int, where: str) -> None:
    """Raise InvalidGenesis unless ``value`` is a duration in [1, MAX_DURATION]."""
    if not 1 <= value <= MAX_DURATION:
        raise InvalidGenesis(f"{where} must be in [1, 2^32], got {value}")


def check_object(
    raw: Any, where: str, allowed: Collection[str], required: Collection[str] = ()
) -> dict[str, Any]:
    """``raw`` must be an object with only ``allowed`` keys and every ``required`` one."""
    if not isinstance(raw, dict):
        raise InvalidGenesis(f"{where} must be a JSON object")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise InvalidGenesis(f"unknown field(s) in {where}: {', '.join(unknown)}")
    missing = sorted(set(required) - set(raw))
    if missing:
        raise InvalidGenesis(f"{where} is missing {', '.join(missing)}")
    return raw


def parse_amount(value: Any, where: str) -> int:
    """A non-negative u64 given as a JSON integer or a string of decimal digits."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidGenesis(f"{where} must be an integer or a decimal string, got {value!r}")
    if isinstance(value, str):
        if len(value) > MAX_DECIMAL_DIGITS:
            raise InvalidGenesis(f"{where} has more than {MAX_DECIMAL_DIGITS} digits")
        if not value.isascii() or not value.isdigit():
            raise InvalidGenesis(f"{where} must be a non-negative decimal integer, got {value!r}")
        value = int(value)
    amount: int = value
    if amount < 0:
        raise InvalidGenesis(f"{where} must not be negative, got {amount}")
    if amount > U64_MAX:
        raise InvalidGenesis(f"{where} does not fit in 64 bits")
    return amount


def parse_address(value: Any, where: str) -> bytes:
    try:
        return from_bech32(value)
    except InvalidAddress as e:
        raise InvalidGenesis(f"{where}: {e.message}") from None


class IntParams:
    """Base of frozen dataclasses of integer parameters, kept in state as canonical JSON.

    Subclasses set ``SECTION`` (for messages) and may override :meth:`validate` for ranges.
    """

    SECTION = "params"
    MINIMUM = 0

    def validate(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool) or not self.MINIMUM <= v <= U64_MAX:
                raise InvalidGenesis(
                    f"{self.SECTION}.{f.name} must be an integer in [{self.MINIMUM}, 2^64), "
                    f"got {v!r}"
                )

    @classmethod
    def from_dict(cls, raw: Any) -> Self:
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        raw = check_object(raw, cls.SECTION, names)
        params = cls(
            **{
                k: int(v)
                if isinstance(v, str)
                and v.isascii()
                and v.isdigit()
                and len(v) <= MAX_DECIMAL_DIGITS
                else v
                for k, v in sorted(raw.items())
            }
        )
        params.validate()
        return params

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)  # type: ignore[call-overload, no-any-return]

    def encode(self) -> bytes:
        return canonical_json(self.to_dict())

    @classmethod
    def decode(cls, data: bytes) -> Self:
        return cls(**json.loads(data))
