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
        """Parse a saved entry; raises ValueError, KeyError or TypeError when malformed: a
        field of the wrong type, a uid or weight outside u16, uids and weights of different
        lengths, a salt that is not 1-255 bytes of hex, a negative height (a file edited or
        damaged on disk must not reach a reveal)."""
        uids = [_int(u, U16_MAX, "uid") for u in _list(j["uids"], "uids")]
        weights = [_int(w, U16_MAX, "weight") for w in _list(j["weights"], "weights")]
        if len(uids) != len(weights):
            raise ValueError("uids and weights differ in length")
        salt = j["salt"]
        if not isinstance(salt, str) or not 1 <= len(bytes.fromhex(salt)) <= 255:
            raise ValueError("salt is not 1-255 bytes of hex")
        return cls(
            _int(j["netuid"], U16_MAX, "netuid"),
            _str(j["hotkey"], "hotkey"),
            uids,
            weights,
            salt,
            _int(j["version_key"], U64_MAX, "version_key"),
            _int(j["height"], U64_MAX, "height"),
            _str(j.get("tx_hash", ""), "tx_hash"),
            _int(j.get("reveal_from", 0), U64_MAX, "reveal_from"),
            _int(j.get("reveal_until", 0), U64_MAX, "reveal_until"),
        )


U16_MAX = 65_535
U64_MAX = 2**64 - 1


def _int(value: Any, most: int, what: str) -> int:
    if type(value) is not int or not 0 <= value <= most:  # (a bool is not an int here)
        raise ValueError(f"{what} is not an integer in 0..{most}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{what} is not a list")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} is not a string")
    return value


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
