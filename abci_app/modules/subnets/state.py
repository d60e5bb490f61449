"""Subnet records and their typed accessors.

* subnet: canonical JSON per netuid (owner, burn, pending emission, total stake, ...);
  hyperparams in their own record so an owner's change rewrites only that.
* neuron: canonical JSON per (netuid, uid): hotkey, registration, axon and the last epoch's
  outputs (the metagraph); subnet/uid/ indexes uids by hotkey.
* weights and bonds: compact sparse rows, one per validator uid, packed as big-endian
  (uid u16, value u16) pairs in ascending uid order (4 bytes per entry; a 256-wide row is 1 KiB).
* stake: per (netuid, hotkey) the total, and per (coldkey, netuid, hotkey) each coldkey's part
  (the coldkey is the staking account, as Bittensor calls it), so an account's positions are
  one prefix scan. The tokens sit in SUBNET_STAKE_POOL. Per (netuid, registered hotkey) also
  the stake floor: the lowest stake the hotkey held since the subnet's last epoch, which is
  what Yuma weighs it by (see :func:`stake_floor`).
* emission accrued to a subnet waits in SUBNET_EMISSION_POOL until its epoch pays it out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from ...address import to_bech32
from ...codec import canonical_json, decode_u64, encode_u64
from ...state.keys import (
    BONDS,
    COMMIT,
    EPOCH_DUE,
    HOTKEY_STAKE,
    HOTKEY_UID,
    HYPERPARAMS,
    NEURON,
    NEXT_HYPERPARAMS,
    STAKE_BY,
    STAKE_COUNT,
    STAKE_FLOOR,
    SUBNET,
    SUBNET_PARAMS,
    WEIGHTS,
    netuid_bytes,
    uid_key,
)
from ...state.overlay import KVReader, Overlay
from ..bank.module_accounts import module_account
from .epoch import Row
from .params import Hyperparams, SubnetParams

SUBNET_STAKE_POOL = module_account("subnet_stake")
"""Holds every token staked on subnet hotkeys: its balance equals the sum of subnet stakes."""
SUBNET_EMISSION_POOL = module_account("subnet_emission", burner=True)
"""Holds emission accrued to subnets and not yet paid by an epoch."""


@dataclass(frozen=True)
class Subnet:
    """A subnet record: owner, the lock it burned, the current registration ``burn`` and
    its adjustment counters, emission waiting for the epoch, total stake, neuron count, epochs.
    """

    netuid: int
    owner: bytes
    registered_at: int
    lock: int  # what registering it burned
    burn: int  # current neuron registration burn
    registrations: int = 0  # registrations since the last burn adjustment
    last_adjustment: int = 0
    pending_emission: int = 0
    total_stake: int = 0
    n: int = 0  # uids in use (0..n-1)
    last_epoch: int = 0
    epochs: int = 0
    block_registrations: int = 0  # registrations in block ``last_registration_block``
    last_registration_block: int = 0

    def with_(self, **changes: Any) -> Subnet:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"owner": to_bech32(self.owner), **self._fields()}

    def encode(self) -> bytes:
        """Stored form: addresses as hex (decoding bech32 for every record of every block
        would dominate the subnets' end-block)."""
        return canonical_json({"owner": self.owner.hex(), **self._fields()})

    @classmethod
    def decode(cls, data: bytes) -> Subnet:
        d = json.loads(data)
        return cls._build(d, bytes.fromhex(d["owner"]))

    def _fields(self) -> dict[str, Any]:
        return {
            "netuid": self.netuid,
            "registered_at": self.registered_at,
            "lock": str(self.lock),
            "burn": str(self.burn),
            "registrations": self.registrations,
            "last_adjustment": self.last_adjustment,
            "pending_emission": str(self.pending_emission),
            "total_stake": str(self.total_stake),
            "n": self.n,
            "last_epoch": self.last_epoch,
            "epochs": self.epochs,
            "block_registrations": self.block_registrations,
            "last_registration_block": self.last_registration_block,
        }

    @classmethod
    def _build(cls, d: dict[str, Any], owner: bytes) -> Subnet:
        return cls(
            netuid=int(d["netuid"]),
            owner=owner,
            registered_at=int(d["registered_at"]),
            lock=int(d["lock"]),
            burn=int(d["burn"]),
            registrations=int(d["registrations"]),
            last_adjustment=int(d["last_adjustment"]),
            pending_emission=int(d["pending_emission"]),
            total_stake=int(d["total_stake"]),
            n=int(d["n"]),
            last_epoch=int(d["last_epoch"]),
            epochs=int(d["epochs"]),
            block_registrations=int(d["block_registrations"]),
            last_registration_block=int(d["last_registration_block"]),
        )


@dataclass(frozen=True)
class Axon:
    """A neuron's published endpoint."""

    ip: str = ""
    port: int = 0
    protocol: int = 0
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ip": self.ip,
            "port": self.port,
            "protocol": self.protocol,
            "version": self.version,
        }


