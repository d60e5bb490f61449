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
from dataclasses import dataclass, field
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ...address import address_from_pubkey, to_bech32
from ...codec import canonical_json
from ...errors import InvalidGenesis
from ...params import RATE_ONE
from ...schema import check_object, parse_address, parse_amount
from ...state.overlay import KVReader, Overlay
from ...types import ValidatorUpdate
from ..bank.keeper import send
from .params import StakingParams
from .state import (
    BONDED_POOL,
    DEFAULT_COMMISSION,
    UNBONDING_POOL,
    Redelegation,
    UnbondingEntry,
    Validator,
    active_set,
    add_redelegation,
    add_unbonding,
    all_delegations,
    all_redelegations,
    all_unbondings,
    all_validators,
    consensus_address,
    get_params,
    set_last_power,
    set_params,
    set_shares,
    set_validator,
)

GENTX_DOMAIN = b"moderntensor/gentx/v1"

_GENTX_FIELDS = {"operator", "operator_pub_key", "pub_key", "self_bond", "moniker", "signature"}


@dataclass(frozen=True)
class GenTx:
    """A validator's signed genesis entry (Cosmos gentx): operator account and its public
    key, consensus key, self-bond (base units), moniker and the operator's signature.
    """

    operator: bytes
    operator_pub_key: bytes
    pub_key: bytes
    self_bond: int
    moniker: str
    signature: bytes

    def signed_fields(self, chain_id: str) -> dict[str, str]:
        """What the operator signs, as canonical JSON fields (chain id included)."""
        return {
            "chain_id": chain_id,
            "operator": to_bech32(self.operator),
            "pub_key": base64.b64encode(self.pub_key).decode(),
            "self_bond": str(self.self_bond),
            "moniker": self.moniker,
        }

    def sign_bytes(self, chain_id: str) -> bytes:
        """``GENTX_DOMAIN || canonical_json(signed_fields)``."""
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
    """Parse one gen_tx and verify its signature over ``chain_id``.

    Raises:
        InvalidGenesis: a field broke a rule, or the signature does not verify.
    """
    check_object(raw, where, _GENTX_FIELDS, _GENTX_FIELDS)
    operator = parse_address(raw["operator"], f"{where}.operator")
    try:
        op_pub = bytes.fromhex(raw["operator_pub_key"])
        sig = bytes.fromhex(raw["signature"])
    except (ValueError, TypeError):
        raise InvalidGenesis(f"{where}: operator_pub_key and signature must be hex") from None
    if len(op_pub) != 32 or address_from_pubkey(op_pub) != operator:
        raise InvalidGenesis(f"{where}: operator_pub_key does not belong to {raw['operator']}")
    if len(sig) != 64:  # PyNaCl raises its own ValueError for other lengths (found by fuzzing)
        raise InvalidGenesis(f"{where}: signature must be 64 bytes, got {len(sig)}")
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
    "commission_updated_at",
}


def parse_validator(raw: Any, where: str) -> Validator:
    """Parse one already-bonded validator of ``staking.validators``.

    Raises:
        InvalidGenesis: a field broke a rule (commission rates out of range included).
    """
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
        commission_updated_at=parse_amount(
            raw.get("commission_updated_at", 0), f"{where}.commission_updated_at"
        ),
    )
    if not v.commission_rate <= v.max_rate <= RATE_ONE or v.max_change_rate > v.max_rate:
        raise InvalidGenesis(f"{where}: commission rates out of range")
    return v


@dataclass(frozen=True)
class GenesisDelegation:
    """A delegation in genesis: delegator, validator operator, shares."""

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
    """An unbonding entry in genesis, its validator named by operator."""

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
    """Raises InvalidGenesis naming the field that broke a rule."""
    fields = {"delegator", "validator", "shares"}
    check_object(raw, where, fields, fields)
    return GenesisDelegation(
        parse_address(raw["delegator"], f"{where}.delegator"),
        parse_address(raw["validator"], f"{where}.validator"),
        parse_amount(raw["shares"], f"{where}.shares"),
    )


