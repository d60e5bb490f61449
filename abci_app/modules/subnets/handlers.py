"""Subnet message handlers: pure functions ``(state, sender, msg, ctx) -> None``.

The sender of a neuron message is the neuron's hotkey; the sender of a stake message is the
staker, Bittensor's coldkey (the account whose tokens are staked). Events keep the attribute
name ``staker`` they have always had.

A handler raises a ModernTensorError before or after writing; execution.py runs messages in a
branch that is dropped on failure, so a rejected message changes nothing.

The epoch schedule and the commit-reveal windows are in schedule.py, what registering costs in
pricing.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...address import to_bech32
from ...errors import (
    AlreadyRegistered,
    CommitRevealMismatch,
    InsufficientSubnetStake,
    InvalidHyperparams,
    InvalidWeights,
    NotRegistered,
    NotSubnetOwner,
    NoValidatorPermit,
    NoWeightsCommit,
    RevealMismatch,
    RevealOutOfWindow,
    SubnetFull,
    SubnetLimitReached,
    UnknownSubnet,
    WeightsRateLimited,
    WeightsVersionTooLow,
)
from ...state.overlay import Overlay
from ..bank.keeper import burn, send
from .epoch import Row
from .messages import (
    MsgAddSubnetStake,
    MsgCommitWeights,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgRemoveSubnetStake,
    MsgRevealWeights,
    MsgServeAxon,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
    commit_hash,
)
from .params import Hyperparams, SubnetParams
from .pricing import clamp_burn, lock_cost, remember_lock
from .schedule import next_epoch_height, window
from .state import (
    SUBNET_STAKE_POOL,
    Axon,
    Neuron,
    Subnet,
    all_subnets,
    change_stake,
    clear_uid_rows,
    delete_commit,
    delete_uid,
    get_commit,
    get_hyperparams,
    get_neuron,
    get_subnet,
    neurons,
    set_commit,
    set_hyperparams,
    set_neuron,
    set_subnet,
    set_uid,
    set_weights_row,
    stake_of,
    uid_of,
)

if TYPE_CHECKING:
    from ...context import ChainContext


def _subnet(state: Overlay, netuid: int) -> Subnet:
    subnet = get_subnet(state, netuid)
    if subnet is None:
        raise UnknownSubnet(f"netuid {netuid}")
    return subnet


def _neuron(state: Overlay, netuid: int, hotkey: bytes) -> Neuron:
    uid = uid_of(state, netuid, hotkey)
    neuron = None if uid is None else get_neuron(state, netuid, uid)
    if neuron is None:
        raise NotRegistered(f"{to_bech32(hotkey)} has no uid on subnet {netuid}")
    return neuron


def apply_register_subnet(
    state: Overlay, sender: bytes, msg: MsgRegisterSubnet, ctx: ChainContext
) -> None:
    """Register a subnet owned by ``sender`` on the lowest free netuid (1..max_subnets),
    burning the current lock cost (pricing.lock_cost; subtensor ``register_network``).

    Writes: sender's balance and the supply (burn), the lock memory, the subnet record (burn at
    the default ``min_burn``) and its default hyperparameters.
    Events: ``register_subnet(netuid, owner, lock)``.

    Raises:
        SubnetLimitReached: ``max_subnets`` subnets exist.
        InsufficientFunds: the sender cannot pay the lock cost.
    """
    params = ctx.params_of(SubnetParams)
    height = ctx.height
    taken = {s.netuid for s in all_subnets(state)}
    free = [n for n in range(1, params.max_subnets + 1) if n not in taken]
    if not free:
        raise SubnetLimitReached(f"{params.max_subnets} subnets exist (max_subnets)")
    cost = lock_cost(state, params, height)
    burn(state, sender, cost)
    remember_lock(state, cost, height)
    hp = Hyperparams()
    subnet = Subnet(
        netuid=free[0],
        owner=sender,
        registered_at=height,
        lock=cost,
        burn=hp.min_burn,
        last_adjustment=height,
    )
    set_subnet(state, subnet)
    set_hyperparams(state, subnet.netuid, hp)
    ctx.events.emit("register_subnet", netuid=subnet.netuid, owner=to_bech32(sender), lock=cost)


def apply_set_hyperparams(
    state: Overlay, sender: bytes, msg: MsgSetSubnetHyperparams, ctx: ChainContext
) -> None:
    """Set the named hyperparameters of subnet ``msg.netuid`` (owner only); the change is
    validated as a whole, and the current burn is clamped into the new [min_burn, max_burn].

    Preconditions: ``msg`` validated (known names, each once, one value per name).
    Writes: the hyperparameters, the subnet's burn.
    Events: ``set_subnet_hyperparams(netuid, <name>=<value> ...)`` (names sorted).

    Raises:
        UnknownSubnet: no such netuid.
        NotSubnetOwner: ``sender`` does not own it.
        InvalidHyperparams: a value out of its range, max_allowed_validators >
            max_allowed_uids, min_burn > max_burn, or max_allowed_uids below the neurons
            registered.
    """
    subnet = _subnet(state, msg.netuid)
    if subnet.owner != sender:
        raise NotSubnetOwner(f"subnet {msg.netuid} is owned by {to_bech32(subnet.owner)}")
    old = get_hyperparams(state, msg.netuid)
    changes = dict(zip(msg.names, msg.values, strict=True))
    hp = Hyperparams(**{**old.to_dict(), **changes})
    hp.validate()
    hp.check_bounds(ctx.params_of(SubnetParams))
    if hp.max_allowed_uids < subnet.n:
        raise InvalidHyperparams(
            f"max_allowed_uids {hp.max_allowed_uids} is below the {subnet.n} registered neurons"
        )
    set_hyperparams(state, msg.netuid, hp)
    set_subnet(state, subnet.with_(burn=clamp_burn(subnet.burn, hp)))
    attrs = {k: changes[k] for k in sorted(changes)}
    ctx.events.emit("set_subnet_hyperparams", netuid=msg.netuid, **attrs)


def prune_candidate(nodes: list[Neuron], hp: Hyperparams, height: int) -> Neuron | None:
    """The neuron a registration into a full subnet replaces: the lowest last-epoch emission
    among those past their immunity period; ties go to the older registration, then the lower
    uid. None when every neuron is still immune."""
    mortal = [n for n in nodes if height - n.registered_at >= hp.immunity_period]
    if not mortal:
        return None
    return min(mortal, key=lambda n: (n.emission, n.registered_at, n.uid))


def apply_register_neuron(
    state: Overlay, sender: bytes, msg: MsgRegisterNeuron, ctx: ChainContext
) -> None:
    """Register ``sender`` as a hotkey on subnet ``msg.netuid``, burning the subnet's current
    burn (subtensor ``burned_register``). A full subnet replaces :func:`prune_candidate`; the
    pruned uid's weights, bonds and commit go with it.

    Writes: sender's balance and the supply (burn), the neuron and hotkey index (and the pruned
    ones'), the subnet (size, registrations counted for the burn adjustment).
    Events: ``register_neuron(netuid, uid, hotkey, burn, pruned)`` (pruned: "" or a hotkey).

    Raises:
        UnknownSubnet: no such netuid.
        AlreadyRegistered: ``sender`` already has a uid there.
        SubnetFull: the subnet is full and every neuron is within its immunity period.
        InsufficientFunds: the sender cannot pay the burn.
    """
    height = ctx.height
    subnet = _subnet(state, msg.netuid)
    if uid_of(state, msg.netuid, sender) is not None:
        raise AlreadyRegistered(f"{to_bech32(sender)} on subnet {msg.netuid}")
    hp = get_hyperparams(state, msg.netuid)
    pruned = ""
    if subnet.n < hp.max_allowed_uids:
        uid = subnet.n
        subnet = subnet.with_(n=subnet.n + 1)
    else:
        victim = prune_candidate(neurons(state, msg.netuid), hp, height)
        if victim is None:
            raise SubnetFull(
                f"all {subnet.n} neurons of subnet {msg.netuid} are within their "
                f"immunity period of {hp.immunity_period} blocks"
            )
        uid = victim.uid
        pruned = to_bech32(victim.hotkey)
        delete_uid(state, msg.netuid, victim.hotkey)
        clear_uid_rows(state, msg.netuid, uid)
    burn(state, sender, subnet.burn)
    set_neuron(state, msg.netuid, Neuron(uid, sender, registered_at=height, last_update=height))
    set_uid(state, msg.netuid, sender, uid)
    set_subnet(state, subnet.with_(registrations=subnet.registrations + 1))
    ctx.events.emit(
        "register_neuron",
        netuid=msg.netuid,
        uid=uid,
        hotkey=to_bech32(sender),
        burn=subnet.burn,
        pruned=pruned,
    )


def apply_serve_axon(state: Overlay, sender: bytes, msg: MsgServeAxon, ctx: ChainContext) -> None:
    """Publish the endpoint of ``sender``'s neuron on subnet ``msg.netuid`` (subtensor
    ``serve_axon``).

    Preconditions: ``msg`` validated (an IPv4/IPv6 address, port 1-65535, protocol <= 255).
    Writes: the neuron's axon. Events: ``serve_axon(netuid, uid, ip, port)``.

    Raises:
        UnknownSubnet: no such netuid.
        NotRegistered: ``sender`` has no uid there.
    """
    _subnet(state, msg.netuid)
    neuron = _neuron(state, msg.netuid, sender)
    axon = Axon(msg.ip, msg.port, msg.protocol, msg.version)
    set_neuron(state, msg.netuid, neuron.with_(axon=axon))
    ctx.events.emit("serve_axon", netuid=msg.netuid, uid=neuron.uid, ip=msg.ip, port=msg.port)


def apply_add_stake(
    state: Overlay, sender: bytes, msg: MsgAddSubnetStake, ctx: ChainContext
) -> None:
    """Stake ``msg.amount`` of ``sender``'s tokens (the coldkey, in Bittensor's terms) on the
    registered hotkey ``msg.hotkey`` of subnet ``msg.netuid`` (subtensor ``add_stake``): the
    hotkey's weight in Yuma consensus.

    Writes: sender's balance, the subnet stake pool, the coldkey's part, the hotkey's and the
    subnet's totals. Events: ``add_subnet_stake(netuid, staker, hotkey, amount)``.

    Raises:
        UnknownSubnet: no such netuid.
        NotRegistered: the hotkey has no uid there.
        InsufficientFunds: the sender cannot pay.
    """
    _subnet(state, msg.netuid)
    _neuron(state, msg.netuid, msg.hotkey)
    send(state, sender, SUBNET_STAKE_POOL, msg.amount)
    change_stake(state, sender, msg.netuid, msg.hotkey, msg.amount)
    ctx.events.emit(
        "add_subnet_stake",
        netuid=msg.netuid,
        staker=to_bech32(sender),
        hotkey=to_bech32(msg.hotkey),
        amount=msg.amount,
    )


def apply_remove_stake(
    state: Overlay, sender: bytes, msg: MsgRemoveSubnetStake, ctx: ChainContext
) -> None:
    """Take ``msg.amount`` of ``sender``'s (the coldkey's) stake off hotkey ``msg.hotkey`` of
    subnet ``msg.netuid``, back to its balance at once (subtensor ``remove_stake``); also from
    a pruned hotkey.

    Writes: the coldkey's part, the hotkey's and the subnet's totals, the stake pool, sender's
    balance. Events: ``remove_subnet_stake(netuid, staker, hotkey, amount)``.

    Raises:
        UnknownSubnet: no such netuid.
        InsufficientSubnetStake: ``sender`` staked less than the amount on that hotkey.
    """
    _subnet(state, msg.netuid)
    mine = stake_of(state, sender, msg.netuid, msg.hotkey)
    if mine < msg.amount:
        raise InsufficientSubnetStake(
            f"{to_bech32(sender)} has {mine} staked on {to_bech32(msg.hotkey)}, not {msg.amount}"
        )
    change_stake(state, sender, msg.netuid, msg.hotkey, -msg.amount)
    send(state, SUBNET_STAKE_POOL, sender, msg.amount)
    ctx.events.emit(
        "remove_subnet_stake",
        netuid=msg.netuid,
        staker=to_bech32(sender),
        hotkey=to_bech32(msg.hotkey),
        amount=msg.amount,
    )


def _check_rate(neuron: Neuron, hp: Hyperparams, height: int) -> None:
    if neuron.last_weights_tx < 0:
        return
    lifts = neuron.last_weights_tx + hp.weights_rate_limit
    if height < lifts:
        raise WeightsRateLimited(
            f"uid {neuron.uid} sent weights at height {neuron.last_weights_tx}; "
            f"weights_rate_limit is {hp.weights_rate_limit} blocks, next allowed at height {lifts}"
        )


def _row(subnet: Subnet, uids: tuple[int, ...], weights: tuple[int, ...]) -> Row:
    for u in uids:
        if u >= subnet.n:
            raise InvalidWeights(f"uid {u} does not exist (subnet {subnet.netuid} has {subnet.n})")
    return tuple(sorted((u, w) for u, w in zip(uids, weights, strict=True) if w > 0))


def _check_permit(neuron: Neuron, netuid: int) -> None:
    """Only neurons holding a validator permit (granted by the last epoch to the top
    max_allowed_validators by active stake) may send weights, as in subtensor's
    ``check_validator_permit``: weight rows, and so each epoch's work, stay bounded by the
    validator count, not the uid count."""
    if not neuron.validator_permit:
        raise NoValidatorPermit(
            f"uid {neuron.uid} of subnet {netuid} has no validator permit: stake on the hotkey, "
            "then wait for an epoch"
        )


def _check_version(hp: Hyperparams, version_key: int) -> None:
    if version_key < hp.weights_version:
        raise WeightsVersionTooLow(
            f"version_key {version_key} < weights_version {hp.weights_version}"
        )


def apply_set_weights(state: Overlay, sender: bytes, msg: MsgSetWeights, ctx: ChainContext) -> None:
    """Set ``sender``'s weight row on subnet ``msg.netuid`` directly (commit_reveal = 0;
    subtensor ``set_weights``). Zero weights are dropped; the row is stored sorted by uid.

    Preconditions: ``msg`` validated (as many uids as weights, no uid twice, u16 values).
    Writes: the weight row; the neuron's ``last_update`` and ``last_weights_tx``.
    Events: ``set_weights(netuid, uid, count)``.

    Raises:
        UnknownSubnet: no such netuid.
        NotRegistered: ``sender`` has no uid there.
        CommitRevealMismatch: the subnet uses commit-reveal.
        WeightsVersionTooLow: ``version_key`` below the subnet's ``weights_version``.
        WeightsRateLimited: within ``weights_rate_limit`` blocks of its last weights.
        InvalidWeights: a uid that does not exist.
    """
    height = ctx.height
    subnet = _subnet(state, msg.netuid)
    neuron = _neuron(state, msg.netuid, sender)
    hp = get_hyperparams(state, msg.netuid)
    if hp.commit_reveal:
        raise CommitRevealMismatch(
            f"subnet {msg.netuid} uses commit-reveal: send commit_weights, then reveal_weights"
        )
    _check_permit(neuron, msg.netuid)
    _check_version(hp, msg.version_key)
    _check_rate(neuron, hp, height)
    row = _row(subnet, msg.uids, msg.weights)
    set_weights_row(state, msg.netuid, neuron.uid, row)
    set_neuron(state, msg.netuid, neuron.with_(last_update=height, last_weights_tx=height))
    ctx.events.emit("set_weights", netuid=msg.netuid, uid=neuron.uid, count=len(row))


def apply_commit_weights(
    state: Overlay, sender: bytes, msg: MsgCommitWeights, ctx: ChainContext
) -> None:
    """Commit the hash of ``sender``'s next weights on subnet ``msg.netuid`` (commit_reveal =
    1), to be revealed in the next window (schedule.py); a newer commit replaces an unrevealed
    one. Subtensor ``commit_weights``.

    Writes: the commit (hash and window); the neuron's ``last_weights_tx``.
    Events: ``commit_weights(netuid, uid, reveal_from, reveal_until)`` (heights).

    Raises:
        UnknownSubnet: no such netuid.
        NotRegistered: ``sender`` has no uid there.
        CommitRevealMismatch: the subnet has commit-reveal off.
        WeightsRateLimited: within ``weights_rate_limit`` blocks of its last weights.
    """
    height = ctx.height
    _subnet(state, msg.netuid)
    neuron = _neuron(state, msg.netuid, sender)
    hp = get_hyperparams(state, msg.netuid)
    if not hp.commit_reveal:
        raise CommitRevealMismatch(f"subnet {msg.netuid} has commit-reveal off: use set_weights")
    _check_permit(neuron, msg.netuid)
    _check_rate(neuron, hp, height)
    w = window(msg.netuid, hp.tempo, height)
    set_commit(state, msg.netuid, neuron.uid, msg.commit_hash, w)
    set_neuron(state, msg.netuid, neuron.with_(last_weights_tx=height))
    reveal_from = next_epoch_height(msg.netuid, hp.tempo, height) + 1
    ctx.events.emit(
        "commit_weights",
        netuid=msg.netuid,
        uid=neuron.uid,
        reveal_from=reveal_from,
        reveal_until=next_epoch_height(msg.netuid, hp.tempo, reveal_from),
    )


def apply_reveal_weights(
    state: Overlay, sender: bytes, msg: MsgRevealWeights, ctx: ChainContext
) -> None:
    """Reveal the weights ``sender`` committed on subnet ``msg.netuid`` in the window after the
    commit's; they become its row (subtensor ``reveal_weights``).

    Preconditions: ``msg`` validated (as for set_weights; salt of at most 64 bytes).
    Writes: the weight row, the commit (deleted), the neuron's ``last_update``.
    Events: ``reveal_weights(netuid, uid, count)``.

    Raises:
        UnknownSubnet: no such netuid.
        NotRegistered: ``sender`` has no uid there.
        CommitRevealMismatch: the subnet has commit-reveal off.
        NoWeightsCommit: no pending commit.
        RevealOutOfWindow: still in the commit's window, or past the next one.
        RevealMismatch: the hash of uids, weights, salt and version_key differs.
        WeightsVersionTooLow: ``version_key`` below the subnet's ``weights_version``.
        InvalidWeights: a uid that does not exist.
    """
    height = ctx.height
    subnet = _subnet(state, msg.netuid)
    neuron = _neuron(state, msg.netuid, sender)
    hp = get_hyperparams(state, msg.netuid)
    if not hp.commit_reveal:
        raise CommitRevealMismatch(f"subnet {msg.netuid} has commit-reveal off: use set_weights")
    commit = get_commit(state, msg.netuid, neuron.uid)
    if commit is None:
        raise NoWeightsCommit(f"uid {neuron.uid} has no pending commit on subnet {msg.netuid}")
    digest, committed_in = commit
    now = window(msg.netuid, hp.tempo, height)
    if now == committed_in:
        raise RevealOutOfWindow(
            "too early: reveal after the epoch at height "
            f"{next_epoch_height(msg.netuid, hp.tempo, height)}"
        )
    if now > committed_in + 1:  # (the epoch drops such commits; kept for safety)
        raise RevealOutOfWindow("the commit expired: its reveal window has passed")
    expected = commit_hash(sender, msg.netuid, msg.uids, msg.weights, msg.salt, msg.version_key)
    if expected != digest:
        raise RevealMismatch("uids, weights, salt or version_key differ from the commit")
    _check_permit(neuron, msg.netuid)
    _check_version(hp, msg.version_key)
    row = _row(subnet, msg.uids, msg.weights)
    set_weights_row(state, msg.netuid, neuron.uid, row)
    delete_commit(state, msg.netuid, neuron.uid)
    set_neuron(state, msg.netuid, neuron.with_(last_update=height))
    ctx.events.emit("reveal_weights", netuid=msg.netuid, uid=neuron.uid, count=len(row))
