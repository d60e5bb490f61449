"""Subnet emission: the subnets' share of each block's reward accrues to them pro rata to their
stake, waits in the emission pool, and each subnet's epoch pays out what accrued (the split
owner 15% / miners 55% / validators 30% is computed by the epoch, :mod:`.epoch`). What nobody
earned is recycled (burned, reason ``recycled``: the minting cap lets it be minted again later,
as subtensor recycles emission no one is owed); the splits' floor dust goes to the community
pool. So an idle subnet's emission never reaches its owner."""

from __future__ import annotations

from ...state.overlay import Overlay
from ..bank.keeper import burn, send
from ..bank.module_accounts import COMMUNITY_POOL
from ..bank.state import credit, debit
from .epoch import EpochOutput
from .state import (
    SUBNET_EMISSION_POOL,
    SUBNET_STAKE_POOL,
    Neuron,
    Subnet,
    all_subnets,
    change_stake,
    set_subnet,
)


def accrue_emission(state: Overlay, amount: int, from_pool: bytes) -> int:
    """Begin-block step: move up to ``amount`` from ``from_pool`` to the subnets' pending
    emission (the emission pool), pro rata to each subnet's total stake (floor); return what was
    moved. Nothing moves when no subnet has stake (the rest stays with the consensus
    validators)."""
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


def pay_epoch(
    state: Overlay, subnet: Subnet, nodes: list[Neuron], out: EpochOutput
) -> list[Neuron]:
    """Pay the epoch's emission out of the emission pool: the owner's part and each miner's to
    their balances, each validator's added to its own subnet stake, the dust to the community
    pool; burn what nobody earned. Return the neurons with their new epoch outputs (written by
    the caller)."""
    if out.owner_emission:
        send(state, SUBNET_EMISSION_POOL, subnet.owner, out.owner_emission)
    burn(state, SUBNET_EMISSION_POOL, out.recycled_emission, "recycled")
    if out.dust_emission:
        send(state, SUBNET_EMISSION_POOL, COMMUNITY_POOL, out.dust_emission)
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
