"""Key layout of the consensus store. Every key starts with its module's prefix."""

from __future__ import annotations

ACCOUNT = b"acct/"  # acct/<20-byte address> -> Account (balance u64 || nonce u64)
SUPPLY = b"bank/supply"  # total supply, u64
PARAMS = b"params/app"  # canonical JSON of AppParams
CHAIN_ID = b"app/chain_id"  # UTF-8 chain id, fixed by InitChain


def account_key(address: bytes) -> bytes:
    return ACCOUNT + address
