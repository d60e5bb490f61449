"""Loading a neuron's hotkey: the one place neurons read the keyring (so a keyring with other
backends plugs in here only)."""

from __future__ import annotations

from pathlib import Path

from ..client.keyring import Key, Keyring, KeyringError
from ..node.home import NodeHome


def load_hotkey(home: Path, name: str) -> Key:
    """The key ``name`` of the keyring in node home ``home``; raises ``KeyringError`` with a
    one-line reason when it is missing or unreadable."""
    return Keyring(NodeHome(home).keyring).get(name)


def load_or_create_hotkey(home: Path, name: str) -> Key:
    """The key ``name``, created (a fresh random key, stored in the keyring) when missing:
    ``subnet demo``'s neurons. Raises ``KeyringError`` for an unreadable file or bad name."""
    try:
        return load_hotkey(home, name)
    except KeyringError:
        if (NodeHome(home).keyring / f"{name}.json").exists():
            raise  # there but unreadable: never overwrite a key
        return Keyring(NodeHome(home).keyring).add(name)
