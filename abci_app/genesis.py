"""The chain's genesis ``app_state``: parsing and every validation rule InitChain enforces.

Shape (inside CometBFT's genesis.json, key ``app_state``)::

    {"chain_id": "moderntensor-local-1",           # optional; must equal genesis.json's chain_id
     "params": {"min_fee": 1000, ...},             # optional; defaults in params.py
     "accounts": [{"address": "mt1...", "balance": "1000000000000"}]}

Balances are base units as a decimal string (or a JSON integer). A bad file is rejected with an
:class:`InvalidGenesis` naming the offending field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .address import from_bech32, to_bech32
from .codec import U64_MAX
from .errors import InvalidAddress, InvalidGenesis
from .params import AppParams

_TOP_LEVEL = {"chain_id", "params", "accounts"}
_ACCOUNT_FIELDS = {"address", "balance"}


@dataclass(frozen=True)
class GenesisAccount:
    address: bytes
    balance: int

    def to_dict(self) -> dict[str, str]:
        return {"address": to_bech32(self.address), "balance": str(self.balance)}


@dataclass(frozen=True)
class GenesisState:
    params: AppParams
    accounts: tuple[GenesisAccount, ...]
    chain_id: str | None = None

    @property
    def total_supply(self) -> int:
        return sum(a.balance for a in self.accounts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "params": self.params.to_dict(),
            "accounts": [a.to_dict() for a in self.accounts],
        }
        if self.chain_id is not None:
            out["chain_id"] = self.chain_id
        return out


def parse_amount(value: Any, where: str) -> int:
    """A non-negative u64 amount given as a JSON integer or a string of decimal digits."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidGenesis(f"{where} must be an integer or a decimal string, got {value!r}")
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit():
            raise InvalidGenesis(f"{where} must be a non-negative decimal integer, got {value!r}")
        value = int(value)
    assert isinstance(value, int)
    if value < 0:
        raise InvalidGenesis(f"{where} must not be negative, got {value}")
    if value > U64_MAX:
        raise InvalidGenesis(f"{where} does not fit in 64 bits")
    return value


def parse_app_state(raw: bytes | str | dict[str, Any], chain_id: str | None = None) -> GenesisState:
    """Parse and validate an app_state; ``chain_id`` (from genesis.json) must agree if given."""
    if isinstance(raw, bytes | str):
        if not raw or (isinstance(raw, bytes) and not raw.strip()):
            raw = {}
        else:
            try:
                raw = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise InvalidGenesis(f"app_state is not valid JSON: {e}") from None
    if not isinstance(raw, dict):
        raise InvalidGenesis("app_state must be a JSON object")
    unknown = sorted(set(raw) - _TOP_LEVEL)
    if unknown:
        raise InvalidGenesis(f"unknown field(s) in app_state: {', '.join(unknown)}")

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
        if not isinstance(entry, dict):
            raise InvalidGenesis(f"{where} must be an object")
        extra = sorted(set(entry) - _ACCOUNT_FIELDS)
        if extra:
            raise InvalidGenesis(f"unknown field(s) in {where}: {', '.join(extra)}")
        missing = sorted(_ACCOUNT_FIELDS - set(entry))
        if missing:
            raise InvalidGenesis(f"{where} is missing {', '.join(missing)}")
        try:
            addr = from_bech32(entry["address"])
        except InvalidAddress as e:
            raise InvalidGenesis(f"{where}.address: {e.message}") from None
        if addr in seen:
            raise InvalidGenesis(f"{where}: duplicate account {entry['address']}")
        seen.add(addr)
        balance = parse_amount(entry["balance"], f"{where}.balance")
        total += balance
        if total > U64_MAX:
            raise InvalidGenesis("total supply of the genesis accounts overflows 64 bits")
        accounts.append(GenesisAccount(addr, balance))
    accounts.sort(key=lambda a: a.address)
    return GenesisState(params=params, accounts=tuple(accounts), chain_id=declared)
