"""The subnets' end-block step: owners' hyperparameter changes put in force, registration-burn
adjustment and the Yuma epochs that are due. (Their begin-block step, emission accrual, is in
emission.py.)

Every subnet is visited in ascending netuid order; epochs are staggered by netuid so that 32
subnets with the same tempo do not all run in one block.
"""

from __future__ import annotations

import dataclasses

from ...state.overlay import Overlay
from ...types import NO_PROBE, Event, EventLog, Probe
from .emission import pay_epoch
from .epoch import EpochInput, run_epoch
from .handlers import expire_commit
from .params import Hyperparams
from .pricing import adjust_burn, clamp_burn
from .schedule import is_epoch_block
from .state import (
    Neuron,
    Subnet,
    all_bonds,
    all_commits,
    all_subnets,
    all_weights,
    get_hyperparams,
    get_next_hyperparams,
    get_params,
    get_subnet,
    hotkey_stake,
    neurons,
    replace_bonds,
    set_hyperparams,
    set_neuron,
    set_next_hyperparams,
    set_stake_floor,
    set_subnet,
    stake_floor,
)


def epoch_input(
    state: Overlay, subnet: Subnet, hp: Hyperparams, height: int, nodes: list[Neuron]
) -> EpochInput:
    """The epoch function's input for ``subnet`` read from state (``nodes`` by uid). Each
    neuron's stake is its stake floor (state.stake_floor: the lowest stake it held since the
    last epoch), so stake that arrived for this epoch block weighs nothing."""
    return EpochInput(
        height=height,
        params=hp.epoch_params(),
        stake=tuple(stake_floor(state, subnet.netuid, n.hotkey) for n in nodes),
        last_update=tuple(n.last_update for n in nodes),
        registered_at=tuple(n.registered_at for n in nodes),
        weights=all_weights(state, subnet.netuid),
        bonds=all_bonds(state, subnet.netuid),
        emission=subnet.pending_emission,
    )


def _expire_commits(
    state: Overlay, netuid: int, height: int, nodes: list[Neuron]
) -> tuple[list[Neuron], list[Event]]:
    """Commits whose reveal window (fixed when they were made) ended by this epoch and were
    never revealed are dropped and counted against the validator (``missed_reveals``); its old
    weights stay."""
    sink = EventLog()
    for uid, commit in sorted(all_commits(state, netuid).items()):
        if commit.reveal_until <= height:
            nodes[uid] = expire_commit(state, netuid, nodes[uid], sink)
    return nodes, sink.take(0)


def run_subnet_epoch(state: Overlay, subnet: Subnet, hp: Hyperparams, height: int) -> list[Event]:
    """Run one epoch and apply it: bonds, payouts, stake floors restarted at each neuron's
    stake, metagraph, expired commits, subnet record."""
    nodes = neurons(state, subnet.netuid)
    inp = epoch_input(state, subnet, hp, height, nodes)
    out = run_epoch(inp)
    replace_bonds(state, subnet.netuid, out.bonds)
    nodes = pay_epoch(state, subnet, nodes, out)
    for n in nodes:  # the next epoch weighs what stays from now on (dividends included)
        set_stake_floor(
            state, subnet.netuid, n.hotkey, hotkey_stake(state, subnet.netuid, n.hotkey)
        )
    nodes, events = _expire_commits(state, subnet.netuid, height, nodes)
    for n in nodes:
        set_neuron(state, subnet.netuid, n)
    validators = sum(out.validator_emission)
    fresh = get_subnet(state, subnet.netuid)
    assert fresh is not None
    set_subnet(
        state,
        fresh.with_(
            pending_emission=0,
            last_epoch=height,
            epochs=fresh.epochs + 1,
            total_stake=fresh.total_stake + validators,
        ),
    )
    events.append(
        Event.of(
            "subnet_epoch",
            netuid=subnet.netuid,
            height=height,
            neurons=len(inp.stake),
            emission=inp.emission,
            miners=sum(out.miner_emission),
            validators=validators,
            owner=out.owner_emission,
            recycled=out.recycled_emission,
            dust=out.dust_emission,
        )
    )
    return events


def apply_next_hyperparams(state: Overlay, subnet: Subnet) -> Hyperparams:
    """Put in force the hyperparameters the owner set in this block (if any) and return the
    subnet's hyperparameters from now on. The block's own registrations may have filled the
    subnet past a lowered ``max_allowed_uids`` (its txs met the old one): it is raised to the
    neurons registered, so no uid is ever beyond it, and ``max_allowed_validators`` is lowered
    as far as the chain's ``max_weights_per_epoch`` then needs (the owner's change was checked
    against the bounds with the lower uid count; issue 13), so the pair stays within the bounds
    an epoch's cost rests on."""
    hp = get_next_hyperparams(state, subnet.netuid)
    if hp is None:
        return get_hyperparams(state, subnet.netuid)
    if hp.max_allowed_uids < subnet.n:
        room = get_params(state).max_weights_per_epoch // subnet.n
        hp = dataclasses.replace(
            hp,
            max_allowed_uids=subnet.n,
            max_allowed_validators=max(1, min(hp.max_allowed_validators, room)),
        )
    set_hyperparams(state, subnet.netuid, hp)
    set_next_hyperparams(state, subnet.netuid, None)
    return hp


def end_block(state: Overlay, height: int, probe: Probe = NO_PROBE) -> list[Event]:
    """End-block step: for each subnet by netuid, put in force the hyperparameters its owner
    set in this block, adjust its registration burn when due (``registration_burn`` event) and
    run its Yuma epoch when ``height`` is its epoch block (``subnet_epoch`` and
    ``commit_expired`` events), timed by ``probe``.
    """
    events: list[Event] = []
    for subnet in all_subnets(state):
        hp = apply_next_hyperparams(state, subnet)
        adjusted = adjust_burn(subnet, hp, height)
        # an owner's new [min_burn, max_burn] applies from the next block
        adjusted = adjusted.with_(burn=clamp_burn(adjusted.burn, hp))
        if adjusted != subnet:
            set_subnet(state, adjusted)
            events.append(Event.of("registration_burn", netuid=subnet.netuid, burn=adjusted.burn))
        if is_epoch_block(subnet.netuid, hp.tempo, height):
            with probe.timed("subnet_epoch", str(subnet.netuid)):
                events += run_subnet_epoch(state, adjusted, hp, height)
    return events
