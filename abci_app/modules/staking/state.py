"""Staking records and their typed accessors.

* validator: canonical JSON under staking/val/<consensus address>; staking/op/<operator> indexes
  it by operator account.
* delegation: shares (u128) under staking/del/<delegator><consensus address>. A validator's
  tokens are owned pro rata by its shares, so a later slash lowers every delegation at once.
* unbonding entry: tokens leaving a validator, released at a completion height. Keyed by height
  first so end-block finds the matured ones with one prefix scan, and indexed by delegator.
* last power: what CometBFT currently has, so end-block can return only the differences.

Rates (commission) are fixed-point integers: RATE_ONE (10^9, abci_app.params) is 100%, rounding
is floor.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from ...address import from_bech32, to_bech32
from ...codec import canonical_json, decode_u64, encode_u64
from ...state.keys import (
    DELEGATION,
    LAST_POWER,
    REDELEGATION,
    STAKING_PARAMS,
    UNBONDING,
    UNBONDING_BY_DELEGATOR,
    VALIDATOR,
    delegation_key,
    last_power_key,
    operator_key,
    unbonding_by_delegator_key,
    unbonding_key,
    validator_key,
)
from ...state.overlay import KVReader, Overlay
from ..bank.module_accounts import module_account
from .params import StakingParams

BONDED_POOL = module_account("bonded_pool", burner=True)
"""Holds every validator's tokens: its balance always equals the sum of validator tokens."""
UNBONDING_POOL = module_account("unbonding_pool", burner=True)
"""Holds tokens of unbonding entries until they mature."""
DEFAULT_COMMISSION = (10**8, 2 * 10**8, 10**7)
"""(rate, max rate, max change per edit): 10%, 20%, 1 percentage point."""


def consensus_address(pub_key: bytes) -> bytes:
    """CometBFT's validator address: the first 20 bytes of sha256(ed25519 public key)."""
    return hashlib.sha256(pub_key).digest()[:20]


