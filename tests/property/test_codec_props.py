"""Round-trips of every encoding, over arbitrary inputs."""

from __future__ import annotations

import bech32
import pytest
from hypothesis import given
from hypothesis import strategies as st

from abci_app.address import from_bech32, to_bech32
from abci_app.codec import U64_MAX, decode_u64, decode_uvarint, encode_u64, encode_uvarint
from abci_app.errors import InvalidAddress
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.bank.state import Account
from abci_app.params import AppParams
from abci_app.server import parse_frames
from abci_app.tx import decode_tx, tx_hash

u64 = st.integers(min_value=0, max_value=U64_MAX)


@given(u64)
def test_uvarint_roundtrip(n: int) -> None:
    enc = encode_uvarint(n)
    assert decode_uvarint(enc) == (n, len(enc))
    assert decode_uvarint(enc[:-1]) is None  # a truncated varint asks for more bytes


@given(u64)
def test_u64_roundtrip(n: int) -> None:
    assert decode_u64(encode_u64(n)) == n


@given(st.binary(min_size=20, max_size=20))
def test_bech32_roundtrip(addr: bytes) -> None:
    text = to_bech32(addr)
    assert text.startswith("mt1")
    assert from_bech32(text) == addr


@given(st.binary(min_size=20, max_size=20))
def test_bech32_encoding_matches_the_reference_library(addr: bytes) -> None:
    """to_bech32 computes the checksum itself (table-driven, for speed): it must be exactly
    the ``bech32`` package's BIP-173 encoding."""
    expected = bech32.bech32_encode("mt", bech32.convertbits(list(addr), 8, 5, True))
    assert to_bech32.__wrapped__(addr) == expected


@given(st.binary(min_size=20, max_size=20), st.integers(min_value=4, max_value=30))
def test_bech32_detects_a_changed_character(addr: bytes, pos: int) -> None:
    text = to_bech32(addr)
    swapped = "q" if text[pos] != "q" else "p"
    with pytest.raises(InvalidAddress):
        from_bech32(text[:pos] + swapped + text[pos + 1 :])


@given(u64, u64)
def test_account_roundtrip(balance: int, nonce: int) -> None:
    a = Account(balance, nonce)
    assert Account.decode(a.encode()) == a


@given(
    st.integers(min_value=0, max_value=40),
    st.binary(min_size=20, max_size=20),
    st.integers(min_value=1, max_value=U64_MAX),
    st.integers(min_value=1_000, max_value=U64_MAX),
    st.text(max_size=50),
)
def test_tx_build_decode_roundtrip(seed: int, to: bytes, amount: int, fee: int, memo: str) -> None:
    from harness import CHAIN_ID, addr_of, seeded_key

    from abci_app.tx import build_tx

    key = seeded_key(seed)
    raw = build_tx(key, CHAIN_ID, seed, fee, [MsgTransfer(to, amount)], memo)
    tx = decode_tx(raw, AppParams(), CHAIN_ID)
    assert tx.sender == addr_of(key)
    assert (tx.nonce, tx.fee, tx.memo) == (seed, fee, memo)
    assert tx.messages == (MsgTransfer(to, amount),)
    assert tx.hash == tx_hash(raw)


@given(st.lists(st.binary(max_size=300), max_size=8), st.integers(min_value=1, max_value=50))
def test_frames_survive_any_chunking(payloads: list[bytes], chunk: int) -> None:
    stream = b"".join(encode_uvarint(len(p)) + p for p in payloads)
    buf = bytearray()
    got: list[bytes] = []
    for i in range(0, len(stream), chunk):
        buf += stream[i : i + chunk]
        got.extend(parse_frames(buf))
    assert got == payloads
    assert not buf