@dataclass(frozen=True)
class Neuron:
    """A neuron: hotkey, registration and last weights heights, axon, and its last
    epoch's outputs (u16 fractions, 65535 = 1.0; ``emission`` in base units) — the metagraph row.
    """

    uid: int
    hotkey: bytes
    registered_at: int
    last_update: int
    axon: Axon = Axon()
    active: bool = True
    validator_permit: bool = False
    rank: int = 0
    trust: int = 0
    validator_trust: int = 0
    consensus: int = 0
    incentive: int = 0
    dividends: int = 0
    emission: int = 0  # base units earned in the last epoch (miner + validator part)
    missed_reveals: int = 0
    last_weights_tx: int = -1  # height of the last set_weights or commit_weights (rate limit)

    def with_(self, **changes: Any) -> Neuron:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"hotkey": to_bech32(self.hotkey), **self._fields()}

    def encode(self) -> bytes:
        """Stored form: the hotkey as hex (see Subnet.encode)."""
        return canonical_json({"hotkey": self.hotkey.hex(), **self._fields()})

    @classmethod
    def decode(cls, data: bytes) -> Neuron:
        d = json.loads(data)
        return cls._build(d, bytes.fromhex(d["hotkey"]))

    def _fields(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "registered_at": self.registered_at,
            "last_update": self.last_update,
            "axon": self.axon.to_dict(),
            "active": self.active,
            "validator_permit": self.validator_permit,
            "rank": self.rank,
            "trust": self.trust,
            "validator_trust": self.validator_trust,
            "consensus": self.consensus,
            "incentive": self.incentive,
            "dividends": self.dividends,
            "emission": str(self.emission),
            "missed_reveals": self.missed_reveals,
            "last_weights_tx": self.last_weights_tx,
        }

    @classmethod
    def _build(cls, d: dict[str, Any], hotkey: bytes) -> Neuron:
        return cls(
            uid=int(d["uid"]),
            hotkey=hotkey,
            registered_at=int(d["registered_at"]),
            last_update=int(d["last_update"]),
            axon=Axon(**d["axon"]),
            active=bool(d["active"]),
            validator_permit=bool(d["validator_permit"]),
            rank=int(d["rank"]),
            trust=int(d["trust"]),
            validator_trust=int(d["validator_trust"]),
            consensus=int(d["consensus"]),
            incentive=int(d["incentive"]),
            dividends=int(d["dividends"]),
            emission=int(d["emission"]),
            missed_reveals=int(d["missed_reveals"]),
            last_weights_tx=int(d["last_weights_tx"]),
        )


# --- params -------------------------------------------------------------------------------
def get_params(state: KVReader) -> SubnetParams:
    """The chain-wide subnet params as stored (defaults before genesis writes them)."""
    raw = state.get(SUBNET_PARAMS)
    return SubnetParams() if raw is None else SubnetParams.decode(raw)


