"""Loading a neuron's hotkey: the one place neurons read the keyring (so a keyring with other
backends plugs in here only)."""

from __future__ import annotations

from pathlib import Path

from ..client.keyring import Key, Keyring
from ..node.home import NodeHome


def load_hotkey(home: Path, name: str) -> Key:
    """The key ``name`` of the keyring in node home ``home``; raises ``KeyringError`` with a
    one-line reason when it is missing or unreadable."""
    return Keyring(NodeHome(home).keyring).get(name)