def parse_unbonding(raw: Any, where: str) -> GenesisUnbonding:
    """Raises InvalidGenesis naming the field that broke a rule."""
    fields = {"delegator", "validator", "completion_height", "amount"}
    check_object(raw, where, fields, fields)
    return GenesisUnbonding(
        parse_address(raw["delegator"], f"{where}.delegator"),
        parse_address(raw["validator"], f"{where}.validator"),
        parse_amount(raw["completion_height"], f"{where}.completion_height"),
        parse_amount(raw["amount"], f"{where}.amount"),
    )


RedelegationRecord = tuple[bytes, bytes, bytes, int, int, int, int]
"""(delegator, src operator, dst operator, creation height, completion height, shares,
initial balance)."""


def parse_redelegation(raw: Any, where: str) -> RedelegationRecord:
    """(delegator, src operator, dst operator, creation, completion, shares, initial balance):
    a live redelegation entry written by ``genesis export``."""
    fields = {
        "delegator",
        "src",
        "dst",
        "creation_height",
        "completion_height",
        "shares",
        "initial_balance",
    }
    check_object(raw, where, fields, fields)
    return (
        parse_address(raw["delegator"], f"{where}.delegator"),
        parse_address(raw["src"], f"{where}.src"),
        parse_address(raw["dst"], f"{where}.dst"),
        parse_amount(raw["creation_height"], f"{where}.creation_height"),
        parse_amount(raw["completion_height"], f"{where}.completion_height"),
        parse_amount(raw["shares"], f"{where}.shares"),
        parse_amount(raw["initial_balance"], f"{where}.initial_balance"),
    )