def set_params(state: Overlay, params: SubnetParams) -> None:
    """Store the chain-wide subnet params (genesis only)."""
    state.set(SUBNET_PARAMS, params.encode())


# --- subnets --------------------------------------------------------------------------------
def get_subnet(state: KVReader, netuid: int) -> Subnet | None:
    """The subnet ``netuid``, or None."""
    raw = state.get(SUBNET + netuid_bytes(netuid))
    return None if raw is None else Subnet.decode(raw)


def set_subnet(state: Overlay, subnet: Subnet) -> None:
    """Write a subnet record."""
    state.set(SUBNET + netuid_bytes(subnet.netuid), subnet.encode())


def all_subnets(state: KVReader) -> list[Subnet]:
    """Every subnet, by ascending netuid."""
    return [Subnet.decode(v) for _, v in state.iter_prefix(SUBNET)]


def get_hyperparams(state: KVReader, netuid: int) -> Hyperparams:
    """The subnet's hyperparameters (defaults if none stored)."""
    raw = state.get(HYPERPARAMS + netuid_bytes(netuid))
    return Hyperparams() if raw is None else Hyperparams.decode(raw)


def set_hyperparams(state: Overlay, netuid: int, hp: Hyperparams) -> None:
    """Write the subnet's hyperparameters."""
    state.set(HYPERPARAMS + netuid_bytes(netuid), hp.encode())


def get_next_hyperparams(state: KVReader, netuid: int) -> Hyperparams | None:
    """The hyperparameters an owner set in this block, in force from the next one (None when
    the owner changed nothing in this block)."""
    raw = state.get(NEXT_HYPERPARAMS + netuid_bytes(netuid))
    return None if raw is None else Hyperparams.decode(raw)


def set_next_hyperparams(state: Overlay, netuid: int, hp: Hyperparams | None) -> None:
    """Write (None: drop) the hyperparameters that take effect from the next block."""
    key = NEXT_HYPERPARAMS + netuid_bytes(netuid)
    if hp is None:
        state.delete(key)
    else:
        state.set(key, hp.encode())


def any_next_hyperparams(state: KVReader) -> bool:
    """Whether a change of hyperparameters is still waiting (never, once end-block has run)."""
    return any(True for _ in state.iter_prefix(NEXT_HYPERPARAMS))


# --- neurons --------------------------------------------------------------------------------
def get_neuron(state: KVReader, netuid: int, uid: int) -> Neuron | None:
    """The neuron at ``uid`` of subnet ``netuid``, or None."""
    raw = state.get(uid_key(NEURON, netuid, uid))
    return None if raw is None else Neuron.decode(raw)


def set_neuron(state: Overlay, netuid: int, neuron: Neuron) -> None:
    """Write a neuron record."""
    state.set(uid_key(NEURON, netuid, neuron.uid), neuron.encode())


def neurons(state: KVReader, netuid: int) -> list[Neuron]:
    """The subnet's neurons by ascending uid."""
    return [Neuron.decode(v) for _, v in state.iter_prefix(NEURON + netuid_bytes(netuid))]


def uid_of(state: KVReader, netuid: int, hotkey: bytes) -> int | None:
    """The uid ``hotkey`` holds on subnet ``netuid``, or None."""
    raw = state.get(HOTKEY_UID + netuid_bytes(netuid) + hotkey)
    return None if raw is None else int.from_bytes(raw, "big")


def set_uid(state: Overlay, netuid: int, hotkey: bytes, uid: int) -> None:
    """Index ``hotkey`` -> ``uid`` on the subnet."""
    state.set(HOTKEY_UID + netuid_bytes(netuid) + hotkey, uid.to_bytes(2, "big"))


def delete_uid(state: Overlay, netuid: int, hotkey: bytes) -> None:
    """Drop the hotkey's uid index entry (the neuron was pruned)."""
    state.delete(HOTKEY_UID + netuid_bytes(netuid) + hotkey)


