"""The keyring's exceptions (client side: none of them is a chain error code)."""

from __future__ import annotations


class KeyringError(Exception):
    """A key is missing, already exists, has a bad name, an unreadable file, or cannot be
    unlocked (no passphrase source, no OS keyring)."""


class WrongPassphrase(KeyringError):
    """The passphrase does not open the sealed key (or the sealed data was altered)."""
