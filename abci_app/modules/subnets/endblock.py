"""The subnets' block steps: emission accrual (begin of block, called by distribution) and, at
the end of the block, registration-burn adjustment and the Yuma epochs that are due.

Every subnet is visited in ascending netuid order; epochs are staggered by netuid so that 32
subnets with the same tempo do not all run in one block.
"""

from __future__ import annotations

from ...address import to_bech32
from ...state.overlay import Overlay
from ...types import NO_PROBE, Event, Probe
from ..bank.keeper import send
from ..bank.state import credit, debit
from .epoch import EpochInput, EpochOutput, run_epoch
from .handlers import is_epoch_block, window
from .params import Hyperparams
from .state import (
    SUBNET_EMISSION_POOL,
    SUBNET_STAKE_POOL,
    Neuron,
    Subnet,
    all_bonds,
    all_commits,
    all_subnets,
    all_weights,
    change_stake,
    delete_commit,
    get_hyperparams,
    get_subnet,
    hotkey_stake,
    neurons,
    replace_bonds,
    set_neuron,
    set_subnet,
)


def accrue_emission(state: Overlay, amount: int, from_pool: bytes) -> int:
    """Move up to ``amount`` from ``from_pool`` to the subnets, pro rata to their total stake
    (floor); return what was moved. Nothing moves when no subnet has stake."""
    staked = [s for s in all_subnets(state) if s.total_stake > 0]
    total = sum(s.total_stake for s in staked)
    if amount == 0 or total == 0:
        return 0
    moved = 0
    for s in staked:
        share = amount * s.total_stake // total
        if share:
            set_subnet(state, s.with_(pending_emission=s.pending_emission + share))
            moved += share
    if moved:
        send(state, from_pool, SUBNET_EMISSION_POOL, moved)
    return moved


def adjust_burn(subnet: Subnet, hp: Hyperparams, height: int) -> Subnet:
    """Every adjustment_interval blocks, move the burn toward the target registration rate:
    burn x (registrations + target) / (2 x target), within [min_burn, max_burn]."""
    if height - subnet.last_adjustment < hp.adjustment_interval:
        return subnet
    target = hp.target_registrations_per_interval
    burn = subnet.burn * (subnet.registrations + target) // (2 * target)
    burn = min(max(burn, hp.min_burn), hp.max_burn)
    return subnet.with_(burn=burn, registrations=0, last_adjustment=height)


def epoch_input(
    state: Overlay, subnet: Subnet, hp: Hyperparams, height: int, nodes: list[Neuron]
) -> EpochInput:
    return EpochInput(
        height=height,
        params=hp.epoch_params(),
        stake=tuple(hotkey_stake(state, subnet.netuid, n.hotkey) for n in nodes),
        last_update=tuple(n.last_update for n in nodes),
        registered_at=tuple(n.registered_at for n in nodes),
        weights=all_weights(state, subnet.netuid),
        bonds=all_bonds(state, subnet.netuid),
        emission=subnet.pending_emission,
    )


def _pay(state: Overlay, subnet: Subnet, nodes: list[Neuron], out: EpochOutput) -> list[Neuron]:
    """Pay the epoch's emission out of the emission pool; return the neurons with their new
    epoch outputs (written by the caller)."""
    if out.owner_emission:
        send(state, SUBNET_EMISSION_POOL, subnet.owner, out.owner_emission)
    miners = sum(out.miner_emission)
    validators = sum(out.validator_emission)
    if miners + validators:
        debit(state, SUBNET_EMISSION_POOL, miners + validators)
    if validators:
        credit(state, SUBNET_STAKE_POOL, validators)
    updated = []
    for n in nodes:
        miner = out.miner_emission[n.uid]
        if miner:
            credit(state, n.hotkey, miner)
        val = out.validator_emission[n.uid]
        if val:
            change_stake(state, n.hotkey, subnet.netuid, n.hotkey, val, update_subnet=False)
        updated.append(
            n.with_(
                active=out.active[n.uid],
                validator_permit=out.validator_permit[n.uid],
                rank=out.rank[n.uid],
                trust=out.trust[n.uid],
                validator_trust=out.validator_trust[n.uid],
                consensus=out.consensus[n.uid],
                incentive=out.incentive[n.uid],
                dividends=out.dividends[n.uid],
                emission=miner + val,
            )
        )
    return updated


def _expire_commits(
    state: Overlay, netuid: int, hp: Hyperparams, height: int, nodes: list[Neuron]
) -> tuple[list[Neuron], list[Event]]:
    """Commits whose reveal window ends with this epoch and were never revealed are dropped and
    counted against the validator (``missed_reveals``); its old weights stay."""
    now = window(netuid, hp.tempo, height)
    events = []
    for uid, (_, committed_in) in sorted(all_commits(state, netuid).items()):
        if committed_in < now:
            delete_commit(state, netuid, uid)
            n = nodes[uid]
            nodes[uid] = n.with_(missed_reveals=n.missed_reveals + 1)
            events.append(
                Event.of("commit_expired", netuid=netuid, uid=uid, hotkey=to_bech32(n.hotkey))
            )
    return nodes, events


def run_subnet_epoch(state: Overlay, subnet: Subnet, hp: Hyperparams, height: int) -> list[Event]:
    """Run one epoch and apply it: bonds, payouts, metagraph, expired commits, subnet record."""
    nodes = neurons(state, subnet.netuid)
    inp = epoch_input(state, subnet, hp, height, nodes)
    out = run_epoch(inp)
    replace_bonds(state, subnet.netuid, out.bonds)
    nodes = _pay(state, subnet, nodes, out)
    nodes, events = _expire_commits(state, subnet.netuid, hp, height, nodes)
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
        )
    )
    return events


def end_block(state: Overlay, height: int, probe: Probe = NO_PROBE) -> list[Event]:
    events: list[Event] = []
    for subnet in all_subnets(state):
        hp = get_hyperparams(state, subnet.netuid)
        adjusted = adjust_burn(subnet, hp, height)
        if adjusted != subnet:
            set_subnet(state, adjusted)
            events.append(Event.of("registration_burn", netuid=subnet.netuid, burn=adjusted.burn))
        if is_epoch_block(subnet.netuid, hp.tempo, height):
            with probe.timed("subnet_epoch", str(subnet.netuid)):
                events += run_subnet_epoch(state, adjusted, hp, height)
    return events
