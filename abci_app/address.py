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


@functools.lru_cache(maxsize=65_536)
def to_bech32(addr: bytes) -> str:
    """The ``mt1…`` form. Cached (bounded): every tx's events name its addresses, and the
    pure-Python bech32 checksum was most of FinalizeBlock's time (see bench/RESULTS.md)."""
    if len(addr) != ADDRESS_LEN:
        raise InvalidAddress(f"an address is {ADDRESS_LEN} bytes, got {len(addr)}")
    data = bech32.convertbits(list(addr), 8, 5, True)
    if data is None:  # pragma: no cover - 8->5 bit conversion with padding cannot fail
        raise InvalidAddress("cannot convert address to bech32")
    return str(bech32.bech32_encode(HRP, data))


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
    hrp, data = bech32.bech32_decode(text)
    if hrp is None or data is None:
        raise InvalidAddress(f"{text!r} is not a valid bech32 string (bad checksum or characters)")
    if hrp != HRP:
        raise InvalidAddress(f"{text!r} has prefix {hrp!r}, expected {HRP!r}")
    raw = bech32.convertbits(data, 5, 8, False)
    if raw is None or len(raw) != ADDRESS_LEN:
        raise InvalidAddress(f"{text!r} does not hold a {ADDRESS_LEN}-byte address")
    return bytes(raw)


def module_address(name: str) -> bytes:
    """Address of a module account (no private key exists for it), e.g. the fee collector."""
    return hashlib.sha256(b"module/" + name.encode()).digest()[:ADDRESS_LEN]
