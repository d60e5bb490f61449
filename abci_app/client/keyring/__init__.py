"""The keyring: ed25519 keys in a folder, one JSON file per key, with Cosmos SDK's backends.

Backends (chosen per key when it is created; a folder has a default, see :data:`CONFIG_FILE`):

- ``file`` (the default): the key's seed is sealed with a passphrase (argon2id + XChaCha20-
  Poly1305, :mod:`.sealed`); the public key and address stay readable so ``keys list``/``show``
  need no passphrase. The passphrase comes from code, ``--passphrase-file``, the environment
  variable ``MODERNTENSOR_KEYRING_PASSPHRASE`` or a terminal prompt (:mod:`.passphrase`).
- ``test``: the seed in the clear (0600 file in a 0700 folder), as Cosmos SDK's ``test``
  backend. Only when chosen explicitly (``node init`` and ``localnet`` choose it for their
  development keys, so ``make run`` needs no passphrase); a warning says so when one is made.
- ``os``: the seed in the platform's keyring (macOS Keychain, Windows Credential Locker, the
  freedesktop Secret Service) through the ``keyring`` package; the file holds the public part.
  On a headless server there is none (the package reports its ``fail`` backend) and the
  backend refuses with a message saying to use ``file``.

Files written before the backends existed (``{"name", "address", "pub_key", "seed"}``) load as
unencrypted keys with a warning until ``migrate`` seals them (``keys migrate``).

Every write goes to a 0600 temporary file that is fsynced and then linked or renamed into place
(and the folder fsynced), so a crash leaves either the old file or the new one, never a torn
one; the folder is made 0700 whatever the umask (:mod:`.files`).

To load a key in a program (a miner, a validator loop):

    key = Keyring(home / "keyring").get("miner1")            # test keys, or with the env var
    key = Keyring(folder, passphrase_file=Path("/run/secrets/mt")).get("validator")
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from ...address import address_from_pubkey, to_bech32
from . import sealed as sealing
from .errors import KeyringError, WrongPassphrase
from .files import fsync_dir, private_dir, write_private
from .mnemonic import MNEMONIC_WORDS, hd_path, new_mnemonic, seed_from_mnemonic
from .passphrase import PASSPHRASE_ENV, PassphraseSource

__all__ = [
    "BACKENDS",
    "PASSPHRASE_ENV",
    "Key",
    "KeyInfo",
    "Keyring",
    "KeyringError",
    "PassphraseSource",
    "WrongPassphrase",
]

log = logging.getLogger("moderntensor.keyring")

BACKENDS = ("file", "test", "os")
DEFAULT_BACKEND = "file"
CONFIG_FILE = "keyring.conf"
"""``{"backend": "test"}`` in the folder: the backend new keys use when none is given."""
KEY_FORMAT = "moderntensor-key/2"
EXPORT_FORMAT = "moderntensor-key-export/1"
OS_SERVICE = "moderntensor"
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")
"""A key name (``fullmatch``: a trailing line break is not part of a name)."""
_KEY_AAD = b"moderntensor/key/v2"
_EXPORT_AAD = b"moderntensor/key-export/v1"
MAX_KEY_FILE_BYTES = 64 * 1024
TEST_WARNING = (
    "keyring backend 'test': the key is stored UNENCRYPTED (development and localnets only; "
    "use the default 'file' backend for real funds)"
)
_warned: set[Path] = set()
"""Folders whose test-backend warning was shown in this process (it is shown once each)."""


@dataclass(frozen=True)
class Key:
    """An unlocked key: it can sign."""

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


@dataclass(frozen=True)
class KeyInfo:
    """A key's public part, readable without unlocking it."""

    name: str
    address: str
    pub_key: bytes
    backend: str
    """``file``, ``test``, ``os`` or ``legacy`` (an unmigrated plain file)."""

    def public_info(self) -> dict[str, str]:
        return {
            "name": self.name,
            "address": self.address,
            "pub_key": self.pub_key.hex(),
            "backend": self.backend,
        }


def _check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise KeyringError(f"unknown keyring backend {backend!r}: use one of {', '.join(BACKENDS)}")
    return backend


