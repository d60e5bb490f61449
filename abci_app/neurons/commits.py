"""Pending weight commits on disk, so a validator that restarts still reveals them.

A commit is written only once its ``commit_weights`` tx is in a block (its reveal window comes
from that tx's event), one JSON file per commit named by the commit hash, written atomically
(temporary file, fsync, rename, fsync of the folder): a kill -9 leaves either the whole record
or none. It is deleted once revealed, expired or refused by the chain.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("moderntensor.neurons.commits")


@dataclass(frozen=True)
class PendingCommit:
    """What a reveal needs, and when it may be sent (heights, inclusive)."""

    netuid: int
    hotkey: str
    uids: tuple[int, ...]
    weights: tuple[int, ...]
    salt: bytes
    version_key: int
    commit_hash: str
    """sha256 hex of the commit (``messages.commit_hash``); also the file name."""
    tx_hash: str
    height: int
    reveal_from: int
    reveal_until: int

    def to_json(self) -> dict[str, Any]:
        """The stored form (salt as hex, tuples as lists)."""
        d = asdict(self)
        d.update(uids=list(self.uids), weights=list(self.weights), salt=self.salt.hex())
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PendingCommit:
        """Parse the stored form; raises ValueError, KeyError or TypeError when malformed."""
        return cls(
            netuid=int(d["netuid"]),
            hotkey=str(d["hotkey"]),
            uids=tuple(int(u) for u in d["uids"]),
            weights=tuple(int(w) for w in d["weights"]),
            salt=bytes.fromhex(d["salt"]),
            version_key=int(d["version_key"]),
            commit_hash=str(d["commit_hash"]),
            tx_hash=str(d["tx_hash"]),
            height=int(d["height"]),
            reveal_from=int(d["reveal_from"]),
            reveal_until=int(d["reveal_until"]),
        )


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so a crash leaves the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class CommitStore:
    """The folder of pending commits of one validator on one subnet."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, commit_hash: str) -> Path:
        if len(commit_hash) != 64 or not all(c in "0123456789abcdef" for c in commit_hash):
            raise ValueError(f"not a commit hash: {commit_hash!r}")
        return self.folder / f"{commit_hash}.json"

    def save(self, commit: PendingCommit) -> None:
        """Write ``<commit hash>.json`` atomically (ValueError for a hash that is not 64
        lower-case hex digits: a file name never comes from elsewhere)."""
        write_atomic(self._path(commit.commit_hash), json.dumps(commit.to_json()).encode())

    def delete(self, commit_hash: str) -> None:
        """Forget a commit (revealed, expired or refused); a missing file is fine."""
        self._path(commit_hash).unlink(missing_ok=True)

    def load(self) -> list[PendingCommit]:
        """Every readable pending commit, oldest reveal window first. An unreadable file (not
        written by this code) is renamed ``*.bad`` and skipped, with a warning."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                found.append(PendingCommit.from_json(json.loads(path.read_text())))
            except (ValueError, KeyError, TypeError, OSError) as e:
                log.warning("unreadable pending commit %s (%s): moved aside", path.name, e)
                path.rename(path.with_suffix(".bad"))
        return sorted(found, key=lambda c: (c.reveal_from, c.commit_hash))
