"""A keyring folder of ed25519 keys, one JSON file per key.

Keys are stored unencrypted with 0600 permissions in a 0700 folder (like Cosmos SDK's ``test``
keyring backend): fit for a localnet and development, not for mainnet funds.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from nacl.signing import SigningKey

from ..address import address_from_pubkey, to_bech32

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class KeyringError(Exception):
    """A key is missing, already exists, has a bad name or an unreadable file."""


@dataclass(frozen=True)
class Key:
    name: str
    signing_key: SigningKey

    @property
    def pub_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def address_bytes(self) -> bytes:
        return address_from_pubkey(self.pub_key)

    @property
    def address(self) -> str:
        return to_bech32(self.address_bytes)

    def public_info(self) -> dict[str, str]:
        return {"name": self.name, "address": self.address, "pub_key": self.pub_key.hex()}


class Keyring:
    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise KeyringError(
                f"invalid key name {name!r}: use 1-64 letters, digits, '.', '_' or '-'"
            )
        return self.folder / f"{name}.json"

    def add(self, name: str, seed: bytes | None = None) -> Key:
        path = self._path(name)
        if path.exists():
            raise KeyringError(f"a key named {name!r} already exists in {self.folder}")
        sk = SigningKey(seed) if seed is not None else SigningKey.generate()
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        key = Key(name, sk)
        data = {**key.public_info(), "seed": bytes(sk).hex()}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        return key

    def get(self, name: str) -> Key:
        path = self._path(name)
        if not path.exists():
            raise KeyringError(f"no key named {name!r} in {self.folder} (see `keys list`)")
        try:
            data = json.loads(path.read_text())
            return Key(name, SigningKey(bytes.fromhex(data["seed"])))
        except (ValueError, KeyError, TypeError) as e:
            raise KeyringError(f"key file {path} is unreadable: {e}") from None

    def list(self) -> list[Key]:
        if not self.folder.is_dir():
            return []
        return [self.get(p.stem) for p in sorted(self.folder.glob("*.json"))]
