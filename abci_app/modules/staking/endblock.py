"""Staking's end-block step: release matured unbondings, then send CometBFT the set's changes.

Validator updates are diffs against the set CometBFT has (kept in state as last powers): a
changed power is sent, a validator leaving is sent with power 0, an unchanged one is not sent.
An update that would leave no validator at all is never sent (it would halt the chain): the old
set is kept and an event says so.
"""

from __future__ import annotations

from ...address import to_bech32
from ...state.keys import VALIDATOR
from ...state.overlay import Overlay
from ...types import Event, ValidatorUpdate
from ..bank.keeper import send
from .state import (
    UNBONDING_POOL,
    get_params,
    get_validator,
    indexed_active_set,
    last_powers,
    matured_redelegations,
    matured_unbondings,
    remove_redelegation,
    remove_unbonding,
    set_last_power,
)


def complete_unbondings(state: Overlay, height: int) -> list[Event]:
    """End-block step: entries completing at ``height`` leave the unbonding pool
    for their delegators (``complete_unbonding`` events); redelegation entries completing now stop
    being slashable for their source (their shares are zeroed).
    """
    for r in matured_redelegations(state, height):  # no longer slashable for the source
        remove_redelegation(state, r)
    events = []
    for entry in matured_unbondings(state, height):
        send(state, UNBONDING_POOL, entry.delegator, entry.amount)
        remove_unbonding(state, entry)
        events.append(
            Event.of(
                "complete_unbonding", delegator=to_bech32(entry.delegator), amount=entry.amount
            )
        )
    return events


def validator_set_updates(
    state: Overlay, force: bool = False
) -> tuple[list[ValidatorUpdate], list[Event]]:
    """Diffs of the active set against the last one; skipped when no validator record changed
    in this block (``force`` recomputes anyway). The set is read from the power index (at most
    ``max_validators`` records) and diffed against the last powers (at most ``max_validators``
    entries): the work does not grow with the number of validator records."""
    if not force and not any(k.startswith(VALIDATOR) for k in state.writes):
        return [], []
    new = {v.cons_address: (v.pub_key, p) for v, p in indexed_active_set(state, get_params(state))}
    if not new:
        return [], [
            Event.of("validator_set_kept", reason="the update would remove every validator")
        ]
    old = last_powers(state)
    updates, events = [], []
    for cons in sorted(set(old) | set(new)):
        power = new[cons][1] if cons in new else 0
        if power == old.get(cons, 0):
            continue
        if cons in new:
            pub_key = new[cons][0]
        else:
            v = get_validator(state, cons)
            if v is None:  # pragma: no cover - validator records are never deleted
                raise RuntimeError(f"validator {cons.hex()} vanished from state")
            pub_key = v.pub_key
        set_last_power(state, cons, power)
        updates.append(ValidatorUpdate(pub_key, power))
        events.append(
            Event.of("validator_update", consensus_address=cons.hex().upper(), power=power)
        )
    return updates, events
