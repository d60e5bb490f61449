"""Reading a file the user names on the command line (a genesis, a tx document, an epoch
input, a key export, a passphrase-free state file): never more than a limit, with one clear
reason when it cannot be read.

A path given by a person (or a script) can be anything: a directory, a binary, ``/dev/zero``
or a 10 GiB log. Each reader states the most it will read; a file over it is refused after
reading ``limit + 1`` bytes, so no path can make the CLI allocate without bound.
"""

from __future__ import annotations

from pathlib import Path

MAX_GENESIS_FILE_BYTES = 256 << 20
"""The largest genesis file the tools read (a million accounts are about 120 MiB)."""
MAX_SMALL_FILE_BYTES = 1 << 20
"""The largest key export, tx document, keyring or light-client state file (all under 64 KiB)."""


class LocalFileError(Exception):
    """A file the user named cannot be read: missing, a directory, unreadable, too large or
    not UTF-8 text. The message names the file and the reason."""


def read_text_file(path: Path, limit: int, what: str = "file") -> str:
    """The UTF-8 text of ``path`` if it holds at most ``limit`` bytes; raises LocalFileError.
    ``what`` names the file in the message (``"genesis file"``)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(limit + 1)
    except OSError as e:
        raise LocalFileError(f"cannot read {what} {path}: {e.strerror or e}") from None
    if len(raw) > limit:
        raise LocalFileError(f"{what} {path} is over {_size(limit)}: refused")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LocalFileError(f"{what} {path} is not UTF-8 text") from None


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n} bytes"
