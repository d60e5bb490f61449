"""Typed accessors for accounts and supply. Account value: balance u64 || nonce u64 (16 bytes)."""

from __future__ import annotations

from dataclasses import dataclass

from ...codec import U64_MAX, decode_u64, encode_u64
from ...errors import BalanceOverflow, InsufficientFunds
from ...state.keys import BURNED, GENESIS_SUPPLY, SUPPLY, account_key
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


BURN_REASONS = ("fee", "slash", "subnet_lock", "registration", "recycled")
"""Why tokens leave the supply: the fee_burn_rate part of fees, slashed stake, subnet lock
costs, neuron registration burns, and subnet emission no one earned (recycled: the minting cap
lets it be minted again later)."""


def get_burned(state: KVReader) -> dict[str, int]:
    """Base units burned so far, by reason (every reason listed, 0 when none)."""
    out = {}
    for reason in BURN_REASONS:
        raw = state.get(BURNED + reason.encode())
        out[reason] = 0 if raw is None else decode_u64(raw)
    return out


def add_burned(state: Overlay, reason: str, amount: int) -> None:
    key = BURNED + reason.encode()
    raw = state.get(key)
    state.set(key, encode_u64((0 if raw is None else decode_u64(raw)) + amount))


def set_burned(state: Overlay, burned: dict[str, int]) -> None:
    """Genesis: the burns carried over by an export (reasons with 0 are not written)."""
    for reason in BURN_REASONS:
        if burned.get(reason):
            state.set(BURNED + reason.encode(), encode_u64(burned[reason]))


def get_genesis_supply(state: KVReader) -> int:
    """The supply the chain's history starts from: the genesis supply, less what the exported
    chain it was made from had minted, plus what it had burned."""
    raw = state.get(GENESIS_SUPPLY)
    return 0 if raw is None else decode_u64(raw)


def set_genesis_supply(state: Overlay, amount: int) -> None:
    state.set(GENESIS_SUPPLY, encode_u64(amount))
