"""Staking's state migrations (run by ``abci_app.upgrades`` when a newer app opens older
state)."""

from __future__ import annotations

from ...codec import decode_u64, encode_u64
from ...state.keys import REDELEGATION, UNBONDING, unbonding_by_validator_key
from ...state.overlay import Overlay
from ...types import Event
from .state import (
    Redelegation,
    add_redelegation,
    get_validator,
    rebuild_counts,
    rebuild_pair_indexes,
    rebuild_validator_index,
)

_V1_REDELEGATION_BYTES = 24


def migrate_to_2(state: Overlay) -> list[Event]:
    """App version 1 -> 2: the records version 2 keeps that version 1 did not.

    * Redelegations (Cosmos ``RedelegationEntry``): version 1 stored ``shares u128 ||
      creation u64`` and zeroed the shares of a matured entry; version 2 stores the tokens
      moved too (``initial_balance``, what a slash of the source is computed from) and indexes
      each entry by source and by (delegator, destination). A zeroed entry is dropped; a live
      one gets ``initial_balance`` = what its shares of the destination are worth now (version
      1 did not record the tokens at the move; they differ only if the destination was slashed
      since) and its two index keys.
    * Unbonding entries get version 2's index by validator (a slash finds what left it).

    Pure over ``state``, in key order.
    """
    moved = dropped = 0
    n = len(REDELEGATION)
    for key, value in list(state.iter_prefix(REDELEGATION)):
        if len(value) != _V1_REDELEGATION_BYTES:
            continue  # already version 2
        shares = int.from_bytes(value[:16], "big")
        state.delete(key)
        if shares == 0:
            dropped += 1
            continue
        dst = get_validator(state, key[n + 48 : n + 68])
        record = Redelegation(
            delegator=key[n + 8 : n + 28],
            src=key[n + 28 : n + 48],
            dst=key[n + 48 : n + 68],
            creation_height=decode_u64(value[16:24]),
            completion_height=int.from_bytes(key[n : n + 8], "big"),
            shares=shares,
            initial_balance=dst.tokens_for(shares) if dst is not None else 0,
        )
        add_redelegation(state, record)
        moved += 1
    n = len(UNBONDING)
    unbondings = 0
    for key, value in list(state.iter_prefix(UNBONDING)):
        height = int.from_bytes(key[n : n + 8], "big")
        delegator, cons = key[n + 8 : n + 28], key[n + 28 :]
        index = unbonding_by_validator_key(cons, height, delegator)
        if state.get(index) is None:
            state.set(index, encode_u64(decode_u64(value)))
            unbondings += 1
    return [
        Event.of(
            "migrate_staking", redelegations=moved, dropped=dropped, unbonding_indexed=unbondings
        )
    ]


def migrate_to_3(state: Overlay) -> list[Event]:
    """App version 2 -> 3: build the validator rank index (state/keys.py ``VALIDATOR_RANK``,
    whose first part is the power index end-block reads the active set from) from the
    validator records, and the list counts (``COUNT``: paginated queries' totals). Versions 1
    and 2 had neither and ranked every record each block a validator record changed. Also the
    (delegator, validator) indexes of unbonding and redelegation entries (undelegate and
    redelegate read a pair's entries from them; before, every entry of the delegator). Pure
    over ``state``; O(records), once."""
    validators = rebuild_validator_index(state)
    counts = rebuild_counts(state)
    pairs = rebuild_pair_indexes(state)
    return [Event.of("migrate_staking_index", validators=validators, counts=counts, pairs=pairs)]
