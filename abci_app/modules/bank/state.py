"""Typed accessors for accounts and supply. Account value: balance u64 || nonce u64 (16 bytes)."""

from __future__ import annotations

from dataclasses import dataclass

from ...codec import U64_MAX, decode_u64, encode_u64
from ...errors import BalanceOverflow, InsufficientFunds
from ...state.keys import SUPPLY, account_key
from ...state.overlay import KVReader, Overlay


@dataclass(frozen=True)
class Account:
    """An account record: ``balance`` in base units and the ``nonce`` its next tx must carry."""

    balance: int = 0
    nonce: int = 0

    def encode(self) -> bytes:
        return encode_u64(self.balance) + encode_u64(self.nonce)

    @classmethod
    def decode(cls, data: bytes) -> Account:
        if len(data) != 16:
            raise ValueError(f"account record must be 16 bytes, got {len(data)}")
        return cls(decode_u64(data[:8]), decode_u64(data[8:]))


def get_account(state: KVReader, address: bytes) -> Account | None:
    """The account at ``address`` (20 bytes), or None if it never received funds."""
    raw = state.get(account_key(address))
    return None if raw is None else Account.decode(raw)


def set_account(state: Overlay, address: bytes, account: Account) -> None:
    """Write the account record at ``address``."""
    state.set(account_key(address), account.encode())


def get_supply(state: KVReader) -> int:
    """The total supply in base units (0 before genesis)."""
    raw = state.get(SUPPLY)
    return 0 if raw is None else decode_u64(raw)


def set_supply(state: Overlay, amount: int) -> None:
    """Write the total supply. Only bank's keeper and genesis call this (tested)."""
    state.set(SUPPLY, encode_u64(amount))


def credit(state: Overlay, address: bytes, amount: int) -> None:
    """Add ``amount`` to an account, creating it if needed (supply is not changed)."""
    acct = get_account(state, address) or Account()
    if acct.balance + amount > U64_MAX:
        raise BalanceOverflow(f"crediting {amount} would overflow the recipient's balance")
    set_account(state, address, Account(acct.balance + amount, acct.nonce))


def debit(state: Overlay, address: bytes, amount: int) -> None:
    """Remove ``amount`` from an account; InsufficientFunds (with the balance) if it is short."""
    acct = get_account(state, address) or Account()
    if acct.balance < amount:
        raise InsufficientFunds(f"balance {acct.balance} is less than {amount}")
    set_account(state, address, Account(acct.balance - amount, acct.nonce))