def redelegation_dict(
    delegator: bytes, src: bytes, dst: bytes, created: int, done: int, shares: int, initial: int
) -> dict[str, Any]:
    """The JSON form of a redelegation entry."""
    return {
        "delegator": to_bech32(delegator),
        "src": to_bech32(src),
        "dst": to_bech32(dst),
        "creation_height": created,
        "completion_height": done,
        "shares": str(shares),
        "initial_balance": str(initial),
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
    """One validator per operator and per consensus key.

    Raises:
        InvalidGenesis: an operator or a consensus key twice.
    """
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
    """Each gen_tx bonds at least ``min_self_bond``.

    Raises:
        InvalidGenesis: naming the gen_tx.
    """
    for g in gentxs:
        if g.self_bond < params.min_self_bond:
            raise InvalidGenesis(
                f"gen_tx of {g.moniker}: self_bond {g.self_bond} < min_self_bond "
                f"{params.min_self_bond}"
            )


@dataclass(frozen=True)
class StakingGenesis:
    """``app_state.staking`` ({params, validators, delegations, unbonding, redelegations}) and
    ``app_state.gen_txs``."""

    params: StakingParams = field(default_factory=StakingParams)
    validators: tuple[Validator, ...] = ()
    """Already bonded (written by genesis export), by consensus address."""
    gen_txs: tuple[GenTx, ...] = ()
    delegations: tuple[GenesisDelegation, ...] = ()
    unbondings: tuple[GenesisUnbonding, ...] = ()
    redelegations: tuple[RedelegationRecord, ...] = ()

    @property
    def operators(self) -> set[bytes]:
        """Operators of every validator, bonded or by gen_tx."""
        return {v.operator for v in self.validators} | {g.operator for g in self.gen_txs}

    def to_dict(self) -> dict[str, Any]:
        """The ``app_state.staking`` object (gen_txs are a top-level list of their own)."""
        return {
            "params": self.params.to_dict(),
            "validators": [v.to_dict() for v in self.validators],
            "delegations": [d.to_dict() for d in self.delegations],
            "unbonding": [u.to_dict() for u in self.unbondings],
            "redelegations": [redelegation_dict(*r) for r in self.redelegations],
        }


def parse_genesis(raw: Any, raw_gen_txs: Any, chain_id: str) -> StakingGenesis:
    """Parse ``app_state.staking`` and ``app_state.gen_txs`` (whose signatures are over
    ``chain_id``) and check that the bonded state is self-consistent (:func:`check_exported`).

    Raises:
        InvalidGenesis: naming the field that broke a rule.
    """
    staking_raw = check_object(
        raw, "staking", {"params", "validators", "delegations", "unbonding", "redelegations"}
    )
    params = StakingParams.from_dict(staking_raw.get("params", {}))
    vals_raw = staking_raw.get("validators", [])
    if not isinstance(vals_raw, list):
        raise InvalidGenesis("staking.validators must be a list")
    validators = [parse_validator(v, f"staking.validators[{i}]") for i, v in enumerate(vals_raw)]
    if not isinstance(raw_gen_txs, list):
        raise InvalidGenesis("app_state.gen_txs must be a list")
    if raw_gen_txs and not chain_id:
        raise InvalidGenesis("gen_txs need a chain id to verify their signatures")
    gentxs = [parse_gentx(g, f"gen_txs[{i}]", chain_id) for i, g in enumerate(raw_gen_txs)]
    lists = {}
    for name in ("delegations", "unbonding", "redelegations"):
        lists[name] = staking_raw.get(name, [])
        if not isinstance(lists[name], list):
            raise InvalidGenesis(f"staking.{name} must be a list")
    delegations = [
        parse_delegation(d, f"staking.delegations[{i}]") for i, d in enumerate(lists["delegations"])
    ]
    unbondings = [
        parse_unbonding(u, f"staking.unbonding[{i}]") for i, u in enumerate(lists["unbonding"])
    ]
    redelegations = [
        parse_redelegation(r, f"staking.redelegations[{i}]")
        for i, r in enumerate(lists["redelegations"])
    ]
    known = {v.operator for v in validators}
    if any(r[1] not in known or r[2] not in known for r in redelegations):
        raise InvalidGenesis("staking.redelegations name an unknown validator")
    check_exported(validators, delegations, unbondings)
    return StakingGenesis(
        params=params,
        validators=tuple(sorted(validators, key=lambda v: v.cons_address)),
        gen_txs=tuple(gentxs),
        delegations=tuple(delegations),
        unbondings=tuple(unbondings),
        redelegations=tuple(redelegations),
    )


def check_genesis(g: StakingGenesis) -> None:
    """One validator per operator and per consensus key; gen_txs bond at least min_self_bond.

    Raises:
        InvalidGenesis: naming the validator.
    """
    check_unique(list(g.validators), list(g.gen_txs))
    check_bonds(g.params, list(g.validators), list(g.gen_txs))


def check_pools(g: StakingGenesis, balances: dict[bytes, int]) -> None:
    """The bonded pool holds the validators' tokens, the unbonding pool the unbonding entries.

    Raises:
        InvalidGenesis: a pool's balance differs.
    """
    bonded = sum(v.tokens for v in g.validators)
    if balances.get(BONDED_POOL, 0) != bonded:
        raise InvalidGenesis(
            f"bonded pool {to_bech32(BONDED_POOL)} holds {balances.get(BONDED_POOL, 0)} but "
            f"staking.validators have {bonded} tokens"
        )
    unbonding_total = sum(u.amount for u in g.unbondings)
    if balances.get(UNBONDING_POOL, 0) != unbonding_total:
        raise InvalidGenesis(
            f"unbonding pool {to_bech32(UNBONDING_POOL)} holds {balances.get(UNBONDING_POOL, 0)} "
            f"but staking.unbonding entries total {unbonding_total}"
        )


def check_gen_tx_funds(g: StakingGenesis, balances: dict[bytes, int]) -> None:
    """Each gen_tx's operator is a genesis account holding its self-bond.

    Raises:
        InvalidGenesis: naming the gen_tx.
    """
    for gtx in g.gen_txs:
        have = balances.get(gtx.operator)
        if have is None:
            raise InvalidGenesis(
                f"gen_tx of {gtx.moniker}: operator {to_bech32(gtx.operator)} is not a genesis "
                "account"
            )
        if have < gtx.self_bond:
            raise InvalidGenesis(
                f"gen_tx of {gtx.moniker}: self_bond {gtx.self_bond} exceeds the "
                f"operator's balance {have}"
            )


def check_completion_heights(g: StakingGenesis, initial_height: int) -> None:
    """Every unbonding and redelegation entry completes at or after the chain's first block
    (``initial_height``): end-block releases the entries completing at exactly its height, so
    an earlier one would hold its tokens, and its redelegation would block the delegator, for
    ever. (An export writes only entries completing after its height.)

    Raises:
        InvalidGenesis: naming the first entry that completes too early.
    """
    for i, u in enumerate(g.unbondings):
        if u.completion_height < initial_height:
            raise InvalidGenesis(
                f"staking.unbonding[{i}] completes at height {u.completion_height}, before the "
                f"first block {initial_height}: it would never be released"
            )
    for i, r in enumerate(g.redelegations):
        if r[4] < initial_height:
            raise InvalidGenesis(
                f"staking.redelegations[{i}] completes at height {r[4]}, before the first "
                f"block {initial_height}: it would never complete"
            )


def init_genesis(state: Overlay, g: StakingGenesis) -> list[ValidatorUpdate]:
    """Write staking genesis, bond each gen_tx's self-bond (operator -> bonded pool), and return
    the initial validator set (the active set, also remembered as CometBFT's last powers)."""
    set_params(state, g.params)
    by_op = {v.operator: v.cons_address for v in g.validators}
    for v in g.validators:
        set_validator(state, v)
    for d in g.delegations:
        set_shares(state, d.delegator, by_op[d.validator], d.shares)
    for who, src, dst, created, done, shares, initial in g.redelegations:
        add_redelegation(
            state, Redelegation(who, by_op[src], by_op[dst], created, done, shares, initial)
        )
    for u in g.unbondings:
        add_unbonding(
            state, UnbondingEntry(u.delegator, by_op[u.validator], u.completion_height, u.amount)
        )
    for gtx in g.gen_txs:
        send(state, gtx.operator, BONDED_POOL, gtx.self_bond)
        v = Validator(gtx.operator, gtx.pub_key, gtx.self_bond, gtx.moniker)
        set_validator(state, v)
        set_shares(state, gtx.operator, v.cons_address, gtx.self_bond)
    updates = []
    for v, power in active_set(all_validators(state), g.params):
        set_last_power(state, v.cons_address, power)
        updates.append(ValidatorUpdate(v.pub_key, power))
    return updates


def export_genesis(state: KVReader) -> StakingGenesis:
    """The bonded state as ``genesis export`` writes it: params, validator records, delegations,
    unbonding and redelegation entries (validators named by operator); no gen_txs."""
    validators = all_validators(state)
    ops = {v.cons_address: v.operator for v in validators}
    return StakingGenesis(
        params=get_params(state),
        validators=tuple(validators),
        delegations=tuple(GenesisDelegation(d, ops[c], s) for d, c, s in all_delegations(state)),
        unbondings=tuple(
            GenesisUnbonding(u.delegator, ops[u.cons_address], u.completion_height, u.amount)
            for u in all_unbondings(state)
        ),
        redelegations=tuple(
            (
                r.delegator,
                ops[r.src],
                ops[r.dst],
                r.creation_height,
                r.completion_height,
                r.shares,
                r.initial_balance,
            )
            for r in all_redelegations(state)
        ),
    )


def initial_set(g: StakingGenesis) -> list[tuple[bytes, int]]:
    """The (consensus key, power) set a genesis bonds: what InitChain returns to CometBFT."""
    bonded = list(g.validators) + [
        Validator(t.operator, t.pub_key, t.self_bond, t.moniker) for t in g.gen_txs
    ]
    return [(v.pub_key, power) for v, power in active_set(bonded, g.params)]


def check_backed_by_stake(bonded: list[tuple[bytes, int]], comet: list[tuple[bytes, int]]) -> None:
    """The validators CometBFT's genesis.json lists (``comet``: ed25519 key, power) must be
    exactly the set the app's staked genesis gives (``bonded``), or absent: a validator with no
    stake behind it could be neither slashed nor removed by the app. Cosmos SDK baseapp
    ``InitChain``: "len(RequestInitChain.Validators) != len(GenesisValidators)", and each must
    match.

    Raises:
        InvalidGenesis: no staked validator at all, or genesis.json's set differs.
    """

    def show(vals: list[tuple[bytes, int]]) -> str:
        return ", ".join(f"{base64.b64encode(k).decode()}:{p}" for k, p in sorted(vals)) or "none"

    if comet and sorted(comet) != sorted(bonded):
        raise InvalidGenesis(
            f"genesis.json's validators are not backed by stake: it lists {show(comet)}, the "
            f"staked genesis (gen_txs, staking.validators) bonds {show(bonded)}; leave "
            "genesis.json's validators empty or make them equal"
        )
    if not bonded:
        raise InvalidGenesis("no validators: add gen_txs (genesis add-validator)")
