"""A secret sealed with a passphrase: argon2id (memory-hard KDF) and XChaCha20-Poly1305 (AEAD).

Both come from libsodium through PyNaCl. The sealed form is a JSON object that carries its own
KDF parameters, so a stronger default later does not break old files:

    {"kdf": {"alg": "argon2id13", "opslimit": 3, "memlimit": 268435456, "salt": "<16 bytes hex>"},
     "cipher": {"alg": "xchacha20poly1305-ietf", "nonce": "<24 bytes hex>", "ciphertext": "<hex>"}}

The associated data (not secret, authenticated) binds the ciphertext to what it belongs to (the
key's public key): a ciphertext moved under another key's metadata fails to open.

A sealed object may come from a stranger (an imported export file): every field is checked and
the KDF cost is bounded before any work is done, so a hostile file cannot make the client
allocate gigabytes or spin for minutes.
"""

from __future__ import annotations

from typing import Any

import nacl.exceptions
import nacl.utils
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.pwhash import argon2id

from .errors import KeyringError, WrongPassphrase

KDF_ALG = "argon2id13"
CIPHER_ALG = "xchacha20poly1305-ietf"
OPSLIMIT = argon2id.OPSLIMIT_MODERATE
"""Default argon2id passes (libsodium's MODERATE: 3; ~0.4 s with MEMLIMIT on 2 cores)."""
MEMLIMIT = argon2id.MEMLIMIT_MODERATE
"""Default argon2id memory (libsodium's MODERATE: 256 MiB)."""
MAX_OPSLIMIT = 16
MAX_MEMLIMIT = 1 << 30
"""The most a sealed object may ask for (1 GiB, libsodium's SENSITIVE): bounds a hostile file."""
MIN_PASSPHRASE_CHARS = 8
"""Shortest passphrase accepted when sealing (Cosmos SDK's file keyring asks the same)."""


def _hex(d: dict[str, Any], field: str, size: int | None = None) -> bytes:
    v = d.get(field)
    if not isinstance(v, str):
        raise KeyringError(f"sealed key: {field} is missing")
    try:
        raw = bytes.fromhex(v)
    except ValueError:
        raise KeyringError(f"sealed key: {field} is not hex") from None
    if size is not None and len(raw) != size:
        raise KeyringError(f"sealed key: {field} must be {size} bytes, not {len(raw)}")
    return raw


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    key: bytes = argon2id.kdf(
        32, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit
    )
    return key


def check_new_passphrase(passphrase: str) -> None:
    """Raise KeyringError if ``passphrase`` is too short to seal a key with."""
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise KeyringError(f"the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")


def seal(
    secret: bytes,
    passphrase: str,
    aad: bytes,
    opslimit: int | None = None,
    memlimit: int | None = None,
) -> dict[str, Any]:
    """Encrypt ``secret`` under a key derived from ``passphrase``; ``aad`` is authenticated.

    The KDF cost defaults to OPSLIMIT / MEMLIMIT. Returns the JSON-ready sealed object (see
    the module docstring). Raises KeyringError for a passphrase shorter than
    MIN_PASSPHRASE_CHARS.
    """
    check_new_passphrase(passphrase)
    opslimit = OPSLIMIT if opslimit is None else opslimit
    memlimit = MEMLIMIT if memlimit is None else memlimit
    salt = nacl.utils.random(argon2id.SALTBYTES)
    nonce = nacl.utils.random(24)
    box_key = _derive(passphrase, salt, opslimit, memlimit)
    ciphertext = crypto_aead_xchacha20poly1305_ietf_encrypt(secret, aad, nonce, box_key)
    return {
        "kdf": {"alg": KDF_ALG, "opslimit": opslimit, "memlimit": memlimit, "salt": salt.hex()},
        "cipher": {"alg": CIPHER_ALG, "nonce": nonce.hex(), "ciphertext": ciphertext.hex()},
    }


def open_sealed(sealed: Any, passphrase: str, aad: bytes, secret_size: int) -> bytes:
    """Decrypt a sealed object. Raises WrongPassphrase if it does not open (wrong passphrase,
    or the ciphertext or ``aad`` was altered) and KeyringError if it is malformed or asks for
    more KDF work than MAX_OPSLIMIT / MAX_MEMLIMIT."""
    if not isinstance(sealed, dict):
        raise KeyringError("sealed key: not an object")
    kdf, cipher = sealed.get("kdf"), sealed.get("cipher")
    if not isinstance(kdf, dict) or not isinstance(cipher, dict):
        raise KeyringError("sealed key: kdf and cipher are required")
    if kdf.get("alg") != KDF_ALG or cipher.get("alg") != CIPHER_ALG:
        raise KeyringError(f"sealed key: unsupported algorithms (need {KDF_ALG}, {CIPHER_ALG})")
    ops, mem = kdf.get("opslimit"), kdf.get("memlimit")
    if type(ops) is not int or not argon2id.OPSLIMIT_MIN <= ops <= MAX_OPSLIMIT:
        raise KeyringError(f"sealed key: opslimit must be {argon2id.OPSLIMIT_MIN}..{MAX_OPSLIMIT}")
    if type(mem) is not int or not argon2id.MEMLIMIT_MIN <= mem <= MAX_MEMLIMIT:
        raise KeyringError(f"sealed key: memlimit must be {argon2id.MEMLIMIT_MIN}..{MAX_MEMLIMIT}")
    salt = _hex(kdf, "salt", argon2id.SALTBYTES)
    nonce = _hex(cipher, "nonce", 24)
    ciphertext = _hex(cipher, "ciphertext", secret_size + 16)
    box_key = _derive(passphrase, salt, ops, mem)
    try:
        plain: bytes = crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, box_key)
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase("wrong passphrase (or the key file was altered)") from None
    return plain
