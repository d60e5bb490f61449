"""Keys are private files: 0600 in a 0700 folder; names are validated; duplicates refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from abci_app.client.keyring import Keyring, KeyringError


def test_key_files_are_private_and_round_trip(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "keyring")
    k = ring.add("alice")
    path = tmp_path / "keyring" / "alice.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keyring").stat().st_mode) == 0o700
    assert ring.get("alice").address == k.address
    assert [x.name for x in ring.list()] == ["alice"]
    with pytest.raises(KeyringError, match="already exists"):
        ring.add("alice")
    with pytest.raises(KeyringError, match="invalid key name"):
        ring.add("../evil")
    with pytest.raises(KeyringError, match="no key named"):
        ring.get("bob")
    path.write_text("{not json")
    with pytest.raises(KeyringError, match="unreadable"):
        ring.get("alice")
