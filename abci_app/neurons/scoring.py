"""Scoring miners: one round's score from quality and latency, a moving average per uid, and
u16 weights from the averages. Off-chain code: floats are fine here (the chain only sees the
u16 weights it is sent).

A round's score is ``quality * (1 - latency_weight * latency / timeout)``; an answer that
failed (timeout, refused, unsigned, malformed) scores 0. Latency counts so that a miner copying
another's answers, which must first wait for the original's, always scores below it on the same
answers. Rule source: Bittensor validators' reward = quality with a latency penalty, EMA of
rewards, weights normalised by the largest score.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

U16_MAX = 65_535


def round_score(quality: float, latency: float, timeout: float, latency_weight: float) -> float:
    """Score of one answer in [0, 1]. ``quality`` in [0, 1] (from the task), ``latency`` and
    ``timeout`` in seconds; an answer at or past the timeout scores 0, as does a non-finite
    or out-of-range quality."""
    if not (math.isfinite(quality) and math.isfinite(latency)) or timeout <= 0:
        return 0.0
    if not 0.0 <= quality <= 1.0 or latency >= timeout:
        return 0.0
    return quality * (1.0 - latency_weight * max(0.0, latency) / timeout)


@dataclass
class MovingScores:
    """Exponential moving average of round scores per uid. A uid whose hotkey changed (it was
    pruned and re-registered by someone else) starts again from 0; uids that left the subnet
    are dropped, so the table never outgrows the subnet."""

    alpha: float = 0.3
    scores: dict[int, float] = field(default_factory=dict)
    hotkeys: dict[int, str] = field(default_factory=dict)

    def update(self, uid: int, hotkey: str, score: float) -> float:
        """Fold one round's ``score`` into the uid's average; return the new average."""
        if self.hotkeys.get(uid) != hotkey:
            self.scores[uid] = 0.0
            self.hotkeys[uid] = hotkey
        new = self.alpha * score + (1.0 - self.alpha) * self.scores[uid]
        self.scores[uid] = new
        return new

    def keep_only(self, uids_hotkeys: dict[int, str]) -> None:
        """Forget every uid not in ``uids_hotkeys`` or now held by another hotkey."""
        for uid in list(self.scores):
            if uids_hotkeys.get(uid) != self.hotkeys.get(uid):
                del self.scores[uid]
                del self.hotkeys[uid]

    def save(self, path: Path) -> None:
        """Write :meth:`to_json` to ``path`` atomically (temporary file, fsync, rename, fsync
        of the folder): a kill -9 leaves the old file or the new one, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(self.to_json(), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def to_json(self) -> dict[str, list[object]]:
        """``{"uid": [hotkey, average]}``, what ``scores.json`` holds."""
        return {str(u): [self.hotkeys[u], self.scores[u]] for u in sorted(self.scores)}

    @classmethod
    def from_json(cls, data: dict[str, list[object]], alpha: float) -> MovingScores:
        """Read ``scores.json``. Each entry that is not ``"<uid 0-65535>": [hotkey string,
        finite average in [0, 1]]`` is dropped (a file damaged or edited on disk); ``ValueError``
        when ``data`` is not an object at all."""
        if not isinstance(data, dict):
            raise ValueError("scores.json is not an object")
        table = cls(alpha=alpha)
        for uid, entry in data.items():
            if not (isinstance(uid, str) and uid.isascii() and uid.isdigit() and len(uid) <= 5):
                continue
            if not isinstance(entry, list) or len(entry) != 2:
                continue
            hotkey, score = entry
            if not isinstance(hotkey, str) or type(score) not in (int, float):
                continue
            value = float(score)  # type: ignore[arg-type]
            if int(uid) <= U16_MAX and math.isfinite(value) and 0.0 <= value <= 1.0:
                table.scores[int(uid)] = value
                table.hotkeys[int(uid)] = hotkey
        return table


def weights_from_scores(scores: dict[int, float]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """u16 weights for the uids with a positive score, the best at 65535 and the others in
    proportion (floored), sorted by uid; uids whose weight floors to 0 are left out.
    ``((), ())`` when no uid scored."""
    best = max((s for s in scores.values() if s > 0), default=0.0)
    if best <= 0:
        return (), ()
    pairs = [(uid, math.floor(U16_MAX * s / best)) for uid, s in sorted(scores.items()) if s > 0]
    kept = [(u, w) for u, w in pairs if w > 0]
    return tuple(u for u, _ in kept), tuple(min(w, U16_MAX) for _, w in kept)
