"""BIP-39 recovery phrases and the ed25519 key they derive.

The phrase and its 64-byte seed follow BIP-39 (the ``mnemonic`` package, Trezor's reference
implementation). An ed25519 key cannot use BIP-32's derivation (it needs a secp256k1 point), so
the key is derived by SLIP-0010 for ed25519, where every step is hardened:

    I = HMAC-SHA512(key=b"ed25519 seed", data=bip39_seed)             master: k = I[:32], c = I[32:]
    I = HMAC-SHA512(key=c, data=0x00 || k || ser32(index | 2^31))      each hardened child

along ``HD_PATH`` = m/44'/118'/0'/0'/0' (BIP-44's purpose 44', coin type 118' as Cosmos SDK
chains use, account 0', change 0', address index 0'; ``account`` and ``index`` vary the last
hardened parts). The resulting 32 bytes are the ed25519 seed (RFC 8032 private key). The same
phrase therefore gives the same key in any SLIP-0010 wallet set to this path.
"""

from __future__ import annotations

import hashlib
import hmac

from mnemonic import Mnemonic

from .errors import KeyringError

HARDENED = 1 << 31
COIN_TYPE = 118
HD_PATH = "m/44'/118'/0'/0'/0'"
MNEMONIC_WORDS = 24
_WORDS_TO_BITS = {12: 128, 15: 160, 18: 192, 21: 224, 24: 256}


def _wordlist() -> Mnemonic:
    return Mnemonic("english")


def new_mnemonic(words: int = MNEMONIC_WORDS) -> str:
    """A fresh BIP-39 English phrase of ``words`` words (12…24; 24 = 256 bits of entropy)."""
    if words not in _WORDS_TO_BITS:
        raise KeyringError(f"a phrase has 12, 15, 18, 21 or 24 words, not {words}")
    phrase: str = _wordlist().generate(_WORDS_TO_BITS[words])
    return phrase


def normalize_mnemonic(phrase: str) -> str:
    """The phrase with single spaces and lower case; KeyringError if its checksum or a word is
    wrong (the message says which, never echoes the phrase)."""
    words = phrase.strip().lower().split()
    if len(words) not in _WORDS_TO_BITS:
        raise KeyringError(
            f"a recovery phrase has 12, 15, 18, 21 or 24 words; this one has {len(words)}"
        )
    m = _wordlist()
    unknown = [i + 1 for i, w in enumerate(words) if w not in m.wordlist]
    if unknown:
        raise KeyringError(f"word(s) {unknown} are not in the BIP-39 English list")
    text = " ".join(words)
    if not m.check(text):
        raise KeyringError("the recovery phrase's checksum is wrong (a word is misspelt or moved)")
    return text


def slip10_ed25519(seed: bytes, path: list[int]) -> bytes:
    """SLIP-0010 ed25519 private key for ``path`` (indices; each must be >= 2^31, hardened)."""
    digest = hmac.new(b"ed25519 seed", seed, hashlib.sha512).digest()
    k, c = digest[:32], digest[32:]
    for index in path:
        if not HARDENED <= index < 1 << 32:
            raise KeyringError("ed25519 derivation supports hardened indices only")
        digest = hmac.new(c, b"\x00" + k + index.to_bytes(4, "big"), hashlib.sha512).digest()
        k, c = digest[:32], digest[32:]
    return k


def parse_path(path: str) -> list[int]:
    """``m/44'/118'/0'/0'/0'`` -> hardened indices; every part must be hardened (')."""
    parts = path.strip().split("/")
    if not parts or parts[0] != "m":
        raise KeyringError(f"HD path {path!r} must start with m/")
    out = []
    for p in parts[1:]:
        if not p.endswith("'") or not p[:-1].isdigit() or int(p[:-1]) >= HARDENED:
            raise KeyringError(f"HD path part {p!r}: ed25519 paths use hardened parts like 0'")
        out.append(int(p[:-1]) + HARDENED)
    return out


def hd_path(account: int = 0, index: int = 0) -> str:
    """The key path for ``account`` and address ``index`` (both 0 by default)."""
    for what, v in (("account", account), ("index", index)):
        if not 0 <= v < HARDENED:
            raise KeyringError(f"{what} must be 0..{HARDENED - 1}")
    return f"m/44'/{COIN_TYPE}'/{account}'/0'/{index}'"


def seed_from_mnemonic(phrase: str, bip39_passphrase: str = "", path: str = HD_PATH) -> bytes:
    """The 32-byte ed25519 seed for ``phrase`` (BIP-39, with its optional extra passphrase)
    along ``path`` (SLIP-0010). Raises KeyringError for a bad phrase or path."""
    text = normalize_mnemonic(phrase)
    bip39_seed = Mnemonic.to_seed(text, passphrase=bip39_passphrase)
    return slip10_ed25519(bip39_seed, parse_path(path))
