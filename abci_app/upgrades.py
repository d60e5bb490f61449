"""The app version and in-place upgrades: a registry of state migrations.

The app (protocol) version lives in state under ``app/version`` (u64; a state without the key
was written by version 1, which did not record it) and is what ``Info`` reports. A new chain
starts at :data:`APP_VERSION`. When a newer app opens older state, the migrations from the
state's version up to :data:`APP_VERSION` run, in order and once, at the start of the first
block it executes, and that block's FinalizeBlock returns ``consensus_param_updates.version.app``
so the next headers carry the new version (CometBFT's state sync checks Info against them).

The height is agreed off-chain, as with Cosmos SDK's ``halt-height`` upgrades: every validator
runs the old version with ``node app --halt-height H``, all stop after committing H, and all
start the new version, which migrates in block H+1. History before H is replayed only by the old
version (a new version replaying it would compute another app hash and CometBFT halts on it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .codec import decode_u64, encode_u64
from .modules.distribution.migrations import migrate_to_2 as distribution_to_2
from .modules.staking.migrations import migrate_to_2 as staking_to_2
from .modules.staking.migrations import migrate_to_3 as staking_to_3
from .modules.subnets.migrations import migrate_to_2 as subnets_to_2
from .modules.subnets.migrations import migrate_to_3 as subnets_to_3
from .state.keys import APP_VERSION_KEY, MAX_GAS
from .state.overlay import KVReader, Overlay
from .types import Event
from .weights import DEFAULT_BLOCK_MAX_GAS, MAX_BLOCK_GAS

APP_VERSION = 3
"""The version this code runs. 1: the pinned previous commit (e2e/previous_version.toml): no
version in state, no outstanding rewards, no supply origin; 2: those are in state; 3: staking's
validator rank (power) index is in state."""

Migration = Callable[[Overlay], list[Event]]


class VersionTooNew(RuntimeError):
    """The state was written by a newer app version than this code (never downgrade)."""


def state_version(state: KVReader) -> int:
    """The app version that wrote ``state`` (1 when it did not record one)."""
    raw = state.get(APP_VERSION_KEY)
    return 1 if raw is None else decode_u64(raw)


def set_version(state: Overlay, version: int) -> None:
    state.set(APP_VERSION_KEY, encode_u64(version))


def _to_2(state: Overlay) -> list[Event]:
    """1 -> 2: version 1 kept no version in state (from 2 on it is part of the app hash:
    ``migrate`` records it), nor staking's redelegation balances and indexes
    (modules/staking/migrations.py), nor distribution's outstanding rewards and the supply's
    origin (modules/distribution/migrations.py), nor subnets' stake floors and weights
    commits with their reveal windows (modules/subnets/migrations.py). Staking first:
    distribution reads delegations only, which staking's step does not change."""
    return staking_to_2(state) + distribution_to_2(state) + subnets_to_2(state)


def _to_3(state: Overlay) -> list[Event]:
    """2 -> 3: staking's validator rank index and list counts (modules/staking/migrations.py)
    and subnets' stake position counts (modules/subnets/migrations.py): what the power index
    and the paginated list queries read. A chain created before block weights (its genesis
    block.max_gas was CometBFT's -1: no bound) gets the default bound
    (weights.DEFAULT_BLOCK_MAX_GAS) in state, which CheckTx, PrepareProposal and
    ProcessProposal enforce; one whose genesis set a bound above weights.MAX_BLOCK_GAS (version 2
    stored any value above 0; InitChain now refuses it) gets MAX_BLOCK_GAS."""
    events = staking_to_3(state) + subnets_to_3(state)
    raw = state.get(MAX_GAS)
    # version 2 kept any block.max_gas > 0: one past MAX_BLOCK_GAS bounds nothing real
    stored = None if raw is None else decode_u64(raw)
    max_gas = DEFAULT_BLOCK_MAX_GAS if stored is None else min(stored, MAX_BLOCK_GAS)
    if max_gas != stored:
        state.set(MAX_GAS, encode_u64(max_gas))
        events.append(Event.of("migrate_block_max_gas", max_gas=max_gas))
    return events


MIGRATIONS: dict[int, Migration] = {2: _to_2, 3: _to_3}
"""Migration to version v (from v-1), by v. Add one with each version that changes state."""


def migrate(
    state: Overlay, target: int = APP_VERSION, registry: Mapping[int, Migration] = MIGRATIONS
) -> list[Event]:
    """Bring ``state`` from its version to ``target``: each migration once, in version order,
    then the new version is recorded. Returns their events plus one ``upgrade`` event (none
    when the state is already at ``target``). Raises VersionTooNew for a newer state."""
    current = state_version(state)
    if current > target:
        raise VersionTooNew(f"state is app version {current}, this app runs {target}")
    if current == target:
        return []
    events: list[Event] = []
    for version in range(current + 1, target + 1):
        step = registry.get(version)
        if step is None:
            raise KeyError(f"no migration to app version {version}")
        events += step(state)
    set_version(state, target)
    return [*events, Event.of("upgrade", from_version=current, to_version=target)]
