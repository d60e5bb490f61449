"""Account addresses: the first 20 bytes of sha256(ed25519 public key), shown as bech32 ``mt1…``."""

from __future__ import annotations

import functools
import hashlib

import bech32

from .errors import InvalidAddress

HRP = "mt"
ADDRESS_LEN = 20


def address_from_pubkey(pubkey: bytes) -> bytes:
    return hashlib.sha256(pubkey).digest()[:ADDRESS_LEN]


_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_STEP = [
    functools.reduce(lambda acc, i: acc ^ (_GENERATOR[i] if top >> i & 1 else 0), range(5), 0)
    for top in range(32)
]
"""BIP-173's checksum generator folded into one table lookup per 5-bit symbol."""


def _polymod_step(chk: int, value: int) -> int:
    return ((chk & 0x1FFFFFF) << 5) ^ value ^ _STEP[chk >> 25]


_AFTER_HRP = functools.reduce(
    _polymod_step, [ord(c) >> 5 for c in HRP] + [0] + [ord(c) & 31 for c in HRP], 1
)


@functools.lru_cache(maxsize=65_536)
def to_bech32(addr: bytes) -> str:
    """The ``mt1…`` form (BIP-173 bech32). Every tx's events name its addresses, so this is
    on the block path: a table-driven checksum (about 3x faster than the ``bech32`` package's,
    and tested equal to it on random addresses) plus a bounded cache."""
    if len(addr) != ADDRESS_LEN:
        raise InvalidAddress(f"an address is {ADDRESS_LEN} bytes, got {len(addr)}")
    n = int.from_bytes(addr, "big")  # 160 bits = exactly 32 five-bit symbols, no padding
    symbols = [(n >> shift) & 31 for shift in range(155, -1, -5)]
    chk = functools.reduce(_polymod_step, symbols + [0] * 6, _AFTER_HRP) ^ 1
    checksum = [(chk >> shift) & 31 for shift in range(25, -1, -5)]
    return HRP + "1" + "".join(_CHARSET[v] for v in symbols + checksum)


def from_bech32(text: str) -> bytes:
    """Parse an ``mt1…`` address; raise InvalidAddress with the reason when it is not one."""
    if not isinstance(text, str) or not text:
        raise InvalidAddress("empty address")
    return _from_bech32(text)


@functools.lru_cache(maxsize=65_536)
def _from_bech32(text: str) -> bytes:
    """(Cached like to_bech32; an invalid string raises and is not cached.)"""
    if not text:
        raise InvalidAddress("empty address")
    shown = repr(text) if len(text) <= 100 else f"{text[:100]!r}…"  # errors echo a bounded part
    hrp, data = bech32.bech32_decode(text)
    if hrp is None or data is None:
        raise InvalidAddress(f"{shown} is not a valid bech32 string (bad checksum or characters)")
    if hrp != HRP:
        raise InvalidAddress(f"{shown} has prefix {hrp!r}, expected {HRP!r}")
    raw = bech32.convertbits(data, 5, 8, False)
    if raw is None or len(raw) != ADDRESS_LEN:
        raise InvalidAddress(f"{shown} does not hold a {ADDRESS_LEN}-byte address")
    return bytes(raw)


def module_address(name: str) -> bytes:
    """Address of a module account (no private key exists for it), e.g. the fee collector."""
    return hashlib.sha256(b"module/" + name.encode()).digest()[:ADDRESS_LEN]
