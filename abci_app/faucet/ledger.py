"""The faucet's own ledger of grants, kept across restarts (local data, not consensus state).

sqlitedict is a good fit here: a few small records, read and written by one process, and
persistence with no schema to manage. Every write is committed at once (autocommit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlitedict import SqliteDict  # type: ignore[import-untyped]

DAY = 86_400


@dataclass(frozen=True)
class Limits:
    amount: int
    """Base units sent per grant."""
    address_cooldown: int = DAY
    """Seconds before the same address may be granted again."""
    ip_limit: int = 5
    """Grants one client IP may receive per ``ip_window``."""
    ip_window: int = DAY
    daily_cap: int = 0
    """Base units the faucet gives out per UTC day in total (0: 100 grants)."""

    @property
    def cap(self) -> int:
        return self.daily_cap or 100 * self.amount


class Refusal(Exception):
    """A request the faucet turns down; carries what the HTTP answer needs."""

    def __init__(self, code: str, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.code, self.status, self.message, self.retry_after = code, status, message, retry_after


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._addresses = SqliteDict(str(path), tablename="address", autocommit=True)
        self._ips = SqliteDict(str(path), tablename="ip", autocommit=True)
        self._days = SqliteDict(str(path), tablename="day", autocommit=True)

    def close(self) -> None:
        for d in (self._addresses, self._ips, self._days):
            d.close()

    def check(self, address: str, ip: str, now: float, limits: Limits) -> None:
        """Raise Refusal if granting now would break a limit; change nothing."""
        last = self._addresses.get(address)
        if last is not None and now < last + limits.address_cooldown:
            wait = int(last + limits.address_cooldown - now) + 1
            raise Refusal(
                "address_cooldown",
                429,
                f"{address} was funded recently; try again in {wait} s",
                wait,
            )
        recent = [t for t in self._ips.get(ip, []) if t > now - limits.ip_window]
        if len(recent) >= limits.ip_limit:
            wait = int(min(recent) + limits.ip_window - now) + 1
            raise Refusal(
                "ip_limit",
                429,
                f"this IP had {limits.ip_limit} grants in the last "
                f"{limits.ip_window} s; try again in {wait} s",
                wait,
            )
        day = int(now // DAY)
        if self._days.get(day, 0) + limits.amount > limits.cap:
            wait = int((day + 1) * DAY - now) + 1
            raise Refusal(
                "daily_cap",
                429,
                f"the faucet's daily cap is reached; it reopens in {wait} s (00:00 UTC)",
                wait,
            )

    def record(self, address: str, ip: str, now: float, limits: Limits) -> None:
        self._addresses[address] = now
        self._ips[ip] = [t for t in self._ips.get(ip, []) if t > now - limits.ip_window] + [now]
        day = int(now // DAY)
        self._days[day] = self._days.get(day, 0) + limits.amount

    def granted_today(self, now: float) -> int:
        return int(self._days.get(int(now // DAY), 0))
