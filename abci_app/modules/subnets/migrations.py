"""Subnets' state migrations (run by ``abci_app.upgrades`` when a newer app opens older
state)."""

from __future__ import annotations

import json

from ...codec import canonical_json
from ...state.keys import COMMIT, SUBNET
from ...state.overlay import Overlay
from ...types import Event
from .state import (
    Subnet,
    all_hotkey_stakes,
    rebuild_position_counts,
    set_stake_floor,
    stake_floor,
    uid_of,
)

_V1_COMMIT_BYTES = 40


def migrate_to_2(state: Overlay) -> list[Event]:
    """App version 1 -> 2: the subnet records version 2 keeps that version 1 did not.

    * Stake floors (subtensor PR 737: an epoch weighs a hotkey by the lowest stake it held
      since the previous one): every registered hotkey's floor starts at its stake, as an epoch
      would restart it.
    * Weights commits: version 1 stored ``hash || epoch index``, version 2 the commit's height
      and its reveal window fixed when it was made. A version 1 commit's window cannot be
      recovered exactly, so pending commits are dropped (not counted as missed): the
      validator commits again after the upgrade (as on a subtensor runtime upgrade that
      clears ``WeightCommits``).

    * Subnet records gain the per-block registration count (``block_registrations``,
      ``last_registration_block``), starting at 0.

    Pure over ``state``, in key order.
    """
    for key, raw in list(state.iter_prefix(SUBNET)):
        d = json.loads(raw)
        if "block_registrations" not in d:
            d.update(block_registrations=0, last_registration_block=0)
            state.set(key, Subnet.decode(canonical_json(d)).encode())
    floors = 0
    for netuid, hotkey, stake in all_hotkey_stakes(state):
        if uid_of(state, netuid, hotkey) is not None and stake_floor(state, netuid, hotkey) == 0:
            set_stake_floor(state, netuid, hotkey, stake)
            floors += 1
    dropped = 0
    for key, value in list(state.iter_prefix(COMMIT)):
        if len(value) == _V1_COMMIT_BYTES:
            state.delete(key)
            dropped += 1
    return [Event.of("migrate_subnets", stake_floors=floors, commits_dropped=dropped)]


def migrate_to_3(state: Overlay) -> list[Event]:
    """App version 2 -> 3: each coldkey's count of stake positions (state/keys.py
    ``STAKE_COUNT``: the total of the paginated ``/subnet_stake`` answer), from the records.
    Pure over ``state``; O(positions), once."""
    return [Event.of("migrate_subnets_counts", coldkeys=rebuild_position_counts(state))]