def _write_private(path: Path, data: dict[str, Any], replace: bool) -> None:
    """Write ``data`` as a 0600 JSON file, atomically; refuse to overwrite unless ``replace``."""
    try:
        write_private(path, json.dumps(data, indent=2) + "\n", replace)
    except KeyringError:
        raise KeyringError(f"a key named {path.stem!r} already exists") from None


def _signing_key(seed: bytes, pub_key: bytes, where: str) -> SigningKey:
    sk = SigningKey(seed)
    if bytes(sk.verify_key) != pub_key:
        raise KeyringError(f"{where}: the secret does not match the stored public key")
    return sk


class Keyring:
    """Keys in ``folder``. ``backend`` is the backend new keys use (None: the folder's
    ``keyring.conf``, else ``file``). The passphrase for ``file`` keys comes from
    ``passphrase``, ``passphrase_file``, ``$MODERNTENSOR_KEYRING_PASSPHRASE`` or a prompt.
    ``os_keyring`` overrides the platform keyring (a ``keyring.backend.KeyringBackend``)."""

    def __init__(
        self,
        folder: Path | str,
        backend: str | None = None,
        passphrase: str | None = None,
        passphrase_file: Path | str | None = None,
        interactive: bool | None = None,
        os_keyring: Any = None,
    ) -> None:
        self.folder = Path(folder)
        self._backend = _check_backend(backend) if backend is not None else None
        self.passphrase = PassphraseSource(
            passphrase, Path(passphrase_file) if passphrase_file is not None else None, interactive
        )
        self._os_keyring = os_keyring

    # --- the folder ------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        """The backend new keys go to."""
        if self._backend is not None:
            return self._backend
        return self.default_backend(self.folder)

    @staticmethod
    def default_backend(folder: Path) -> str:
        """The folder's configured backend (``keyring.conf``), else ``file``."""
        conf = folder / CONFIG_FILE
        if not conf.exists():
            return DEFAULT_BACKEND
        try:
            backend = json.loads(conf.read_text())["backend"]
        except (OSError, ValueError, KeyError, TypeError):
            raise KeyringError(f'{conf} is unreadable: expected {{"backend": "file"}}') from None
        return _check_backend(str(backend))

    @staticmethod
    def set_default_backend(folder: Path, backend: str) -> None:
        """Make ``backend`` the folder's default for new keys (a ``test`` default warns)."""
        _check_backend(backend)
        private_dir(folder)
        _write_private(folder / CONFIG_FILE, {"backend": backend}, replace=True)

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise KeyringError(
                f"invalid key name {name!r}: use 1-64 letters, digits, '.', '_' or '-' "
                "(not starting with '.')"
            )
        return self.folder / f"{name}.json"

    def _read(self, name: str) -> dict[str, Any]:
        path = self._path(name)
        if not path.exists():
            raise KeyringError(f"no key named {name!r} in {self.folder} (see `keys list`)")
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_KEY_FILE_BYTES + 1)
            if len(raw) > MAX_KEY_FILE_BYTES:
                raise ValueError("file too large")
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            bytes.fromhex(data["pub_key"])
            return data
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise KeyringError(f"key file {path} is unreadable: {e}") from None

    def _ensure_folder(self) -> None:
        private_dir(self.folder)

    # --- public parts ----------------------------------------------------------------------
    def info(self, name: str) -> KeyInfo:
        """The key's name, address, public key and backend, without unlocking it."""
        data = self._read(name)
        pub = bytes.fromhex(data["pub_key"])
        if len(pub) != 32:
            raise KeyringError(f"key file for {name!r} is unreadable: pub_key is not 32 bytes")
        backend = str(data.get("backend", "legacy")) if data.get("format") else "legacy"
        return KeyInfo(name, to_bech32(address_from_pubkey(pub)), pub, backend)

    def list(self) -> builtins.list[KeyInfo]:
        """Every key's public part, by name."""
        if not self.folder.is_dir():
            return []
        return [self.info(p.stem) for p in sorted(self.folder.glob("*.json"))]

    def exists(self, name: str) -> bool:
        return self._path(name).exists()

    # --- unlocking -------------------------------------------------------------------------
    def get(self, name: str) -> Key:
        """Unlock ``name`` (asks for the passphrase of a ``file`` key; see the class doc).

        Raises KeyringError (missing, unreadable, no passphrase source, no OS keyring) or
        WrongPassphrase."""
        data = self._read(name)
        pub = bytes.fromhex(data["pub_key"])
        where = f"key {name!r}"
        fmt = data.get("format")
        if fmt is None:  # the plain format of before the backends
            log.warning(
                "key %r is stored unencrypted in the old format: `moderntensor keys migrate` "
                "seals it with a passphrase",
                name,
            )
            return Key(name, _signing_key(self._seed_hex(data, where), pub, where))
        if fmt != KEY_FORMAT:
            raise KeyringError(f"{where}: unknown key file format {fmt!r} (a newer version?)")
        backend = data.get("backend")
        if backend == "test":
            return Key(name, _signing_key(self._seed_hex(data, where), pub, where))
        if backend == "file":
            secret = sealing.open_sealed(
                data.get("sealed"),
                self.passphrase.existing(where),
                _KEY_AAD + pub,
                secret_size=32,
            )
            return Key(name, _signing_key(secret, pub, where))
        if backend == "os":
            return Key(name, _signing_key(self._os_get(name), pub, where))
        raise KeyringError(f"{where}: unknown backend {backend!r}")

    @staticmethod
    def _seed_hex(data: dict[str, Any], where: str) -> bytes:
        try:
            seed = bytes.fromhex(data["seed"])
        except (KeyError, TypeError, ValueError):
            raise KeyringError(f"{where}: the seed is missing or not hex") from None
        if len(seed) != 32:
            raise KeyringError(f"{where}: the seed is not 32 bytes")
        return seed

    # --- the OS keyring --------------------------------------------------------------------
    def _os(self) -> Any:
        if self._os_keyring is not None:
            return self._os_keyring
        import keyring
        import keyring.backends.fail

        kr = keyring.get_keyring()
        if isinstance(kr, keyring.backends.fail.Keyring) or getattr(kr, "priority", 0) <= 0:
            raise KeyringError(
                "no OS keyring is available here (no Keychain, Credential Locker or Secret "
                "Service session, as on a headless server): use --keyring-backend file"
            )
        return kr

    def _os_user(self, name: str) -> str:
        return f"{self.folder.resolve()}/{name}"

    def _os_get(self, name: str) -> bytes:
        secret = self._os().get_password(OS_SERVICE, self._os_user(name))
        if secret is None:
            raise KeyringError(f"key {name!r} is missing from the OS keyring")
        try:
            seed = bytes.fromhex(secret)
        except ValueError:
            raise KeyringError(f"key {name!r}: the OS keyring holds no valid seed") from None
        return seed

    # --- creating --------------------------------------------------------------------------
    def _record(self, name: str, sk: SigningKey, backend: str) -> dict[str, Any]:
        pub = bytes(sk.verify_key)
        data: dict[str, Any] = {
            "format": KEY_FORMAT,
            "backend": backend,
            "name": name,
            "address": to_bech32(address_from_pubkey(pub)),
            "pub_key": pub.hex(),
        }
        if backend == "test":
            data["seed"] = bytes(sk).hex()
        elif backend == "file":
            phrase = self.passphrase.new(f"key {name!r}")
            data["sealed"] = sealing.seal(bytes(sk), phrase, _KEY_AAD + pub)
        else:
            self._os().set_password(OS_SERVICE, self._os_user(name), bytes(sk).hex())
        return data

    def _store(self, name: str, sk: SigningKey, backend: str | None, replace: bool) -> Key:
        path = self._path(name)
        chosen = _check_backend(backend) if backend is not None else self.backend
        if not replace and path.exists():
            raise KeyringError(f"a key named {name!r} already exists in {self.folder}")
        self._ensure_folder()
        if chosen == "test" and self.folder not in _warned:
            _warned.add(self.folder)
            log.warning("%s", TEST_WARNING)
        _write_private(path, self._record(name, sk, chosen), replace=replace)
        return Key(name, sk)

    def add(self, name: str, seed: bytes | None = None, backend: str | None = None) -> Key:
        """Create ``name`` from ``seed`` (32 bytes) or a fresh random key, in ``backend``
        (default: :attr:`backend`). Raises KeyringError if the name is taken or invalid."""
        sk = SigningKey(seed) if seed is not None else SigningKey.generate()
        return self._store(name, sk, backend, replace=False)

    def add_with_mnemonic(
        self, name: str, words: int = MNEMONIC_WORDS, backend: str | None = None
    ) -> tuple[Key, str]:
        """Create ``name`` from a fresh BIP-39 phrase; return the key and the phrase (show it
        once: it is not stored)."""
        self._path(name)
        phrase = new_mnemonic(words)
        return self.recover(name, phrase, backend=backend), phrase

    def recover(
        self,
        name: str,
        phrase: str,
        bip39_passphrase: str = "",
        account: int = 0,
        index: int = 0,
        backend: str | None = None,
    ) -> Key:
        """Recreate a key from its BIP-39 phrase (SLIP-0010 along m/44'/118'/account'/0'/index',
        see :mod:`.mnemonic`)."""
        seed = seed_from_mnemonic(phrase, bip39_passphrase, hd_path(account, index))
        return self.add(name, seed, backend=backend)

    def delete(self, name: str) -> None:
        """Remove ``name`` (and its OS keyring entry)."""
        info = self.info(name)
        if info.backend == "os":
            import keyring.errors

            # already gone from the OS keyring: the file goes too
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                self._os().delete_password(OS_SERVICE, self._os_user(name))
        self._path(name).unlink()
        fsync_dir(self.folder)

    # --- export, import, migrate -----------------------------------------------------------
    def export(self, name: str, export_passphrase: PassphraseSource) -> str:
        """The key sealed under a passphrase of its own, as JSON text (the ``keys export``
        file); unlocking the key may ask for the keyring passphrase first."""
        key = self.get(name)
        phrase = export_passphrase.new(f"the export of key {name!r}")
        data = {
            "format": EXPORT_FORMAT,
            "name": name,
            "address": key.address,
            "pub_key": key.pub_key.hex(),
            "sealed": sealing.seal(bytes(key.signing_key), phrase, _EXPORT_AAD + key.pub_key),
        }
        return json.dumps(data, indent=2) + "\n"

    def import_key(
        self, name: str, text: str, export_passphrase: PassphraseSource, backend: str | None = None
    ) -> Key:
        """Store the key of an export file (``export``'s text) as ``name``.

        Raises KeyringError if the text is not an export, WrongPassphrase if it does not open."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
                raise ValueError(f"format is not {EXPORT_FORMAT}")
            pub = bytes.fromhex(data["pub_key"])
            if len(pub) != 32:
                raise ValueError("pub_key is not 32 bytes")
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            raise KeyringError(f"not a key export file: {e}") from None
        self._path(name)
        seed = sealing.open_sealed(
            data.get("sealed"),
            export_passphrase.existing("the export file"),
            _EXPORT_AAD + pub,
            secret_size=32,
        )
        return self._store(name, _signing_key(seed, pub, "export file"), backend, replace=False)

    def migrate(self, backend: str = "file") -> builtins.list[str]:
        """Move every unencrypted key (old format and ``test``) to ``backend`` and make it the
        folder's default; return the names moved. Each file is replaced atomically."""
        _check_backend(backend)
        todo = [i for i in self.list() if i.backend in ("legacy", "test") and i.backend != backend]
        target = self
        if todo and backend == "file":  # one passphrase for all of them, asked once
            phrase = self.passphrase.new(f"the {len(todo)} migrated key(s)")
            sealing.check_new_passphrase(phrase)
            target = Keyring(self.folder, backend, passphrase=phrase, os_keyring=self._os_keyring)
        moved = []
        for info in todo:
            key = self.get(info.name)
            target._store(info.name, key.signing_key, backend, replace=True)
            moved.append(info.name)
        self.set_default_backend(self.folder, backend)
        return moved