@dataclass(frozen=True)
class Validator:
    """A validator record (Cosmos x/staking Validator): its operator account, ed25519
    consensus key, bonded ``tokens`` (base units) owned pro rata by ``delegator_shares``,
    commission rates (of RATE_ONE) and jail flag.
    """

    operator: bytes  # account that created it (its self-delegation)
    pub_key: bytes  # ed25519 consensus key
    tokens: int  # base units bonded to it, self-bond and delegations
    moniker: str
    delegator_shares: int = -1  # -1: equal to tokens (a new validator)
    commission_rate: int = DEFAULT_COMMISSION[0]
    max_rate: int = DEFAULT_COMMISSION[1]
    max_change_rate: int = DEFAULT_COMMISSION[2]
    website: str = ""
    jailed: bool = False

    def __post_init__(self) -> None:
        if self.delegator_shares < 0:
            object.__setattr__(self, "delegator_shares", self.tokens)

    @property
    def cons_address(self) -> bytes:
        """CometBFT's address of the consensus key (20 bytes)."""
        return consensus_address(self.pub_key)

    def with_(self, **changes: Any) -> Validator:
        return replace(self, **changes)

    def shares_for(self, amount: int) -> int:
        """Shares a delegation of ``amount`` tokens buys (1:1 for a fresh validator)."""
        if self.delegator_shares == 0 or self.tokens == 0:
            return amount
        return amount * self.delegator_shares // self.tokens

    def tokens_for(self, shares: int) -> int:
        """Tokens ``shares`` are worth now (floor)."""
        if self.delegator_shares == 0:
            return 0
        return shares * self.tokens // self.delegator_shares

    def to_dict(self) -> dict[str, Any]:
        return {
            "operator": to_bech32(self.operator),
            "pub_key": base64.b64encode(self.pub_key).decode(),
            "tokens": str(self.tokens),
            "delegator_shares": str(self.delegator_shares),
            "moniker": self.moniker,
            "website": self.website,
            "commission_rate": str(self.commission_rate),
            "max_rate": str(self.max_rate),
            "max_change_rate": str(self.max_change_rate),
            "jailed": self.jailed,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Validator:
        return cls(
            operator=from_bech32(d["operator"]),
            pub_key=base64.b64decode(d["pub_key"]),
            tokens=int(d["tokens"]),
            moniker=d["moniker"],
            delegator_shares=int(d.get("delegator_shares", d["tokens"])),
            commission_rate=int(d.get("commission_rate", DEFAULT_COMMISSION[0])),
            max_rate=int(d.get("max_rate", DEFAULT_COMMISSION[1])),
            max_change_rate=int(d.get("max_change_rate", DEFAULT_COMMISSION[2])),
            website=d.get("website", ""),
            jailed=bool(d.get("jailed", False)),
        )

    def encode(self) -> bytes:
        return canonical_json(self.to_dict())


@dataclass(frozen=True)
class UnbondingEntry:
    """Tokens (base units) leaving a validator, released at ``completion_height``."""

    delegator: bytes
    cons_address: bytes
    completion_height: int
    amount: int

    def to_dict(self, operator: bytes) -> dict[str, Any]:
        return {
            "delegator": to_bech32(self.delegator),
            "validator": to_bech32(operator),
            "completion_height": self.completion_height,
            "amount": str(self.amount),
        }


# --- params ----------------------------------------------------------------------------------
def get_params(state: KVReader) -> StakingParams:
    """Staking's params as stored (defaults before genesis writes them)."""
    raw = state.get(STAKING_PARAMS)
    return StakingParams() if raw is None else StakingParams.decode(raw)


def set_params(state: Overlay, params: StakingParams) -> None:
    """Store staking's params (genesis only)."""
    state.set(STAKING_PARAMS, params.encode())


# --- validators ------------------------------------------------------------------------------
def set_validator(state: Overlay, v: Validator) -> None:
    """Write a validator record and its operator index."""
    state.set(validator_key(v.cons_address), v.encode())
    state.set(operator_key(v.operator), v.cons_address)


def get_validator(state: KVReader, cons_address: bytes) -> Validator | None:
    """The validator with consensus address ``cons_address``, or None."""
    raw = state.get(validator_key(cons_address))
    return None if raw is None else Validator.from_dict(json.loads(raw))


def validator_by_operator(state: KVReader, operator: bytes) -> Validator | None:
    """The validator ``operator`` runs, or None."""
    cons = state.get(operator_key(operator))
    return None if cons is None else get_validator(state, cons)


def consensus_address_of(state: KVReader, operator: bytes) -> bytes:
    """The consensus address of the validator ``operator`` runs (KeyError when none)."""
    cons = state.get(operator_key(operator))
    if cons is None:
        raise KeyError(f"no validator operated by {to_bech32(operator)}")
    return cons


def all_validators(state: KVReader) -> list[Validator]:
    """Every validator record, ordered by consensus address."""
    return [Validator.from_dict(json.loads(v)) for _, v in state.iter_prefix(VALIDATOR)]


def active_set(validators: list[Validator], params: StakingParams) -> list[tuple[Validator, int]]:
    """Top ``max_validators`` unjailed validators by tokens (ties: lower consensus address)
    with power = tokens // power_reduction >= 1."""
    ranked = sorted(
        (v for v in validators if not v.jailed), key=lambda v: (-v.tokens, v.cons_address)
    )
    out = []
    for v in ranked[: params.max_validators]:
        power = v.tokens // params.power_reduction
        if power > 0:
            out.append((v, power))
    return out


# --- delegations -----------------------------------------------------------------------------
def get_shares(state: KVReader, delegator: bytes, cons_address: bytes) -> int:
    """``delegator``'s shares of the validator (u128; 0 when none)."""
    raw = state.get(delegation_key(delegator, cons_address))
    return 0 if raw is None else int.from_bytes(raw, "big")


def set_shares(state: Overlay, delegator: bytes, cons_address: bytes, shares: int) -> None:
    """Write ``delegator``'s shares of the validator (0 deletes the delegation)."""
    if shares == 0:
        state.delete(delegation_key(delegator, cons_address))
    else:
        state.set(delegation_key(delegator, cons_address), shares.to_bytes(16, "big"))


def self_bond_of(state: KVReader, v: Validator) -> int:
    """Tokens the operator's own delegation to ``v`` is worth now (floor)."""
    return v.tokens_for(get_shares(state, v.operator, v.cons_address))


def delegations_of(state: KVReader, delegator: bytes) -> list[tuple[bytes, int]]:
    """[(consensus address, shares)] of one delegator, in key order."""
    prefix = DELEGATION + delegator
    return [(k[len(prefix) :], int.from_bytes(v, "big")) for k, v in state.iter_prefix(prefix)]


def all_delegations(state: KVReader) -> list[tuple[bytes, bytes, int]]:
    """[(delegator, consensus address, shares)] of everyone, in key order."""
    n = len(DELEGATION)
    return [
        (k[n : n + 20], k[n + 20 :], int.from_bytes(v, "big"))
        for k, v in state.iter_prefix(DELEGATION)
    ]


# --- unbonding -------------------------------------------------------------------------------
def add_unbonding(state: Overlay, entry: UnbondingEntry) -> None:
    """Record tokens to release at ``completion_height`` (same key: amounts add up)."""
    key = unbonding_key(entry.completion_height, entry.delegator, entry.cons_address)
    raw = state.get(key)
    total = entry.amount + (0 if raw is None else decode_u64(raw))
    state.set(key, encode_u64(total))
    state.set(
        unbonding_by_delegator_key(entry.delegator, entry.completion_height, entry.cons_address),
        encode_u64(total),
    )


def matured_unbondings(state: KVReader, height: int) -> list[UnbondingEntry]:
    """Entries completing exactly at ``height`` (end-block runs at every height)."""
    prefix = UNBONDING + height.to_bytes(8, "big")
    n = len(prefix)
    return [
        UnbondingEntry(k[n : n + 20], k[n + 20 :], height, decode_u64(v))
        for k, v in state.iter_prefix(prefix)
    ]


def remove_unbonding(state: Overlay, entry: UnbondingEntry) -> None:
    """Delete an unbonding entry (both its keys)."""
    state.delete(unbonding_key(entry.completion_height, entry.delegator, entry.cons_address))
    state.delete(
        unbonding_by_delegator_key(entry.delegator, entry.completion_height, entry.cons_address)
    )


def unbondings_of(state: KVReader, delegator: bytes) -> list[UnbondingEntry]:
    """``delegator``'s unbonding entries, by completion height."""
    prefix = UNBONDING_BY_DELEGATOR + delegator
    n = len(prefix)
    return [
        UnbondingEntry(delegator, k[n + 8 :], int.from_bytes(k[n : n + 8], "big"), decode_u64(v))
        for k, v in state.iter_prefix(prefix)
    ]


def all_unbondings(state: KVReader) -> list[UnbondingEntry]:
    """Every unbonding entry, by completion height."""
    n = len(UNBONDING)
    return [
        UnbondingEntry(
            k[n + 8 : n + 28], k[n + 28 :], int.from_bytes(k[n : n + 8], "big"), decode_u64(v)
        )
        for k, v in state.iter_prefix(UNBONDING)
    ]


# --- redelegations --------------------------------------------------------------------------
@dataclass(frozen=True)
class Redelegation:
    """Shares moved from ``src`` to ``dst`` at ``creation_height``: until completion they can
    still be slashed for an infraction ``src`` committed before the move."""

    delegator: bytes
    src: bytes  # consensus addresses
    dst: bytes
    creation_height: int
    completion_height: int
    shares: int  # shares of dst

    def key(self) -> bytes:
        return (
            REDELEGATION
            + self.completion_height.to_bytes(8, "big")
            + self.delegator
            + self.src
            + self.dst
        )

    def encode(self) -> bytes:
        return self.shares.to_bytes(16, "big") + encode_u64(self.creation_height)

    @classmethod
    def decode(cls, key: bytes, value: bytes) -> Redelegation:
        n = len(REDELEGATION)
        return cls(
            key[n + 8 : n + 28],
            key[n + 28 : n + 48],
            key[n + 48 : n + 68],
            decode_u64(value[16:]),
            int.from_bytes(key[n : n + 8], "big"),
            int.from_bytes(value[:16], "big"),
        )


def add_redelegation(state: Overlay, r: Redelegation) -> None:
    """Record a redelegation (same completion height and pair: shares add up)."""
    old = state.get(r.key())
    if old is not None:  # same block, same pair: one entry
        r = replace(r, shares=r.shares + int.from_bytes(old[:16], "big"))
    state.set(r.key(), r.encode())


def set_redelegation(state: Overlay, r: Redelegation) -> None:
    """Rewrite a redelegation's shares (0 deletes it)."""
    if r.shares == 0:
        state.delete(r.key())
    else:
        state.set(r.key(), r.encode())


def all_redelegations(state: KVReader) -> list[Redelegation]:
    """Every redelegation entry, by completion height."""
    return [Redelegation.decode(k, v) for k, v in state.iter_prefix(REDELEGATION)]


def matured_redelegations(state: KVReader, height: int) -> list[Redelegation]:
    """Redelegation entries completing exactly at ``height``."""
    prefix = REDELEGATION + height.to_bytes(8, "big")
    return [Redelegation.decode(k, v) for k, v in state.iter_prefix(prefix)]


# --- the set CometBFT has --------------------------------------------------------------------
def last_powers(state: KVReader) -> dict[bytes, int]:
    """The validator set CometBFT currently has, as {consensus address: power}."""
    n = len(LAST_POWER)
    return {k[n:]: decode_u64(v) for k, v in state.iter_prefix(LAST_POWER)}


def set_last_power(state: Overlay, cons_address: bytes, power: int) -> None:
    """Remember the power CometBFT has for the validator (0 deletes)."""
    if power == 0:
        state.delete(last_power_key(cons_address))
    else:
        state.set(last_power_key(cons_address), encode_u64(power))
