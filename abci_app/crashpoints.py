"""Crash points: the app kills itself with SIGKILL at a named step, for crash-safety tests.

``MODERNTENSOR_CRASH_AT`` is read once, when the app starts (``node app``). Its value is one of
:data:`CRASH_POINTS`, optionally followed by ``@N``:

* ``init_chain:after``: InitChain has built its answer (genesis staged, nothing committed);
* ``finalize:after``: FinalizeBlock has executed the block and staged its commit, before
  answering (``@N``: at height N or later);
* ``commit:before_write``: Commit is about to write the block to SQLite (``@N``: height);
* ``commit:after_write``: Commit has written it, before answering (``@N``: height);
* ``snapshot:restore``: in the middle of a state-sync restore, after chunk N (default 0) was
  written into the temporary database and before the restore is verified and swapped in.

The names are the same in every manifest of the e2e runner (after CometBFT's own e2e
``perturb`` points), so manifests stay portable. SIGKILL is what a power cut or the OOM killer
does: no ``finally``, no flush. A crash point only ever stops the process; it never changes
what the app computes.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger("moderntensor.crash")

ENV_VAR = "MODERNTENSOR_CRASH_AT"
CRASH_POINTS = (
    "init_chain:after",
    "finalize:after",
    "commit:before_write",
    "commit:after_write",
    "snapshot:restore",
)


class CrashPointError(ValueError):
    """``MODERNTENSOR_CRASH_AT`` names no known crash point, or its ``@N`` is not a number."""


@dataclass(frozen=True)
class CrashPlan:
    """Where to crash: ``point`` (None: never), at ``at`` or later (a height; for
    ``snapshot:restore`` a chunk index)."""

    point: str | None = None
    at: int = 0

    def hit(self, point: str, where: int = 0) -> None:
        """Called by the app at each crash point: SIGKILL this process when the plan says so."""
        if point != self.point or where < self.at:
            return
        log.critical("crash point %s reached at %d: killing the app with SIGKILL", point, where)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os.kill(os.getpid(), signal.SIGKILL)


NO_CRASH = CrashPlan()


def parse_crash_plan(value: str) -> CrashPlan:
    """``point`` or ``point@N`` -> CrashPlan; raise CrashPointError for anything else."""
    value = value.strip()
    if not value:
        return NO_CRASH
    point, sep, at = value.partition("@")
    if point not in CRASH_POINTS:
        raise CrashPointError(
            f"{ENV_VAR}={value!r}: unknown crash point {point!r} (known: {', '.join(CRASH_POINTS)})"
        )
    if sep and not at.isdigit():
        raise CrashPointError(f"{ENV_VAR}={value!r}: after '@' comes a height or chunk number")
    return CrashPlan(point, int(at) if sep else 0)


def crash_plan_from_env(environ: Mapping[str, str] | None = None) -> CrashPlan:
    """The plan in ``MODERNTENSOR_CRASH_AT`` (read once, at start)."""
    env = os.environ if environ is None else environ
    return parse_crash_plan(env.get(ENV_VAR, ""))
