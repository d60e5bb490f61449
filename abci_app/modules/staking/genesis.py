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

from ...address import address_from_pubkey, module_address, to_bech32
from ...codec import canonical_json
from ...errors import InvalidGenesis
from ...schema import check_object, parse_address, parse_amount
from ...state.overlay import Overlay
from ...types import ValidatorUpdate
from ..bank.state import credit, debit
from .params import StakingParams
from .state import (
    Validator,
    active_set,
    all_validators,
    consensus_address,
    set_last_power,
    set_params,
    set_validator,
)

GENTX_DOMAIN = b"moderntensor/gentx/v1"
BONDED_POOL = module_address("bonded_pool")
"""Holds every bonded token; its balance always equals the sum of validator tokens."""

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


def parse_validator(raw: Any, where: str) -> Validator:
    fields = {"operator", "pub_key", "tokens", "moniker"}
    check_object(raw, where, fields, fields)
    return Validator(
        operator=parse_address(raw["operator"], f"{where}.operator"),
        pub_key=_b64_key(raw["pub_key"], f"{where}.pub_key"),
        tokens=parse_amount(raw["tokens"], f"{where}.tokens"),
        moniker=str(raw["moniker"]),
    )


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
    for v in validators:
        if v.tokens < params.min_self_bond:
            raise InvalidGenesis(f"validator {v.moniker}: tokens below min_self_bond")


def init_staking(
    state: Overlay, params: StakingParams, validators: list[Validator], gentxs: list[GenTx]
) -> list[ValidatorUpdate]:
    """Write staking genesis, bond each gen_tx's self-bond, return the initial validator set."""
    set_params(state, params)
    for v in validators:
        set_validator(state, v)
    for g in gentxs:
        debit(state, g.operator, g.self_bond)
        credit(state, BONDED_POOL, g.self_bond)
        set_validator(state, Validator(g.operator, g.pub_key, g.self_bond, g.moniker))
    updates = []
    for v, power in active_set(all_validators(state), params):
        set_last_power(state, v.cons_address, power)
        updates.append(ValidatorUpdate(v.pub_key, power))
    return updates
