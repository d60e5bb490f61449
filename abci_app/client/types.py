"""Typed results of the SDK: what the chain's JSON queries return, as dataclasses.

Amounts are ints in base units (the JSON carries them as decimal strings so nothing loses
precision); u16 subnet values stay u16 (65535 = 1.0), with ``*_fraction`` helpers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Account:
    address: str
    balance: int
    nonce: int
    exists: bool

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Account:
        return cls(d["address"], int(d["balance"]), int(d["nonce"]), bool(d["exists"]))


@dataclass(frozen=True)
class Validator:
    operator: str
    moniker: str
    consensus_address: str
    tokens: int
    power: int
    jailed: bool
    commission_rate: int  # 10^9 = 100%

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Validator:
        return cls(
            d["operator"],
            d["moniker"],
            d["consensus_address"],
            int(d["tokens"]),
            int(d["power"]),
            bool(d["jailed"]),
            int(d["commission_rate"]),
        )


@dataclass(frozen=True)
class Delegation:
    validator: str
    moniker: str
    shares: int
    tokens: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Delegation:
        return cls(d["validator"], d["moniker"], int(d["shares"]), int(d["tokens"]))


@dataclass(frozen=True)
class Subnet:
    netuid: int
    owner: str
    neurons: int
    max_allowed_uids: int
    tempo: int
    burn: int
    total_stake: int
    pending_emission: int
    last_epoch: int
    next_epoch: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Subnet:
        return cls(
            int(d["netuid"]),
            d["owner"],
            int(d["n"]),
            int(d["max_allowed_uids"]),
            int(d["tempo"]),
            int(d["burn"]),
            int(d["total_stake"]),
            int(d["pending_emission"]),
            int(d["last_epoch"]),
            int(d["next_epoch"]),
        )


@dataclass(frozen=True)
class Neuron:
    uid: int
    hotkey: str
    stake: int
    rank: int
    trust: int
    validator_trust: int
    consensus: int
    incentive: int
    dividends: int
    emission: int
    last_update: int
    registered_at: int
    validator_permit: bool
    active: bool
    axon: dict[str, Any]
    epoch_stake: int = 0
    """What the next epoch weighs the neuron by: the lowest stake since the last epoch."""

    @property
    def incentive_fraction(self) -> float:
        return self.incentive / 65535

    @property
    def dividends_fraction(self) -> float:
        return self.dividends / 65535

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Neuron:
        return cls(
            int(d["uid"]),
            d["hotkey"],
            int(d["stake"]),
            int(d["rank"]),
            int(d["trust"]),
            int(d["validator_trust"]),
            int(d["consensus"]),
            int(d["incentive"]),
            int(d["dividends"]),
            int(d["emission"]),
            int(d["last_update"]),
            int(d["registered_at"]),
            bool(d["validator_permit"]),
            bool(d["active"]),
            dict(d["axon"]),
            int(d.get("epoch_stake", 0)),
        )


@dataclass(frozen=True)
class Metagraph:
    netuid: int
    height: int
    neurons: tuple[Neuron, ...]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Metagraph:
        return cls(
            int(d["netuid"]), int(d["height"]), tuple(Neuron.from_json(n) for n in d["neurons"])
        )
