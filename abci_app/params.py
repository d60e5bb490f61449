"""Typed chain parameters with documented defaults. They are genesis values kept in state.

Amounts are integers in base units: 1 MDT = 10**9 base units.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from .codec import U64_MAX, canonical_json
from .errors import InvalidGenesis

BASE_UNITS_PER_MDT = 10**9


@dataclass(frozen=True)
class AppParams:
    min_fee: int = 1_000
    """Smallest fee a tx may carry, in base units (0.000001 MDT): a flat per-tx anti-spam fee."""
    max_tx_bytes: int = 65_536
    """Largest encoded tx accepted by CheckTx and kept by PrepareProposal."""
    max_memo_bytes: int = 256
    """Longest memo (UTF-8 bytes)."""
    max_msgs_per_tx: int = 32
    """Most messages one tx may carry."""

    def validate(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= U64_MAX:
                raise InvalidGenesis(f"params.{f.name} must be an integer in [0, 2^64), got {v!r}")
        if self.max_tx_bytes < 256:
            raise InvalidGenesis("params.max_tx_bytes must be at least 256")
        if self.max_msgs_per_tx < 1:
            raise InvalidGenesis("params.max_msgs_per_tx must be at least 1")

    @classmethod
    def from_dict(cls, raw: Any) -> AppParams:
        """Build from a genesis ``params`` object; unknown or ill-typed fields are errors."""
        if not isinstance(raw, dict):
            raise InvalidGenesis("params must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidGenesis(f"unknown field(s) in params: {', '.join(unknown)}")
        values = {}
        for name in sorted(raw):
            v = raw[name]
            if isinstance(v, str) and v.isdigit():
                v = int(v)
            values[name] = v
        p = cls(**values)
        p.validate()
        return p

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def encode(self) -> bytes:
        return canonical_json(self.to_dict())

    @classmethod
    def decode(cls, data: bytes) -> AppParams:
        return cls(**json.loads(data))
