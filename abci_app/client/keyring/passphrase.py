"""Where a keyring passphrase comes from, in this order:

1. a value given in code (``Keyring(..., passphrase="…")``),
2. a file (``--passphrase-file FILE`` / ``Keyring(..., passphrase_file=FILE)``): its first line,
   without the line break (like ``gpg --passphrase-file``); a file others can read is refused,
3. the environment variable ``MODERNTENSOR_KEYRING_PASSPHRASE`` (for automation: systemd's
   ``LoadCredential``/``EnvironmentFile``, CI secrets),
4. a prompt on the terminal (twice when a new key is sealed), if stdin is a terminal.

With none of them, unlocking fails with a message naming the first three: a daemon never hangs
on a prompt nobody sees.
"""

from __future__ import annotations

import getpass
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import KeyringError

PASSPHRASE_ENV = "MODERNTENSOR_KEYRING_PASSPHRASE"
MAX_PASSPHRASE_FILE_BYTES = 4096


def read_passphrase_file(path: Path) -> str:
    """The first line of ``path``. Raises KeyringError if it cannot be read, is readable by
    group or others (like ssh refusing a private key with open permissions), or is empty."""
    try:
        st = path.stat()
        if stat.S_IMODE(st.st_mode) & 0o077:
            raise KeyringError(f"passphrase file {path} is readable by others: chmod 600 {path}")
        with open(path, "rb") as f:
            raw = f.read(MAX_PASSPHRASE_FILE_BYTES + 1)
    except OSError as e:
        raise KeyringError(f"cannot read passphrase file {path}: {e.strerror}") from None
    if len(raw) > MAX_PASSPHRASE_FILE_BYTES:
        raise KeyringError(f"passphrase file {path} is over {MAX_PASSPHRASE_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyringError(f"passphrase file {path} is not UTF-8 text") from None
    line = text.splitlines()[0] if text else ""
    if not line:
        raise KeyringError(f"passphrase file {path} is empty")
    return line


@dataclass(frozen=True)
class PassphraseSource:
    """Supplies the passphrase for sealing (``new``) or unlocking (``existing``) a key."""

    value: str | None = None
    file: Path | None = None
    interactive: bool | None = None
    """Prompt on the terminal if nothing else gives one (None: when stdin is a terminal)."""

    def _given(self) -> str | None:
        if self.value is not None:
            return self.value
        if self.file is not None:
            return read_passphrase_file(self.file)
        env = os.environ.get(PASSPHRASE_ENV)
        return env if env else None

    def _can_prompt(self) -> bool:
        if self.interactive is not None:
            return self.interactive
        return sys.stdin is not None and sys.stdin.isatty()

    def _none(self, what: str) -> KeyringError:
        return KeyringError(
            f"{what} needs the keyring passphrase: no terminal to ask on, so give it with "
            f"--passphrase-file FILE or the environment variable {PASSPHRASE_ENV}"
        )

    def existing(self, what: str) -> str:
        """The passphrase to unlock ``what`` (e.g. "key 'alice'")."""
        given = self._given()
        if given is not None:
            return given
        if not self._can_prompt():
            raise self._none(f"unlocking {what}")
        return getpass.getpass(f"Passphrase for {what}: ")

    def new(self, what: str) -> str:
        """A passphrase to seal ``what`` with; on a terminal it is asked twice."""
        given = self._given()
        if given is not None:
            return given
        if not self._can_prompt():
            raise self._none(f"sealing {what}")
        first = getpass.getpass(f"New passphrase for {what}: ")
        if getpass.getpass("Repeat it: ") != first:
            raise KeyringError("the two passphrases differ: nothing was saved")
        return first
