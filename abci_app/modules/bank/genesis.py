"""Bank in genesis: ``app_state.accounts = [{"address": "mt1…", "balance": "…", "nonce": 0}]``.

Balances are base units as a decimal string (or a JSON integer); ``nonce`` is optional (0) and
kept by ``genesis export`` so txs signed before an export cannot be replayed after it. The total
supply is the sum of the balances (module accounts included).

``app_state.bank = {"burned": {"slash": "…", …}}`` (written by ``genesis export``) carries the
burns, by reason, of the chain an export was made from, so that the supply invariant (supply =
origin + minted - burned) holds across an export: the origin supply is the genesis total less
what that chain had minted plus what it had burned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...address import to_bech32
from ...codec import U64_MAX
from ...errors import InvalidGenesis
from ...schema import INT64_MAX, check_object, parse_address, parse_amount
from ...state.keys import ACCOUNT
from ...state.overlay import KVReader, Overlay
from .state import (
    BURN_REASONS,
    Account,
    get_burned,
    set_account,
    set_burned,
    set_genesis_supply,
    set_supply,
)

_ACCOUNT_FIELDS = {"address", "balance", "nonce"}
_REQUIRED_ACCOUNT_FIELDS = {"address", "balance"}


@dataclass(frozen=True)
class GenesisAccount:
    """One ``app_state.accounts`` entry: address, balance (base units), nonce."""

    address: bytes
    balance: int
    nonce: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"address": to_bech32(self.address), "balance": str(self.balance)}
        if self.nonce:
            out["nonce"] = self.nonce
        return out


@dataclass(frozen=True)
class BankGenesis:
    """Bank's genesis section: the accounts."""

    accounts: tuple[GenesisAccount, ...] = ()
    """Sorted by address."""
    burned: tuple[tuple[str, int], ...] = ()
    """(reason, base units) burned before the export, reasons in BURN_REASONS order."""
    origin_supply: int | None = None
    """The supply before any mint or burn (None: the total supply, for a fresh chain); set by
    the genesis assembler, which knows what was minted."""

    @property
    def total_supply(self) -> int:
        """Sum of the balances, base units."""
        return sum(a.balance for a in self.accounts)

    def balances(self) -> dict[bytes, int]:
        """Balance by address."""
        return {a.address: a.balance for a in self.accounts}

    def to_dict(self) -> list[dict[str, Any]]:
        """The ``app_state.accounts`` list."""
        return [a.to_dict() for a in self.accounts]

    def section(self) -> dict[str, Any]:
        """The ``app_state.bank`` object (empty when nothing was ever burned)."""
        burned = {r: str(a) for r, a in self.burned if a}
        return {"burned": burned} if burned else {}


def parse_burned(raw: Any) -> tuple[tuple[str, int], ...]:
    """Parse ``app_state.bank`` ({"burned": {reason: amount}}).

    Raises:
        InvalidGenesis: unknown fields or reasons, or a bad amount.
    """
    raw = check_object(raw, "bank", {"burned"})
    burned = check_object(raw.get("burned", {}), "bank.burned", set(BURN_REASONS))
    return tuple(
        (r, parse_amount(burned[r], f"bank.burned.{r}")) for r in BURN_REASONS if r in burned
    )


def parse_genesis(raw: Any) -> BankGenesis:
    """Parse ``app_state.accounts``.

    Raises:
        InvalidGenesis: not a list; an entry with unknown or missing fields, a bad address or
            amount; an address twice; balances summing past 2^64 - 1.
    """
    if not isinstance(raw, list):
        raise InvalidGenesis("app_state.accounts must be a list")
    seen: set[bytes] = set()
    accounts: list[GenesisAccount] = []
    total = 0
    for i, entry in enumerate(raw):
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
    return BankGenesis(tuple(accounts))


def init_genesis(state: Overlay, g: BankGenesis) -> None:
    """Write every account, the total supply (their sum), the burns carried over and the
    origin supply the supply invariant starts from."""
    for acct in g.accounts:
        set_account(state, acct.address, Account(balance=acct.balance, nonce=acct.nonce))
    if g.total_supply > U64_MAX:
        raise InvalidGenesis("total supply overflows 64 bits")
    set_supply(state, g.total_supply)
    set_burned(state, dict(g.burned))
    set_genesis_supply(state, g.total_supply if g.origin_supply is None else g.origin_supply)


def export_genesis(state: KVReader) -> BankGenesis:
    """Every account with its balance and nonce, by address, and the burns by reason."""
    return BankGenesis(
        tuple(
            GenesisAccount(key[len(ACCOUNT) :], acct.balance, acct.nonce)
            for key, acct in ((k, Account.decode(v)) for k, v in state.iter_prefix(ACCOUNT))
        ),
        burned=tuple((r, a) for r, a in get_burned(state).items() if a),
    )
