"""What a commit-reveal validator must remember between ``commit_weights`` and
``reveal_weights``: the weights and the salt behind each commit hash.

An entry is saved only once its commit is in a block (the tx committed with code 0), keyed by
the commit hash, so a commit the chain refused never overwrites the data of the commit the chain
holds. To reveal, the client reads the pending commit hash from the chain
(``/subnet/<netuid>/weights/<uid>``) and takes the entry with that hash: whatever else was tried
in between, the reveal matches what is on chain. Entries of one (netuid, hotkey) older than the
one just saved are removed (the chain keeps one pending commit per validator).

Layout: ``<home>/weight-commits/<commit hash hex>.json`` =
``{"netuid", "hotkey", "uids", "weights", "salt", "version_key", "height", "tx_hash",
"reveal_from", "reveal_until"}``, 0600, written atomically (the last three came with the
validator neuron, which schedules its reveal from them; entries without them still load). The
validator neuron keeps its own folder of the same entries (``abci_app.neurons.weights``).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


class CommitStoreError(Exception):
    """An entry is unreadable, or no entry matches the commit on chain."""


@dataclass(frozen=True)
class CommitEntry:
    netuid: int
    hotkey: str
    uids: list[int]
    weights: list[int]
    salt: str
    """Hex."""
    version_key: int
    height: int
    """The block the commit is in."""
    tx_hash: str = ""
    """The commit tx's hash (upper-case hex), "" when not recorded."""
    reveal_from: int = 0
    """First block the reveal is accepted in (the commit event's), 0 when not recorded."""
    reveal_until: int = 0
    """Last block of the reveal window, 0 when not recorded."""

    @classmethod
    def from_json(cls, j: dict[str, Any]) -> CommitEntry:
        """Parse a saved entry; raises ValueError, KeyError or TypeError when malformed."""
        return cls(
            int(j["netuid"]),
            str(j["hotkey"]),
            [int(u) for u in j["uids"]],
            [int(w) for w in j["weights"]],
            str(j["salt"]),
            int(j["version_key"]),
            int(j["height"]),
            str(j.get("tx_hash", "")),
            int(j.get("reveal_from", 0)),
            int(j.get("reveal_until", 0)),
        )


class CommitStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, commit_hash: bytes) -> Path:
        return self.folder / f"{commit_hash.hex()}.json"

    def save(self, commit_hash: bytes, entry: CommitEntry) -> None:
        """Keep ``entry`` under ``commit_hash`` (call once the commit is in a block) and drop
        older entries of the same netuid and hotkey."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(entry), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._path(commit_hash))
        for other_hash, other in self.entries():
            if (
                other_hash != commit_hash
                and other.netuid == entry.netuid
                and other.hotkey == entry.hotkey
                and other.height <= entry.height
            ):
                self._path(other_hash).unlink(missing_ok=True)

    def delete(self, commit_hash: bytes) -> None:
        """Forget an entry (revealed, expired or refused); a missing one is fine."""
        self._path(commit_hash).unlink(missing_ok=True)

    def get(self, commit_hash: bytes) -> CommitEntry | None:
        path = self._path(commit_hash)
        if not path.exists():
            return None
        try:
            return CommitEntry.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise CommitStoreError(f"saved commit {path} is unreadable: {e}") from None

    def entries(self) -> list[tuple[bytes, CommitEntry]]:
        """Every readable entry, by commit hash."""
        if not self.folder.is_dir():
            return []
        out = []
        for p in sorted(self.folder.glob("*.json")):
            try:
                digest = bytes.fromhex(p.stem)
                entry = self.get(digest)
            except (ValueError, CommitStoreError):
                continue
            if entry is not None:
                out.append((digest, entry))
        return out