# --- weights, bonds, commits ----------------------------------------------------------------
def pack_row(row: Row) -> bytes:
    """A sparse row as big-endian (uid u16, value u16) pairs."""
    return b"".join(j.to_bytes(2, "big") + v.to_bytes(2, "big") for j, v in row)


def unpack_row(data: bytes) -> Row:
    """Inverse of :func:`pack_row`."""
    return tuple(
        (int.from_bytes(data[k : k + 2], "big"), int.from_bytes(data[k + 2 : k + 4], "big"))
        for k in range(0, len(data), 4)
    )


def _rows(state: KVReader, prefix: bytes, netuid: int) -> dict[int, Row]:
    p = prefix + netuid_bytes(netuid)
    return {int.from_bytes(k[len(p) :], "big"): unpack_row(v) for k, v in state.iter_prefix(p)}


def get_weights(state: KVReader, netuid: int, uid: int) -> Row | None:
    """The weight row of validator ``uid`` (None when it set none)."""
    raw = state.get(uid_key(WEIGHTS, netuid, uid))
    return None if raw is None else unpack_row(raw)


def set_weights_row(state: Overlay, netuid: int, uid: int, row: Row) -> None:
    """Write the weight row of validator ``uid``."""
    state.set(uid_key(WEIGHTS, netuid, uid), pack_row(row))


def all_weights(state: KVReader, netuid: int) -> dict[int, Row]:
    """Every weight row of the subnet, by uid."""
    return _rows(state, WEIGHTS, netuid)


def all_bonds(state: KVReader, netuid: int) -> dict[int, Row]:
    """Every bonds row of the subnet (u16, column-normalised), by uid."""
    return _rows(state, BONDS, netuid)


def replace_bonds(state: Overlay, netuid: int, bonds: dict[int, Row]) -> None:
    """Make the subnet's bonds exactly ``bonds`` (rows not in it are deleted)."""
    for uid in sorted(all_bonds(state, netuid)):
        if uid not in bonds:
            state.delete(uid_key(BONDS, netuid, uid))
    for uid in sorted(bonds):
        state.set(uid_key(BONDS, netuid, uid), pack_row(bonds[uid]))


def clear_uid_rows(state: Overlay, netuid: int, uid: int) -> None:
    """A pruned uid's own weights, bonds and commit go with it."""
    for prefix in (WEIGHTS, BONDS, COMMIT):
        state.delete(uid_key(prefix, netuid, uid))


