"""Private files and folders for secrets (keys, exports): whatever the umask, whatever was at
the path before.

- A file is written to a temporary file made by ``mkstemp`` (0600 from its creation, in the
  destination's folder), fsynced, then renamed (or, when it must not replace anything, linked)
  into place and the folder fsynced: a crash leaves the old file or the new one, never a torn
  one; a file already at the path (even world-readable, even a symlink to somewhere else) is
  replaced, never written through.
- A folder is created 0700 (and so is every missing folder above it), never created wider and
  narrowed afterwards; an existing one is narrowed to 0700. A folder that belongs to another
  user is refused: whoever owns it can swap the files in it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import KeyringError


def fsync_dir(folder: Path) -> None:
    """Make a rename or link in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_dir(folder: Path) -> None:
    """Create ``folder`` (and missing parents) with mode 0700, or narrow an existing one to
    0700. Raises KeyringError if it belongs to another user or cannot be made."""
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    try:
        for d in reversed(missing):
            d.mkdir(mode=0o700, exist_ok=True)  # the umask can only narrow it
        st = folder.stat()
        if st.st_uid != os.getuid():
            raise KeyringError(f"{folder} belongs to another user: refusing to keep keys in it")
        os.chmod(folder, 0o700)
    except OSError as e:
        raise KeyringError(f"cannot make the private folder {folder}: {e.strerror}") from None


def write_private(path: Path, text: str, replace: bool) -> None:
    """Write ``text`` to ``path`` as a 0600 file, atomically. With ``replace`` whatever is at
    ``path`` is replaced (a symlink itself, not its target); without it a taken name raises
    KeyringError. Other OSErrors propagate."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if the name is taken: no overwrite race
            except FileExistsError:
                raise KeyringError(f"{path.name!r} already exists") from None
        fsync_dir(path.parent)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
