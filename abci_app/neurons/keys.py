"""Loading a neuron's hotkey: the one place neurons read the keyring.

A miner or validator runs unattended, so a ``file``-backend (sealed) key takes its passphrase
from ``--passphrase-file`` or ``$MODERNTENSOR_KEYRING_PASSPHRASE`` (the keyring's own sources);
``subnet demo`` creates its neurons' keys in the ``test`` backend, as ``node init`` does for
``dev``: they are development keys.
"""

from __future__ import annotations

from pathlib import Path

from ..client.keyring import Key, Keyring, KeyringError
from ..node.home import NodeHome


def load_hotkey(home: Path, name: str, passphrase_file: Path | None = None) -> Key:
    """The key ``name`` of the keyring in node home ``home``, unlocked. Raises
    ``KeyringError`` (or its ``WrongPassphrase``) with a one-line reason."""
    return Keyring(NodeHome(home).keyring, passphrase_file=passphrase_file).get(name)


def load_or_create_dev_hotkey(home: Path, name: str) -> Key:
    """The key ``name``, created as a fresh ``test``-backend key when missing (``subnet
    demo``'s neurons). Raises ``KeyringError`` for a bad name or a key it cannot unlock; an
    existing key is never replaced."""
    keyring = Keyring(NodeHome(home).keyring)
    if keyring.exists(name):
        return keyring.get(name)
    try:
        return keyring.add(name, backend="test")
    except KeyringError:
        if keyring.exists(name):  # made meanwhile by someone else: use theirs
            return keyring.get(name)
        raise
