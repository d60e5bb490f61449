"""Subnet message handlers: pure functions ``(state, sender, msg, ctx) -> None``.

The sender of a neuron message is the neuron's hotkey; the sender of a stake message is the
staker, Bittensor's coldkey (the account whose tokens are staked). Events keep the attribute
name ``staker`` they have always had.

A handler raises a ModernTensorError before or after writing; execution.py runs messages in a
branch that is dropped on failure, so a rejected message changes nothing.

The epoch schedule and the commit-reveal windows are in schedule.py, what registering costs in
pricing.py.

Rules an attacker cannot game (issue 14): a registration never burns more than the ``max_cost``
its sender signed (subtensor ``register_limit``) and is capped per block and per interval
(subtensor ``MaxRegistrationsPerBlock``, ``TargetRegistrationsPerInterval`` x 3); an owner's
change of hyperparameters takes effect from the next block (end-block applies it), so no tx
meets a price, window, version or cap it could not have seen. A commit keeps
the reveal window it was given, a second one waits for the first to be revealed or to expire,
and a revealed weight counts only for uids registered before the commit (subtensor PR 1789).
Yuma weighs a hotkey by the lowest stake it held since the last epoch (state.stake_floor;
subtensor PR 737), so stake added in an epoch block and removed after it captures nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...address import to_bech32
from ...errors import (
    AlreadyRegistered,
    CommitPending,
    CommitRevealMismatch,
    InsufficientSubnetStake,
    InvalidHyperparams,
    InvalidWeights,
    NotRegistered,
    NotSubnetOwner,
    NoValidatorPermit,
    NoWeightsCommit,
    PriceAboveMax,
    RegistrationLimitReached,
    RevealMismatch,
    RevealOutOfWindow,
    SubnetFull,
    SubnetLimitReached,
    UnknownSubnet,
    WeightsRateLimited,
    WeightsVersionTooLow,
)
from ...state.overlay import Overlay
from ...types import EventSink
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
from .pricing import lock_cost, remember_lock
from .schedule import reveal_window
from .state import (
    SUBNET_STAKE_POOL,
    Axon,
    Neuron,
    Subnet,
    WeightsCommit,
    all_subnets,
    change_stake,
    clear_uid_rows,
    delete_commit,
    delete_uid,
    get_commit,
    get_hyperparams,
    get_neuron,
    get_next_hyperparams,
    get_subnet,
    neurons,
    set_commit,
    set_hyperparams,
    set_neuron,
    set_next_hyperparams,
    set_stake_floor,
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
    burning the current lock cost (pricing.lock_cost; subtensor ``register_network``) if it is
    at most ``msg.max_cost`` (subtensor ``register_limit``): the lock doubles with each
    registration, so a second one in the same block costs twice what its sender saw.

    Preconditions: ``msg`` validated (max_cost > 0).
    Writes: sender's balance and the supply (burn), the lock memory, the subnet record (burn at
    the default ``min_burn``) and its default hyperparameters.
    Events: ``register_subnet(netuid, owner, lock)``.

    Raises:
        SubnetLimitReached: ``max_subnets`` subnets exist.
        PriceAboveMax: the lock cost is above ``msg.max_cost`` (the log gives both).
        InsufficientFunds: the sender cannot pay the lock cost.
    """
    params = ctx.params_of(SubnetParams)
    height = ctx.height
    taken = {s.netuid for s in all_subnets(state)}
    free = [n for n in range(1, params.max_subnets + 1) if n not in taken]
    if not free:
        raise SubnetLimitReached(f"{params.max_subnets} subnets exist (max_subnets)")
    cost = lock_cost(state, params, height)
    if cost > msg.max_cost:
        raise PriceAboveMax(f"the lock cost is {cost}, above max_cost {msg.max_cost}")
    burn(state, sender, cost, "subnet_lock")
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
    """Set the named hyperparameters of subnet ``msg.netuid`` (owner only), from the next
    block on; the change is validated as a whole. Until the end of this block every tx still
    meets the hyperparameters it was signed against (subnets' end-block applies the change,
    :func:`.endblock.apply_next_hyperparams`): a registrant never pays a burn, a committer never
    gets a reveal window (tempo), a revealer never meets a weights_version, that it could not
    have seen, and no cap is raised under the block's own registrations. A second change in
    the same block builds on the first.

    Preconditions: ``msg`` validated (known names, each once, one value per name).
    Writes: the hyperparameters for the next block.
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
    old = get_next_hyperparams(state, msg.netuid) or get_hyperparams(state, msg.netuid)
    changes = dict(zip(msg.names, msg.values, strict=True))
    hp = Hyperparams(**{**old.to_dict(), **changes})
    hp.validate()
    hp.check_bounds(ctx.params_of(SubnetParams))
    if hp.max_allowed_uids < subnet.n:
        raise InvalidHyperparams(
            f"max_allowed_uids {hp.max_allowed_uids} is below the {subnet.n} registered neurons"
        )
    set_next_hyperparams(state, msg.netuid, hp)
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


def _check_registration_caps(subnet: Subnet, hp: Hyperparams, height: int) -> None:
    """subtensor ``TooManyRegistrationsThisBlock`` / ``TooManyRegistrationsThisInterval``."""
    this_block = subnet.block_registrations if subnet.last_registration_block == height else 0
    if this_block >= hp.max_registrations_per_block:
        raise RegistrationLimitReached(
            f"subnet {subnet.netuid} takes {hp.max_registrations_per_block} registration(s) per "
            f"block (max_registrations_per_block): retry from height {height + 1}"
        )
    cap = 3 * hp.target_registrations_per_interval
    if subnet.registrations >= cap:
        raise RegistrationLimitReached(
            f"subnet {subnet.netuid} took {cap} registrations since height "
            f"{subnet.last_adjustment} (3 x target_registrations_per_interval): the next "
            f"interval starts at height {subnet.last_adjustment + hp.adjustment_interval}"
        )


def apply_register_neuron(
    state: Overlay, sender: bytes, msg: MsgRegisterNeuron, ctx: ChainContext
) -> None:
    """Register ``sender`` as a hotkey on subnet ``msg.netuid``, burning the subnet's current
    burn if it is at most ``msg.max_cost`` (subtensor ``burned_register`` with
    ``register_limit``'s price limit). At most ``max_registrations_per_block`` per block and
    3 x ``target_registrations_per_interval`` per adjustment interval are accepted (subtensor
    ``MaxRegistrationsPerBlock``, ``TargetRegistrationsPerInterval``), so one block cannot
    replace a whole subnet. A full subnet replaces :func:`prune_candidate`; the pruned uid's
    weights, bonds and commit go with it.

    Preconditions: ``msg`` validated (max_cost > 0).
    Writes: sender's balance and the supply (burn), the neuron and hotkey index (and the pruned
    ones'), the pruned hotkey's stake floor (dropped: a hotkey registers with none, so stake
    left on it weighs in Yuma only from the epoch after the next), the subnet (size,
    registrations counted per block and per interval).
    Events: ``register_neuron(netuid, uid, hotkey, burn, pruned)`` (pruned: "" or a hotkey).

    Raises:
        UnknownSubnet: no such netuid.
        AlreadyRegistered: ``sender`` already has a uid there.
        RegistrationLimitReached: the block's or the interval's registrations are used up.
        PriceAboveMax: the burn is above ``msg.max_cost``.
        SubnetFull: the subnet is full and every neuron is within its immunity period.
        InsufficientFunds: the sender cannot pay the burn.
    """
    height = ctx.height
    subnet = _subnet(state, msg.netuid)
    if uid_of(state, msg.netuid, sender) is not None:
        raise AlreadyRegistered(f"{to_bech32(sender)} on subnet {msg.netuid}")
    hp = get_hyperparams(state, msg.netuid)
    _check_registration_caps(subnet, hp, height)
    if subnet.burn > msg.max_cost:
        raise PriceAboveMax(
            f"subnet {msg.netuid}'s registration burn is {subnet.burn}, above max_cost "
            f"{msg.max_cost}"
        )
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
        set_stake_floor(state, msg.netuid, victim.hotkey, 0)
    burn(state, sender, subnet.burn, "registration")
    set_neuron(state, msg.netuid, Neuron(uid, sender, registered_at=height, last_update=height))
    set_uid(state, msg.netuid, sender, uid)
    this_block = subnet.block_registrations if subnet.last_registration_block == height else 0
    set_subnet(
        state,
        subnet.with_(
            registrations=subnet.registrations + 1,
            block_registrations=this_block + 1,
            last_registration_block=height,
        ),
    )
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
    hotkey's weight in Yuma consensus from the epoch after the next one (an epoch weighs the
    stake that stayed since the previous epoch: state.stake_floor, subtensor PR 737), so
    stake added for one epoch block and removed after it earns nothing of that epoch.

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

    Writes: the coldkey's part, the hotkey's and the subnet's totals (and its stake floor when
    the stake falls below it), the stake pool, sender's balance.
    Events: ``remove_subnet_stake(netuid, staker, hotkey, amount)``.

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
            f"uid {neuron.uid} of subnet {netuid} has no validator permit: stake on the hotkey; "
            "an epoch weighs stake that stayed since the previous one, so the second epoch "
            "after the stake grants the permit"
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


def expire_commit(state: Overlay, netuid: int, neuron: Neuron, events: EventSink) -> Neuron:
    """Drop ``neuron``'s unrevealed commit whose window is over and count it against the
    validator (``missed_reveals``; its old weights stay); return the updated neuron (written by
    the caller). Event: ``commit_expired(netuid, uid, hotkey)``."""
    delete_commit(state, netuid, neuron.uid)
    events.emit("commit_expired", netuid=netuid, uid=neuron.uid, hotkey=to_bech32(neuron.hotkey))
    return neuron.with_(missed_reveals=neuron.missed_reveals + 1)


def apply_commit_weights(
    state: Overlay, sender: bytes, msg: MsgCommitWeights, ctx: ChainContext
) -> None:
    """Commit the hash of ``sender``'s next weights on subnet ``msg.netuid`` (commit_reveal =
    1; subtensor ``commit_weights``). The commit keeps the reveal window of schedule.py's
    :func:`reveal_window` at this height, whatever the tempo becomes. A commit while the last
    one is unrevealed and its window not over is refused: it neither replaces nor stacks (the
    validator reveals first); one whose window is over but the epoch has not dropped yet counts
    as missed now.

    Writes: the commit (hash, height, reveal window); the neuron's ``last_weights_tx`` (and
    ``missed_reveals`` for an expired commit it replaces).
    Events: ``commit_expired`` (for such a commit), then
    ``commit_weights(netuid, uid, reveal_from, reveal_until)`` (heights).

    Raises:
        UnknownSubnet: no such netuid.
        NotRegistered: ``sender`` has no uid there.
        CommitRevealMismatch: the subnet has commit-reveal off.
        CommitPending: an unrevealed commit's window is still open (the log gives it).
        WeightsRateLimited: within ``weights_rate_limit`` blocks of its last weights.
    """
    height = ctx.height
    _subnet(state, msg.netuid)
    neuron = _neuron(state, msg.netuid, sender)
    hp = get_hyperparams(state, msg.netuid)
    if not hp.commit_reveal:
        raise CommitRevealMismatch(f"subnet {msg.netuid} has commit-reveal off: use set_weights")
    _check_permit(neuron, msg.netuid)
    pending = get_commit(state, msg.netuid, neuron.uid)
    if pending is not None and height <= pending.reveal_until:
        raise CommitPending(
            f"uid {neuron.uid} committed at height {pending.height}: reveal it at heights "
            f"{pending.reveal_from}..{pending.reveal_until} before committing again"
        )
    _check_rate(neuron, hp, height)
    if pending is not None:
        neuron = expire_commit(state, msg.netuid, neuron, ctx.events)
    reveal_from, reveal_until = reveal_window(msg.netuid, hp.tempo, height)
    commit = WeightsCommit(msg.commit_hash, height, reveal_from, reveal_until)
    set_commit(state, msg.netuid, neuron.uid, commit)
    set_neuron(state, msg.netuid, neuron.with_(last_weights_tx=height))
    ctx.events.emit(
        "commit_weights",
        netuid=msg.netuid,
        uid=neuron.uid,
        reveal_from=reveal_from,
        reveal_until=reveal_until,
    )


def apply_reveal_weights(
    state: Overlay, sender: bytes, msg: MsgRevealWeights, ctx: ChainContext
) -> None:
    """Reveal the weights ``sender`` committed on subnet ``msg.netuid``, within the window the
    commit was given; they become its row (subtensor ``reveal_weights``). A weight on a uid
    registered at or after the commit's height is dropped: that slot changed hands since the
    validator chose its weights (subtensor PR 1789, commit-reveal weight inheritance).

    Preconditions: ``msg`` validated (as for set_weights; a salt of 16 to 64 bytes).
    Writes: the weight row, the commit (deleted), the neuron's ``last_update``.
    Events: ``reveal_weights(netuid, uid, count, dropped)``.

    Raises:
        UnknownSubnet: no such netuid.
        NotRegistered: ``sender`` has no uid there.
        CommitRevealMismatch: the subnet has commit-reveal off.
        NoWeightsCommit: no pending commit.
        RevealOutOfWindow: before or after the commit's reveal window (the log gives it).
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
    if height < commit.reveal_from:
        raise RevealOutOfWindow(
            f"too early: reveal at heights {commit.reveal_from}..{commit.reveal_until}"
        )
    if height > commit.reveal_until:
        raise RevealOutOfWindow(
            f"the commit expired: its window was heights {commit.reveal_from}.."
            f"{commit.reveal_until}"
        )
    expected = commit_hash(sender, msg.netuid, msg.uids, msg.weights, msg.salt, msg.version_key)
    if expected != commit.digest:
        raise RevealMismatch("uids, weights, salt or version_key differ from the commit")
    _check_permit(neuron, msg.netuid)
    _check_version(hp, msg.version_key)
    row = _row(subnet, msg.uids, msg.weights)
    kept = tuple((u, w) for u, w in row if _registered_at(state, msg.netuid, u) < commit.height)
    set_weights_row(state, msg.netuid, neuron.uid, kept)
    delete_commit(state, msg.netuid, neuron.uid)
    set_neuron(state, msg.netuid, neuron.with_(last_update=height))
    ctx.events.emit(
        "reveal_weights",
        netuid=msg.netuid,
        uid=neuron.uid,
        count=len(kept),
        dropped=len(row) - len(kept),
    )


def _registered_at(state: Overlay, netuid: int, uid: int) -> int:
    neuron = get_neuron(state, netuid, uid)
    if neuron is None:  # pragma: no cover - _row checked that the uid exists
        raise InvalidWeights(f"uid {uid} does not exist")
    return neuron.registered_at
