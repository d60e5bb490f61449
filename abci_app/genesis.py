"""The chain's genesis ``app_state``: parsing and every validation rule InitChain enforces.

Shape (inside CometBFT's genesis.json, key ``app_state``)::

    {"chain_id": "moderntensor-local-1",           # optional; must equal genesis.json's chain_id
     "params": {"min_fee": 1000, ...},             # optional; defaults in params.py
     "accounts": [{"address": "mt1...", "balance": "1000000000000", "nonce": 0}],
     "staking": {"params": {...},                  # optional; defaults in staking/params.py
                 "validators": [...]},             # already bonded (written by genesis export)
     "gen_txs": [...],                             # signed validator entries (genesis gentx)
     "distribution": {...}, "slashing": {...},     # written by genesis export
     "subnets": {"params": {...}, "records": [...]}}   # subnet params; records from export

Balances are base units as a decimal string (or a JSON integer); ``nonce`` is optional (0). A bad
file is rejected with an :class:`InvalidGenesis` naming the offending field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .address import to_bech32
from .codec import U64_MAX
from .errors import InvalidGenesis
from .modules.distribution.genesis import (
    DistributionGenesis,
    check_references,
    parse_distribution,
)
from .modules.slashing.genesis import SlashingGenesis, parse_slashing
from .modules.staking.genesis import (
    GenesisDelegation,
    GenesisUnbonding,
    GenTx,
    check_bonds,
    check_exported,
    check_unique,
    parse_delegation,
    parse_gentx,
    parse_redelegation,
    parse_unbonding,
    parse_validator,
    redelegation_dict,
)
from .modules.staking.params import StakingParams
from .modules.staking.state import BONDED_POOL, UNBONDING_POOL, Validator
from .modules.subnets.genesis import SubnetsGenesis, check_pools, parse_subnets
from .params import AppParams
from .schema import INT64_MAX, check_object, parse_address, parse_amount

_TOP_LEVEL = {
    "chain_id",
    "params",
    "accounts",
    "staking",
    "gen_txs",
    "distribution",
    "slashing",
    "subnets",
}
_ACCOUNT_FIELDS = {"address", "balance", "nonce"}
_REQUIRED_ACCOUNT_FIELDS = {"address", "balance"}


@dataclass(frozen=True)
class GenesisAccount:
    address: bytes
    balance: int
    nonce: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"address": to_bech32(self.address), "balance": str(self.balance)}
        if self.nonce:
            out["nonce"] = self.nonce
        return out


@dataclass(frozen=True)
class GenesisState:
    params: AppParams
    accounts: tuple[GenesisAccount, ...]
    chain_id: str | None = None
    staking_params: StakingParams = field(default_factory=StakingParams)
    validators: tuple[Validator, ...] = ()
    gen_txs: tuple[GenTx, ...] = ()
    delegations: tuple[GenesisDelegation, ...] = ()
    unbondings: tuple[GenesisUnbonding, ...] = ()
    redelegations: tuple[tuple[bytes, bytes, bytes, int, int, int], ...] = ()
    distribution: DistributionGenesis = field(default_factory=DistributionGenesis)
    slashing: SlashingGenesis = field(default_factory=SlashingGenesis)
    subnets: SubnetsGenesis = field(default_factory=SubnetsGenesis)

    @property
    def total_supply(self) -> int:
        return sum(a.balance for a in self.accounts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "params": self.params.to_dict(),
            "accounts": [a.to_dict() for a in self.accounts],
            "staking": {
                "params": self.staking_params.to_dict(),
                "validators": [v.to_dict() for v in self.validators],
                "delegations": [d.to_dict() for d in self.delegations],
                "unbonding": [u.to_dict() for u in self.unbondings],
                "redelegations": [redelegation_dict(*r) for r in self.redelegations],
            },
            "gen_txs": [g.to_dict() for g in self.gen_txs],
            "distribution": self.distribution.to_dict(),
            "slashing": self.slashing.to_dict(),
            "subnets": self.subnets.to_dict(),
        }
        if self.chain_id is not None:
            out["chain_id"] = self.chain_id
        return out


def parse_app_state(raw: bytes | str | dict[str, Any], chain_id: str | None = None) -> GenesisState:
    """Parse and validate an app_state; ``chain_id`` (from genesis.json) must agree if given."""
    if isinstance(raw, bytes | str):
        if not raw or (isinstance(raw, bytes) and not raw.strip()):
            raw = {}
        else:
            try:
                raw = json.loads(raw)
            except (ValueError, RecursionError) as e:  # JSONDecodeError, bad UTF-8, an
                # integer literal past Python's 4,300 digits, nesting past the recursion limit
                raise InvalidGenesis(f"app_state is not valid JSON: {str(e)[:200]}") from None
    raw = check_object(raw, "app_state", _TOP_LEVEL)

    declared = raw.get("chain_id")
    if declared is not None:
        if not isinstance(declared, str) or not declared:
            raise InvalidGenesis("app_state.chain_id must be a non-empty string")
        if chain_id is not None and declared != chain_id:
            raise InvalidGenesis(
                f"app_state.chain_id {declared!r} differs from genesis chain_id {chain_id!r}"
            )

    params = AppParams.from_dict(raw.get("params", {}))

    accounts_raw = raw.get("accounts", [])
    if not isinstance(accounts_raw, list):
        raise InvalidGenesis("app_state.accounts must be a list")
    seen: set[bytes] = set()
    accounts: list[GenesisAccount] = []
    total = 0
    for i, entry in enumerate(accounts_raw):
        where = f"accounts[{i}]"
        check_object(entry, where, _ACCOUNT_FIELDS, _REQUIRED_ACCOUNT_FIELDS)
        addr = parse_address(entry["address"], f"{where}.address")
        if addr in seen:
            raise InvalidGenesis(f"{where}: duplicate account {entry['address']}")
        seen.add(addr)
        balance = parse_amount(entry["balance"], f"{where}.balance")
        total += balance
        if total > U64_MAX:
            raise InvalidGenesis("total supply of the genesis accounts overflows 64 bits")
        nonce = parse_amount(entry.get("nonce", 0), f"{where}.nonce")
        if nonce >= INT64_MAX:
            raise InvalidGenesis(f"{where}.nonce must be below 2^63 - 1 (it grows with every tx)")
        accounts.append(GenesisAccount(addr, balance, nonce))
    accounts.sort(key=lambda a: a.address)

    staking_raw = check_object(
        raw.get("staking", {}),
        "staking",
        {"params", "validators", "delegations", "unbonding", "redelegations"},
    )
    staking_params = StakingParams.from_dict(staking_raw.get("params", {}))
    vals_raw = staking_raw.get("validators", [])
    if not isinstance(vals_raw, list):
        raise InvalidGenesis("staking.validators must be a list")
    validators = [parse_validator(v, f"staking.validators[{i}]") for i, v in enumerate(vals_raw)]
    gentx_raw = raw.get("gen_txs", [])
    if not isinstance(gentx_raw, list):
        raise InvalidGenesis("app_state.gen_txs must be a list")
    sign_chain = declared or chain_id or ""
    if gentx_raw and not sign_chain:
        raise InvalidGenesis("gen_txs need a chain id to verify their signatures")
    gentxs = [parse_gentx(g, f"gen_txs[{i}]", sign_chain) for i, g in enumerate(gentx_raw)]
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
    distribution = parse_distribution(raw.get("distribution", {}))
    check_references(distribution, {v.operator for v in validators} | {g.operator for g in gentxs})
    check_unique(validators, gentxs)
    check_bonds(staking_params, validators, gentxs)

    balances = {a.address: a.balance for a in accounts}
    bonded = sum(v.tokens for v in validators)
    if balances.get(BONDED_POOL, 0) != bonded:
        raise InvalidGenesis(
            f"bonded pool {to_bech32(BONDED_POOL)} holds {balances.get(BONDED_POOL, 0)} but "
            f"staking.validators have {bonded} tokens"
        )
    unbonding_total = sum(u.amount for u in unbondings)
    if balances.get(UNBONDING_POOL, 0) != unbonding_total:
        raise InvalidGenesis(
            f"unbonding pool {to_bech32(UNBONDING_POOL)} holds {balances.get(UNBONDING_POOL, 0)} "
            f"but staking.unbonding entries total {unbonding_total}"
        )
    subnets = parse_subnets(raw.get("subnets", {}))
    check_pools(subnets, balances)
    for g in gentxs:
        have = balances.get(g.operator)
        if have is None:
            raise InvalidGenesis(
                f"gen_tx of {g.moniker}: operator {to_bech32(g.operator)} is not a genesis account"
            )
        if have < g.self_bond:
            raise InvalidGenesis(
                f"gen_tx of {g.moniker}: self_bond {g.self_bond} exceeds the "
                f"operator's balance {have}"
            )
    return GenesisState(
        params=params,
        accounts=tuple(accounts),
        chain_id=declared,
        staking_params=staking_params,
        validators=tuple(sorted(validators, key=lambda v: v.cons_address)),
        gen_txs=tuple(gentxs),
        delegations=tuple(delegations),
        unbondings=tuple(unbondings),
        redelegations=tuple(redelegations),
        distribution=distribution,
        slashing=parse_slashing(raw.get("slashing", {})),
        subnets=subnets,
    )