@dataclass(frozen=True)
class WeightsCommit:
    """An unrevealed weights commit and the reveal window fixed when it was made (subtensor
    keeps each commit's epoch and block, ``WeightCommits``: a later tempo change moves no
    pending commit)."""

    digest: bytes  # commit_hash of the weights to reveal
    height: int  # block of the commit: only uids registered before it count in the reveal
    reveal_from: int  # first block the reveal is accepted in
    reveal_until: int  # last one (its window's epoch block); after it the commit expires

    def encode(self) -> bytes:
        return (
            self.digest
            + encode_u64(self.height)
            + encode_u64(self.reveal_from)
            + encode_u64(self.reveal_until)
        )

    @classmethod
    def decode(cls, raw: bytes) -> WeightsCommit:
        if len(raw) != 56:
            raise ValueError(f"a weights commit is 56 bytes, got {len(raw)}")
        return cls(raw[:32], decode_u64(raw[32:40]), decode_u64(raw[40:48]), decode_u64(raw[48:]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "hash": self.digest.hex(),
            "height": self.height,
            "reveal_from": self.reveal_from,
            "reveal_until": self.reveal_until,
        }


def get_commit(state: KVReader, netuid: int, uid: int) -> WeightsCommit | None:
    raw = state.get(uid_key(COMMIT, netuid, uid))
    return None if raw is None else WeightsCommit.decode(raw)


def set_commit(state: Overlay, netuid: int, uid: int, commit: WeightsCommit) -> None:
    """Record uid's pending commit."""
    state.set(uid_key(COMMIT, netuid, uid), commit.encode())


def delete_commit(state: Overlay, netuid: int, uid: int) -> None:
    """Drop uid's commit (revealed, expired or pruned)."""
    state.delete(uid_key(COMMIT, netuid, uid))


def all_commits(state: KVReader, netuid: int) -> dict[int, WeightsCommit]:
    """Every pending commit of the subnet, by uid."""
    p = COMMIT + netuid_bytes(netuid)
    return {
        int.from_bytes(k[len(p) :], "big"): WeightsCommit.decode(v) for k, v in state.iter_prefix(p)
    }


# --- stake ----------------------------------------------------------------------------------
def hotkey_stake(state: KVReader, netuid: int, hotkey: bytes) -> int:
    """Total stake on ``hotkey`` of subnet ``netuid``, base units."""
    raw = state.get(HOTKEY_STAKE + netuid_bytes(netuid) + hotkey)
    return 0 if raw is None else decode_u64(raw)


def stake_of(state: KVReader, coldkey: bytes, netuid: int, hotkey: bytes) -> int:
    """``coldkey``'s stake on ``hotkey`` of subnet ``netuid``, base units."""
    raw = state.get(STAKE_BY + coldkey + netuid_bytes(netuid) + hotkey)
    return 0 if raw is None else decode_u64(raw)


def change_stake(
    state: Overlay,
    coldkey: bytes,
    netuid: int,
    hotkey: bytes,
    delta: int,
    update_subnet: bool = True,
) -> None:
    """Add (or, negative, remove) stake of ``coldkey`` on ``hotkey``; keeps the hotkey's and
    (unless the caller batches it, ``update_subnet=False``) the subnet's totals in step, and
    lowers the hotkey's stake floor when the stake falls below it (a rise leaves the floor
    alone until the next epoch). Callers move the tokens and check amounts first."""
    before = stake_of(state, coldkey, netuid, hotkey)
    mine = before + delta
    total = hotkey_stake(state, netuid, hotkey) + delta
    if mine < 0 or total < 0:
        raise ValueError("subnet stake would go negative")  # handlers check first: a bug
    key = STAKE_BY + coldkey + netuid_bytes(netuid) + hotkey
    hk = HOTKEY_STAKE + netuid_bytes(netuid) + hotkey
    if mine:
        state.set(key, encode_u64(mine))
    else:
        state.delete(key)
    if (before > 0) != (mine > 0):  # a position opened or closed: the coldkey's count
        _set_position_count(state, coldkey, positions(state, coldkey) + (1 if mine else -1))
    if total:
        state.set(hk, encode_u64(total))
    else:
        state.delete(hk)
    if delta < 0 and stake_floor(state, netuid, hotkey) > total:
        set_stake_floor(state, netuid, hotkey, total)
    subnet = get_subnet(state, netuid) if update_subnet else None
    if subnet is not None:
        set_subnet(state, subnet.with_(total_stake=subnet.total_stake + delta))


def stake_floor(state: KVReader, netuid: int, hotkey: bytes) -> int:
    """The lowest stake (base units) ``hotkey`` held on subnet ``netuid`` since the subnet's
    last epoch; 0 for a hotkey registered since then. The epoch weighs each neuron by this, not
    by its stake at the epoch block, so stake added for the epoch and removed right after
    weighs nothing: only stake that stayed from one epoch to the next counts (subtensor PR 737,
    "protect from fast stake/unstake": stake added shortly before an epoch earns nothing of
    it)."""
    raw = state.get(STAKE_FLOOR + netuid_bytes(netuid) + hotkey)
    return 0 if raw is None else decode_u64(raw)


def set_stake_floor(state: Overlay, netuid: int, hotkey: bytes, amount: int) -> None:
    """Write the hotkey's stake floor (0 deletes it): the epoch restarts every neuron's floor at
    its stake, a pruning drops it (only registered hotkeys have one, so a registration starts
    at 0)."""
    key = STAKE_FLOOR + netuid_bytes(netuid) + hotkey
    if amount:
        state.set(key, encode_u64(amount))
    else:
        state.delete(key)


def all_stake_floors(state: KVReader) -> list[tuple[int, bytes, int]]:
    """(netuid, hotkey, floor) of every hotkey with a floor above 0, in key order."""
    out = []
    for k, v in state.iter_prefix(STAKE_FLOOR):
        rest = k[len(STAKE_FLOOR) :]
        out.append((int.from_bytes(rest[:2], "big"), rest[2:], decode_u64(v)))
    return out


def positions(state: KVReader, coldkey: bytes) -> int:
    """How many stake positions ``coldkey`` holds (kept by :func:`change_stake`): the total
    of the paginated ``/subnet_stake`` answer."""
    raw = state.get(STAKE_COUNT + coldkey)
    return 0 if raw is None else decode_u64(raw)


def _set_position_count(state: Overlay, coldkey: bytes, n: int) -> None:
    if n < 0:  # pragma: no cover - change_stake only closes what is open
        raise ValueError("a position count would go negative")
    if n:
        state.set(STAKE_COUNT + coldkey, encode_u64(n))
    else:
        state.delete(STAKE_COUNT + coldkey)


def position_counts_from_records(state: KVReader) -> dict[bytes, int]:
    """{coldkey: positions} from the STAKE_BY records (O(positions): migration, invariant)."""
    counts: dict[bytes, int] = {}
    for coldkey, _, _, _ in all_stake_entries(state):
        counts[coldkey] = counts.get(coldkey, 0) + 1
    return counts


def rebuild_position_counts(state: Overlay) -> int:
    """Make the position counts equal the records (a migration); returns how many coldkeys."""
    for k, _ in list(state.iter_prefix(STAKE_COUNT)):
        state.delete(k)
    counts = position_counts_from_records(state)
    for coldkey in sorted(counts):
        _set_position_count(state, coldkey, counts[coldkey])
    return len(counts)


def stakes_by(state: KVReader, coldkey: bytes) -> list[tuple[int, bytes, int]]:
    """(netuid, hotkey, amount) of every position of ``coldkey``."""
    p = STAKE_BY + coldkey
    out = []
    for k, v in state.iter_prefix(p):
        rest = k[len(p) :]
        out.append((int.from_bytes(rest[:2], "big"), rest[2:], decode_u64(v)))
    return out


def all_hotkey_stakes(state: KVReader) -> list[tuple[int, bytes, int]]:
    """(netuid, hotkey, total) of every staked hotkey, in key order."""
    out = []
    for k, v in state.iter_prefix(HOTKEY_STAKE):
        rest = k[len(HOTKEY_STAKE) :]
        out.append((int.from_bytes(rest[:2], "big"), rest[2:], decode_u64(v)))
    return out


def all_stake_entries(state: KVReader) -> list[tuple[bytes, int, bytes, int]]:
    """(coldkey, netuid, hotkey, amount) of every position."""
    out = []
    for k, v in state.iter_prefix(STAKE_BY):
        rest = k[len(STAKE_BY) :]
        out.append((rest[:20], int.from_bytes(rest[20:22], "big"), rest[22:], decode_u64(v)))
    return out


# --- deferred epochs --------------------------------------------------------------------------
def epoch_due_since(state: KVReader, netuid: int) -> int | None:
    """The height since which the subnet's epoch is due but was deferred by end-block's epoch
    budget (endblock.py), or None when none is waiting."""
    raw = state.get(EPOCH_DUE + netuid_bytes(netuid))
    return None if raw is None else decode_u64(raw)


def set_epoch_due(state: Overlay, netuid: int, since: int | None) -> None:
    """Record (None: clear) the height since which the subnet's deferred epoch is due."""
    key = EPOCH_DUE + netuid_bytes(netuid)
    if since is None:
        state.delete(key)
    else:
        state.set(key, encode_u64(since))
