"""The subnets' end-block step: owners' hyperparameter changes put in force, registration-burn
adjustment and the Yuma epochs that are due. (Their begin-block step, emission accrual, is in
emission.py.)

Every subnet is visited in ascending netuid order; epochs are staggered by netuid so that 32
subnets with the same tempo do not all run in one block. Owners choose their tempos, though,
and tempos can make many epochs fall in one block (subnet n with tempo H + n runs at the end of
block H): one block runs the due epochs, oldest due first, only within a budget of work
(:func:`epoch_budget`, twice the costliest epoch the chain's caps allow), and defers the
others to the next blocks (issue 13: the worst epoch an owner can configure is bounded, and so
is the epoch work of a block, however many owners align their epochs). A deferred epoch runs
as it would have, one or a few blocks later: reveals made in between count in it.
"""

from __future__ import annotations

import dataclasses

from ...state.overlay import Overlay
from ...types import NO_PROBE, Event, EventLog, Probe
from .emission import pay_epoch
from .epoch import EpochInput, run_epoch
from .handlers import expire_commit
from .params import Hyperparams, SubnetParams
from .pricing import adjust_burn, clamp_burn
from .schedule import is_epoch_block
from .state import (
    Neuron,
    Subnet,
    all_bonds,
    all_commits,
    all_subnets,
    all_weights,
    epoch_due_since,
    get_hyperparams,
    get_next_hyperparams,
    get_params,
    get_subnet,
    hotkey_stake,
    neurons,
    replace_bonds,
    set_epoch_due,
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


EPOCH_WORK_PER_NEURON = 16
"""An epoch's work per neuron beyond the weight rows (its record, stake floor, bonds, payout),
in weight-entry units. From bench/epoch_bench.py (2 cores, as the chain runs an epoch): 256
uids x 64 validators 62 ms, 1,024 x 16 95 ms, 4,096 x 4 200 ms: ~3 us per weight entry and
~40 us per neuron."""


def epoch_work(n: int, hp: Hyperparams) -> int:
    """Work units of an epoch of ``n`` neurons: the weight entries it reads (a row of up to
    ``n`` entries per validator permit) plus EPOCH_WORK_PER_NEURON per neuron."""
    return n * (hp.max_allowed_validators + EPOCH_WORK_PER_NEURON)


def epoch_budget(params: SubnetParams) -> int:
    """The epoch work one block runs (beyond its first epoch, which always runs): twice the
    costliest epoch the chain's caps let an owner configure (``max_weights_per_epoch`` entries
    and ``max_uids_cap`` neurons): ~200 ms with the default caps."""
    return 2 * (params.max_weights_per_epoch + EPOCH_WORK_PER_NEURON * params.max_uids_cap)


def _plan_epochs(
    state: Overlay, subnets: list[tuple[Subnet, Hyperparams]], height: int
) -> tuple[set[int], dict[int, int]]:
    """(netuids whose epoch runs in this block, {netuid: due since} of every due epoch): the
    due epochs (this block's own and the deferred ones) by oldest due, then netuid, within
    :func:`epoch_budget` (the first always runs)."""
    due: list[tuple[int, int, int]] = []
    for subnet, hp in subnets:
        since = epoch_due_since(state, subnet.netuid)
        if since is None and is_epoch_block(subnet.netuid, hp.tempo, height):
            since = height
        if since is not None:
            due.append((since, subnet.netuid, epoch_work(subnet.n, hp)))
    budget = epoch_budget(get_params(state))
    run: set[int] = set()
    spent = 0
    for _, netuid, work in sorted(due):
        if run and spent + work > budget:
            continue
        run.add(netuid)
        spent += work
    return run, {netuid: since for since, netuid, _ in due}


def end_block(state: Overlay, height: int, probe: Probe = NO_PROBE) -> list[Event]:
    """End-block step: for each subnet by netuid, put in force the hyperparameters its owner
    set in this block, adjust its registration burn when due (``registration_burn`` event) and
    run its Yuma epoch when ``height`` is its epoch block or a deferred epoch waits
    (``subnet_epoch`` and ``commit_expired`` events), timed by ``probe``, within the block's
    epoch budget (:func:`_plan_epochs`); a due epoch past the budget waits for the next block
    (``subnet_epoch_deferred(netuid, due_since)``).
    """
    events: list[Event] = []
    subnets = [(subnet, apply_next_hyperparams(state, subnet)) for subnet in all_subnets(state)]
    run, due = _plan_epochs(state, subnets, height)
    for subnet, hp in subnets:
        adjusted = adjust_burn(subnet, hp, height)
        # an owner's new [min_burn, max_burn] applies from the next block
        adjusted = adjusted.with_(burn=clamp_burn(adjusted.burn, hp))
        if adjusted != subnet:
            set_subnet(state, adjusted)
            events.append(Event.of("registration_burn", netuid=subnet.netuid, burn=adjusted.burn))
        since = due.get(subnet.netuid)
        if since is None:
            continue
        if subnet.netuid in run:
            if since != height:
                set_epoch_due(state, subnet.netuid, None)
            with probe.timed("subnet_epoch", str(subnet.netuid)):
                events += run_subnet_epoch(state, adjusted, hp, height)
        else:
            if since == height:
                set_epoch_due(state, subnet.netuid, since)
            events.append(Event.of("subnet_epoch_deferred", netuid=subnet.netuid, due_since=since))
    return events
