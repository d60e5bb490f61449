"""Genesis validators, the way Cosmos gentx works.

Each validator signs its own entry (operator account key over the chain id, consensus key,
self-bond and moniker); the coordinator collects the signed entries into ``app_state.gen_txs``.
InitChain moves each self-bond from the operator's account into the bonded pool and returns the
resulting validator set, so CometBFT's genesis.json needs no ``validators`` of its own.

``app_state.staking.validators`` holds already-bonded validators (written by ``genesis
export``); their tokens are already in the bonded pool account's balance.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ...address import address_from_pubkey, to_bech32
from ...codec import canonical_json
from ...errors import InvalidGenesis
from ...params import RATE_ONE
from ...schema import check_object, parse_address, parse_amount
from ...state.overlay import Overlay
from ...types import ValidatorUpdate
from ..bank.keeper import send
from .params import StakingParams
from .state import (
    BONDED_POOL,
    DEFAULT_COMMISSION,
    Redelegation,
    UnbondingEntry,
    Validator,
    active_set,
    add_redelegation,
    add_unbonding,
    all_validators,
    consensus_address,
    set_last_power,
    set_params,
    set_shares,
    set_validator,
)

GENTX_DOMAIN = b"moderntensor/gentx/v1"

_GENTX_FIELDS = {"operator", "operator_pub_key", "pub_key", "self_bond", "moniker", "signature"}


@dataclass(frozen=True)
class GenTx:
    operator: bytes
    operator_pub_key: bytes
    pub_key: bytes
    self_bond: int
    moniker: str
    signature: bytes

    def signed_fields(self, chain_id: str) -> dict[str, str]:
        return {
            "chain_id": chain_id,
            "operator": to_bech32(self.operator),
            "pub_key": base64.b64encode(self.pub_key).decode(),
            "self_bond": str(self.self_bond),
            "moniker": self.moniker,
        }

    def sign_bytes(self, chain_id: str) -> bytes:
        return GENTX_DOMAIN + canonical_json(self.signed_fields(chain_id))

    def to_dict(self) -> dict[str, str]:
        return {
            "operator": to_bech32(self.operator),
            "operator_pub_key": self.operator_pub_key.hex(),
            "pub_key": base64.b64encode(self.pub_key).decode(),
            "self_bond": str(self.self_bond),
            "moniker": self.moniker,
            "signature": self.signature.hex(),
        }


def make_gentx(
    operator_key: SigningKey, cons_pub_key: bytes, self_bond: int, moniker: str, chain_id: str
) -> GenTx:
    """What a validator runs on its own machine: sign its genesis entry."""
    pub = bytes(operator_key.verify_key)
    unsigned = GenTx(address_from_pubkey(pub), pub, cons_pub_key, self_bond, moniker, b"")
    sig = operator_key.sign(unsigned.sign_bytes(chain_id)).signature
    return GenTx(unsigned.operator, pub, cons_pub_key, self_bond, moniker, sig)


def _b64_key(value: Any, where: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        raise InvalidGenesis(f"{where} must be a base64 ed25519 public key") from None
    if len(key) != 32:
        raise InvalidGenesis(f"{where} must be a 32-byte ed25519 key, got {len(key)} bytes")
    return key


def parse_gentx(raw: Any, where: str, chain_id: str) -> GenTx:
    check_object(raw, where, _GENTX_FIELDS, _GENTX_FIELDS)
    operator = parse_address(raw["operator"], f"{where}.operator")
    try:
        op_pub = bytes.fromhex(raw["operator_pub_key"])
        sig = bytes.fromhex(raw["signature"])
    except (ValueError, TypeError):
        raise InvalidGenesis(f"{where}: operator_pub_key and signature must be hex") from None
    if len(op_pub) != 32 or address_from_pubkey(op_pub) != operator:
        raise InvalidGenesis(f"{where}: operator_pub_key does not belong to {raw['operator']}")
    moniker = raw["moniker"]
    if not isinstance(moniker, str) or not 0 < len(moniker) <= 64:
        raise InvalidGenesis(f"{where}.moniker must be 1-64 characters")
    gtx = GenTx(
        operator=operator,
        operator_pub_key=op_pub,
        pub_key=_b64_key(raw["pub_key"], f"{where}.pub_key"),
        self_bond=parse_amount(raw["self_bond"], f"{where}.self_bond"),
        moniker=moniker,
        signature=sig,
    )
    try:
        VerifyKey(op_pub).verify(gtx.sign_bytes(chain_id), sig)
    except BadSignatureError:
        raise InvalidGenesis(
            f"{where}: signature does not verify (signed for another chain id or altered?)"
        ) from None
    return gtx


_VALIDATOR_REQUIRED = {"operator", "pub_key", "tokens", "moniker"}
_VALIDATOR_FIELDS = _VALIDATOR_REQUIRED | {
    "delegator_shares",
    "commission_rate",
    "max_rate",
    "max_change_rate",
    "website",
    "jailed",
}


def parse_validator(raw: Any, where: str) -> Validator:
    check_object(raw, where, _VALIDATOR_FIELDS, _VALIDATOR_REQUIRED)
    tokens = parse_amount(raw["tokens"], f"{where}.tokens")
    if not isinstance(raw.get("jailed", False), bool):
        raise InvalidGenesis(f"{where}.jailed must be true or false")
    v = Validator(
        operator=parse_address(raw["operator"], f"{where}.operator"),
        pub_key=_b64_key(raw["pub_key"], f"{where}.pub_key"),
        tokens=tokens,
        moniker=str(raw["moniker"]),
        delegator_shares=parse_amount(
            raw.get("delegator_shares", tokens), f"{where}.delegator_shares"
        ),
        commission_rate=parse_amount(
            raw.get("commission_rate", DEFAULT_COMMISSION[0]), f"{where}.commission_rate"
        ),
        max_rate=parse_amount(raw.get("max_rate", DEFAULT_COMMISSION[1]), f"{where}.max_rate"),
        max_change_rate=parse_amount(
            raw.get("max_change_rate", DEFAULT_COMMISSION[2]), f"{where}.max_change_rate"
        ),
        website=str(raw.get("website", "")),
        jailed=raw.get("jailed", False),
    )
    if not v.commission_rate <= v.max_rate <= RATE_ONE or v.max_change_rate > v.max_rate:
        raise InvalidGenesis(f"{where}: commission rates out of range")
    return v


@dataclass(frozen=True)
class GenesisDelegation:
    delegator: bytes
    validator: bytes  # operator address
    shares: int

    def to_dict(self) -> dict[str, str]:
        return {
            "delegator": to_bech32(self.delegator),
            "validator": to_bech32(self.validator),
            "shares": str(self.shares),
        }


@dataclass(frozen=True)
class GenesisUnbonding:
    delegator: bytes
    validator: bytes  # operator address
    completion_height: int
    amount: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "delegator": to_bech32(self.delegator),
            "validator": to_bech32(self.validator),
            "completion_height": self.completion_height,
            "amount": str(self.amount),
        }


def parse_delegation(raw: Any, where: str) -> GenesisDelegation:
    fields = {"delegator", "validator", "shares"}
    check_object(raw, where, fields, fields)
    return GenesisDelegation(
        parse_address(raw["delegator"], f"{where}.delegator"),
        parse_address(raw["validator"], f"{where}.validator"),
        parse_amount(raw["shares"], f"{where}.shares"),
    )


def parse_unbonding(raw: Any, where: str) -> GenesisUnbonding:
    fields = {"delegator", "validator", "completion_height", "amount"}
    check_object(raw, where, fields, fields)
    return GenesisUnbonding(
        parse_address(raw["delegator"], f"{where}.delegator"),
        parse_address(raw["validator"], f"{where}.validator"),
        parse_amount(raw["completion_height"], f"{where}.completion_height"),
        parse_amount(raw["amount"], f"{where}.amount"),
    )


def parse_redelegation(raw: Any, where: str) -> tuple[bytes, bytes, bytes, int, int, int]:
    """(delegator, src operator, dst operator, creation, completion, shares)."""
    fields = {"delegator", "src", "dst", "creation_height", "completion_height", "shares"}
    check_object(raw, where, fields, fields)
    return (
        parse_address(raw["delegator"], f"{where}.delegator"),
        parse_address(raw["src"], f"{where}.src"),
        parse_address(raw["dst"], f"{where}.dst"),
        parse_amount(raw["creation_height"], f"{where}.creation_height"),
        parse_amount(raw["completion_height"], f"{where}.completion_height"),
        parse_amount(raw["shares"], f"{where}.shares"),
    )


def redelegation_dict(
    delegator: bytes, src: bytes, dst: bytes, created: int, done: int, shares: int
) -> dict[str, Any]:
    return {
        "delegator": to_bech32(delegator),
        "src": to_bech32(src),
        "dst": to_bech32(dst),
        "creation_height": created,
        "completion_height": done,
        "shares": str(shares),
    }


def check_exported(
    validators: list[Validator],
    delegations: list[GenesisDelegation],
    unbondings: list[GenesisUnbonding],
) -> None:
    """Bonded state must be self-consistent: shares add up, references resolve."""
    by_op = {v.operator: v for v in validators}
    shares: dict[bytes, int] = {}
    seen: set[tuple[bytes, bytes]] = set()
    for d in delegations:
        if d.validator not in by_op:
            raise InvalidGenesis(f"delegation to unknown validator {to_bech32(d.validator)}")
        if (d.delegator, d.validator) in seen:
            raise InvalidGenesis(
                f"duplicate delegation {to_bech32(d.delegator)} -> {to_bech32(d.validator)}"
            )
        seen.add((d.delegator, d.validator))
        shares[d.validator] = shares.get(d.validator, 0) + d.shares
    for v in validators:
        if shares.get(v.operator, 0) != v.delegator_shares:
            raise InvalidGenesis(
                f"validator {v.moniker}: delegations hold "
                f"{shares.get(v.operator, 0)} shares, record says "
                f"{v.delegator_shares}"
            )
    for u in unbondings:
        if u.validator not in by_op:
            raise InvalidGenesis(f"unbonding from unknown validator {to_bech32(u.validator)}")


def check_unique(validators: list[Validator], gentxs: list[GenTx]) -> None:
    seen_ops: set[bytes] = set()
    seen_keys: set[bytes] = set()
    for op, key, what in [(v.operator, v.pub_key, "validator") for v in validators] + [
        (g.operator, g.pub_key, "gen_tx") for g in gentxs
    ]:
        if op in seen_ops:
            raise InvalidGenesis(f"{what}: operator {to_bech32(op)} has more than one validator")
        if key in seen_keys:
            addr = consensus_address(key).hex().upper()
            raise InvalidGenesis(f"{what}: consensus key {addr} is used twice")
        seen_ops.add(op)
        seen_keys.add(key)


def check_bonds(params: StakingParams, validators: list[Validator], gentxs: list[GenTx]) -> None:
    for g in gentxs:
        if g.self_bond < params.min_self_bond:
            raise InvalidGenesis(
                f"gen_tx of {g.moniker}: self_bond {g.self_bond} < min_self_bond "
                f"{params.min_self_bond}"
            )


def init_staking(
    state: Overlay,
    params: StakingParams,
    validators: list[Validator],
    gentxs: list[GenTx],
    delegations: list[GenesisDelegation] | None = None,
    unbondings: list[GenesisUnbonding] | None = None,
    redelegations: list[tuple[bytes, bytes, bytes, int, int, int]] | None = None,
) -> list[ValidatorUpdate]:
    """Write staking genesis, bond each gen_tx's self-bond, return the initial validator set."""
    set_params(state, params)
    by_op = {v.operator: v.cons_address for v in validators}
    for v in validators:
        set_validator(state, v)
    for d in delegations or []:
        set_shares(state, d.delegator, by_op[d.validator], d.shares)
    for who, src, dst, created, done, shares in redelegations or []:
        add_redelegation(state, Redelegation(who, by_op[src], by_op[dst], created, done, shares))
    for u in unbondings or []:
        add_unbonding(
            state, UnbondingEntry(u.delegator, by_op[u.validator], u.completion_height, u.amount)
        )
    for g in gentxs:
        send(state, g.operator, BONDED_POOL, g.self_bond)
        v = Validator(g.operator, g.pub_key, g.self_bond, g.moniker)
        set_validator(state, v)
        set_shares(state, g.operator, v.cons_address, g.self_bond)
    updates = []
    for v, power in active_set(all_validators(state), params):
        set_last_power(state, v.cons_address, power)
        updates.append(ValidatorUpdate(v.pub_key, power))
    return updates
