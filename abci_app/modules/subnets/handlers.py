"""Subnet message handlers: pure functions of (state, sender, message, height).

A handler raises a ModernTensorError before or after writing; execution.py runs messages in a
branch that is dropped on failure, so a rejected message changes nothing.

Windows: subnet ``n`` runs its epoch at the end of every block with
``(height + n + 1) % (tempo + 1) == 0``. The blocks after one epoch up to and including the
next epoch's block form one window, numbered ``(height + n) // (tempo + 1)``. A commit made in
window w is revealed in window w + 1 and expires when that window's epoch has run.
"""

from __future__ import annotations

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
from ...types import Event
from ..bank.state import credit, debit, get_supply, set_supply
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
from .params import Hyperparams
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
    get_params,
    get_subnet,
    lock_cost,
    neurons,
    remember_lock,
    set_commit,
    set_hyperparams,
    set_neuron,
    set_subnet,
    set_uid,
    set_weights_row,
    stake_of,
    uid_of,
)


def window(netuid: int, tempo: int, height: int) -> int:
    return (height + netuid) // (tempo + 1)


def is_epoch_block(netuid: int, tempo: int, height: int) -> bool:
    return (height + netuid + 1) % (tempo + 1) == 0


def next_epoch_height(netuid: int, tempo: int, height: int) -> int:
    """The first block at or after ``height`` whose end runs the subnet's epoch."""
    return height + (-(height + netuid + 1)) % (tempo + 1)


def _burn(state: Overlay, payer: bytes, amount: int) -> None:
    if amount:
        debit(state, payer, amount)
        set_supply(state, get_supply(state) - amount)


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
    state: Overlay, sender: bytes, msg: MsgRegisterSubnet, height: int
) -> list[Event]:
    params = get_params(state)
    taken = {s.netuid for s in all_subnets(state)}
    free = [n for n in range(1, params.max_subnets + 1) if n not in taken]
    if not free:
        raise SubnetLimitReached(f"{params.max_subnets} subnets exist (max_subnets)")
    cost = lock_cost(state, params, height)
    _burn(state, sender, cost)
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
    return [Event.of("register_subnet", netuid=subnet.netuid, owner=to_bech32(sender), lock=cost)]


def apply_set_hyperparams(
    state: Overlay, sender: bytes, msg: MsgSetSubnetHyperparams
) -> list[Event]:
    subnet = _subnet(state, msg.netuid)
    if subnet.owner != sender:
        raise NotSubnetOwner(f"subnet {msg.netuid} is owned by {to_bech32(subnet.owner)}")
    old = get_hyperparams(state, msg.netuid)
    changes = dict(zip(msg.names, msg.values, strict=True))
    hp = Hyperparams(**{**old.to_dict(), **changes})
    hp.validate()
    hp.check_bounds(get_params(state))
    if hp.max_allowed_uids < subnet.n:
        raise InvalidHyperparams(
            f"max_allowed_uids {hp.max_allowed_uids} is below the {subnet.n} registered neurons"
        )
    set_hyperparams(state, msg.netuid, hp)
    set_subnet(state, subnet.with_(burn=min(max(subnet.burn, hp.min_burn), hp.max_burn)))
    attrs = {k: changes[k] for k in sorted(changes)}
    return [Event.of("set_subnet_hyperparams", netuid=msg.netuid, **attrs)]


def prune_candidate(nodes: list[Neuron], hp: Hyperparams, height: int) -> Neuron | None:
    """The neuron a registration into a full subnet replaces: the lowest last-epoch emission
    among those past their immunity period; ties go to the older registration, then the lower
    uid. None when every neuron is still immune."""
    mortal = [n for n in nodes if height - n.registered_at >= hp.immunity_period]
    if not mortal:
        return None
    return min(mortal, key=lambda n: (n.emission, n.registered_at, n.uid))


def apply_register_neuron(
    state: Overlay, sender: bytes, msg: MsgRegisterNeuron, height: int
) -> list[Event]:
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
    _burn(state, sender, subnet.burn)
    set_neuron(state, msg.netuid, Neuron(uid, sender, registered_at=height, last_update=height))
    set_uid(state, msg.netuid, sender, uid)
    set_subnet(state, subnet.with_(registrations=subnet.registrations + 1))
    return [
        Event.of(
            "register_neuron",
            netuid=msg.netuid,
            uid=uid,
            hotkey=to_bech32(sender),
            burn=subnet.burn,
            pruned=pruned,
        )
    ]


def apply_serve_axon(state: Overlay, sender: bytes, msg: MsgServeAxon) -> list[Event]:
    _subnet(state, msg.netuid)
    neuron = _neuron(state, msg.netuid, sender)
    axon = Axon(msg.ip, msg.port, msg.protocol, msg.version)
    set_neuron(state, msg.netuid, neuron.with_(axon=axon))
    return [Event.of("serve_axon", netuid=msg.netuid, uid=neuron.uid, ip=msg.ip, port=msg.port)]


def apply_add_stake(state: Overlay, sender: bytes, msg: MsgAddSubnetStake) -> list[Event]:
    _subnet(state, msg.netuid)
    _neuron(state, msg.netuid, msg.hotkey)
    debit(state, sender, msg.amount)
    credit(state, SUBNET_STAKE_POOL, msg.amount)
    change_stake(state, sender, msg.netuid, msg.hotkey, msg.amount)
    return [
        Event.of(
            "add_subnet_stake",
            netuid=msg.netuid,
            staker=to_bech32(sender),
            hotkey=to_bech32(msg.hotkey),
            amount=msg.amount,
        )
    ]


def apply_remove_stake(state: Overlay, sender: bytes, msg: MsgRemoveSubnetStake) -> list[Event]:
    _subnet(state, msg.netuid)
    mine = stake_of(state, sender, msg.netuid, msg.hotkey)
    if mine < msg.amount:
        raise InsufficientSubnetStake(
            f"{to_bech32(sender)} has {mine} staked on {to_bech32(msg.hotkey)}, not {msg.amount}"
        )
    change_stake(state, sender, msg.netuid, msg.hotkey, -msg.amount)
    debit(state, SUBNET_STAKE_POOL, msg.amount)
    credit(state, sender, msg.amount)
    return [
        Event.of(
            "remove_subnet_stake",
            netuid=msg.netuid,
            staker=to_bech32(sender),
            hotkey=to_bech32(msg.hotkey),
            amount=msg.amount,
        )
    ]


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


def apply_set_weights(
    state: Overlay, sender: bytes, msg: MsgSetWeights, height: int
) -> list[Event]:
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
    return [Event.of("set_weights", netuid=msg.netuid, uid=neuron.uid, count=len(row))]


def apply_commit_weights(
    state: Overlay, sender: bytes, msg: MsgCommitWeights, height: int
) -> list[Event]:
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
    return [
        Event.of(
            "commit_weights",
            netuid=msg.netuid,
            uid=neuron.uid,
            reveal_from=reveal_from,
            reveal_until=next_epoch_height(msg.netuid, hp.tempo, reveal_from),
        )
    ]


def apply_reveal_weights(
    state: Overlay, sender: bytes, msg: MsgRevealWeights, height: int
) -> list[Event]:
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
    return [Event.of("reveal_weights", netuid=msg.netuid, uid=neuron.uid, count=len(row))]
