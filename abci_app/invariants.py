"""Whole-state invariants: every module's, in module order. Cheap enough for every block of a
test or a debug node (``MODERNTENSOR_CHECK_INVARIANTS=1``), too slow for a large production
state. Each module states its own in ``modules/<name>/invariants.py`` (bank: supply = sum of
balances; staking: pools, shares, the validator set; distribution: the pool covers what is
owed; subnets: stake and emission pools, uids).
"""

from __future__ import annotations

from .chain_modules import MODULES
from .state.overlay import KVReader


def check_invariants(state: KVReader) -> list[str]:
    """Every broken invariant, described; an empty list when all hold."""
    return [p for m in MODULES if m.invariants is not None for p in m.invariants(state)]
