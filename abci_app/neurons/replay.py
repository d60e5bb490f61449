"""The axon's replay guard: timestamps within a window, each (caller, nonce) accepted once.

Memory is bounded twice: a nonce is forgotten once its timestamp has left the window (a replay
of it is then refused as stale), and the guard never holds more than ``max_entries`` nonces in
all (200,000: about 48 MiB) nor ``max_per_caller`` of one caller. When a cap is reached the
request is refused (:class:`AxonBusy`) rather than an old nonce evicted: eviction would re-open
a replay. The per-caller cap (1,000 in a 30 s span, where a validator sends one request a round)
is small enough that 200 callers flooding at it still leave room for every other caller: a
flood from a few permitted validators cannot lock the others out.

Rule source: Bittensor's axon (nonce + timestamp window per hotkey), with both bounds explicit.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from ..errors import AxonBusy, ReplayedNonce, StaleRequest


@dataclass
class NonceGuard:
    """Accepts a (caller, nonce, timestamp) once. Times are integer milliseconds; ``now_ms``
    is the axon's wall clock (off-chain code: a clock is fine here)."""

    window_ms: int = 15_000
    """A request's timestamp may be this far from the axon's clock, either way."""
    max_entries: int = 200_000
    max_per_caller: int = 1_000
    _seen: set[tuple[bytes, bytes]] = field(default_factory=set)
    _expiry: list[tuple[int, bytes, bytes]] = field(default_factory=list)
    _per_caller: dict[bytes, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._seen)

    def check_time(self, timestamp_ms: int, now_ms: int) -> None:
        """Raise :class:`StaleRequest` when the timestamp is outside the window (checked
        before the signature, so a stale request costs no verification)."""
        if abs(now_ms - timestamp_ms) > self.window_ms:
            raise StaleRequest(
                f"timestamp is {(now_ms - timestamp_ms) / 1000:+.1f}s from the axon's clock; "
                f"the window is ±{self.window_ms / 1000:.0f}s (check the caller's clock)"
            )

    def _purge(self, now_ms: int) -> None:
        while self._expiry and self._expiry[0][0] < now_ms:
            _, caller, nonce = heapq.heappop(self._expiry)
            self._seen.discard((caller, nonce))
            left = self._per_caller[caller] - 1
            if left:
                self._per_caller[caller] = left
            else:
                del self._per_caller[caller]

    def accept(self, caller: bytes, nonce: bytes, timestamp_ms: int, now_ms: int) -> None:
        """Record the nonce or raise: :class:`StaleRequest`, :class:`ReplayedNonce`, or
        :class:`AxonBusy` when a cap is full. Call after the signature verified."""
        self.check_time(timestamp_ms, now_ms)
        self._purge(now_ms)
        entry = (caller, nonce)
        if entry in self._seen:
            raise ReplayedNonce("this caller already sent this nonce")
        if len(self._seen) >= self.max_entries:
            raise AxonBusy("replay guard full: retry later")
        if self._per_caller.get(caller, 0) >= self.max_per_caller:
            raise AxonBusy("too many requests from this caller in the timestamp window")
        self._seen.add(entry)
        self._per_caller[caller] = self._per_caller.get(caller, 0) + 1
        # forgotten once a request with this timestamp would be stale anyway
        heapq.heappush(self._expiry, (timestamp_ms + self.window_ms, caller, nonce))
