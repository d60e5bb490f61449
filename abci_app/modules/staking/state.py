"""Validator records: canonical JSON under staking/val/<consensus address>."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from ...address import from_bech32, to_bech32
from ...codec import canonical_json, decode_u64, encode_u64
from ...state.keys import (
    LAST_POWER,
    STAKING_PARAMS,
    VALIDATOR,
    last_power_key,
    operator_key,
    validator_key,
)
from ...state.overlay import KVReader, Overlay
from .params import StakingParams


def consensus_address(pub_key: bytes) -> bytes:
    """CometBFT's validator address: the first 20 bytes of sha256(ed25519 public key)."""
    return hashlib.sha256(pub_key).digest()[:20]


@dataclass(frozen=True)
class Validator:
    operator: bytes  # account that bonded the tokens
    pub_key: bytes  # ed25519 consensus key
    tokens: int  # bonded base units
    moniker: str

    @property
    def cons_address(self) -> bytes:
        return consensus_address(self.pub_key)

    def to_dict(self) -> dict[str, str]:
        return {
            "operator": to_bech32(self.operator),
            "pub_key": base64.b64encode(self.pub_key).decode(),
            "tokens": str(self.tokens),
            "moniker": self.moniker,
        }

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> Validator:
        return cls(
            operator=from_bech32(d["operator"]),
            pub_key=base64.b64decode(d["pub_key"]),
            tokens=int(d["tokens"]),
            moniker=d["moniker"],
        )

    def encode(self) -> bytes:
        return canonical_json(self.to_dict())


def get_params(state: KVReader) -> StakingParams:
    raw = state.get(STAKING_PARAMS)
    return StakingParams() if raw is None else StakingParams.decode(raw)


def set_params(state: Overlay, params: StakingParams) -> None:
    state.set(STAKING_PARAMS, params.encode())


def set_validator(state: Overlay, v: Validator) -> None:
    state.set(validator_key(v.cons_address), v.encode())
    state.set(operator_key(v.operator), v.cons_address)


def get_validator(state: KVReader, cons_address: bytes) -> Validator | None:
    raw = state.get(validator_key(cons_address))
    return None if raw is None else Validator.from_dict(json.loads(raw))


def all_validators(state: KVReader) -> list[Validator]:
    """Every validator record, ordered by consensus address."""
    return [Validator.from_dict(json.loads(v)) for _, v in state.iter_prefix(VALIDATOR)]


def active_set(validators: list[Validator], params: StakingParams) -> list[tuple[Validator, int]]:
    """Top ``max_validators`` by tokens (ties: lower consensus address) with power >= 1."""
    ranked = sorted(validators, key=lambda v: (-v.tokens, v.cons_address))
    out = []
    for v in ranked[: params.max_validators]:
        power = v.tokens // params.power_reduction
        if power > 0:
            out.append((v, power))
    return out


def last_powers(state: KVReader) -> dict[bytes, int]:
    """The validator set CometBFT currently has, as {consensus address: power}."""
    n = len(LAST_POWER)
    return {k[n:]: decode_u64(v) for k, v in state.iter_prefix(LAST_POWER)}


def set_last_power(state: Overlay, cons_address: bytes, power: int) -> None:
    if power == 0:
        state.delete(last_power_key(cons_address))
    else:
        state.set(last_power_key(cons_address), encode_u64(power))
