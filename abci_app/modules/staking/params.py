"""Staking parameters (genesis ``app_state.staking.params``)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from ...codec import U64_MAX, canonical_json
from ...errors import InvalidGenesis


@dataclass(frozen=True)
class StakingParams:
    power_reduction: int = 10**9
    """Base units per unit of CometBFT voting power: power = bonded tokens // this (1 MDT = 1)."""
    min_self_bond: int = 10**9
    """Smallest self-bond a validator may have (1 MDT)."""
    max_validators: int = 100
    """Size of the active set: the top validators by bonded tokens (Cosmos Hub's value)."""

    def validate(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= U64_MAX:
                raise InvalidGenesis(f"staking.params.{f.name} must be an integer >= 1, got {v!r}")

    @classmethod
    def from_dict(cls, raw: Any) -> StakingParams:
        if not isinstance(raw, dict):
            raise InvalidGenesis("staking.params must be a JSON object")
        unknown = sorted(set(raw) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise InvalidGenesis(f"unknown field(s) in staking.params: {', '.join(unknown)}")
        values = {k: int(v) if isinstance(v, str) and v.isdigit() else v for k, v in raw.items()}
        p = cls(**values)
        p.validate()
        return p

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def encode(self) -> bytes:
        return canonical_json(self.to_dict())

    @classmethod
    def decode(cls, data: bytes) -> StakingParams:
        return cls(**json.loads(data))
