"""Subnets in genesis: ``app_state.subnets = {"params": {...}, "records": [[key, value], ...]}``.

``params`` are the chain-wide subnet params. ``records`` is what genesis export writes for a
chain that already has subnets: every subnets-module record as hex key and hex value, restored
byte for byte so the imported chain has the same app hash. Each record is decoded by its kind
on parse, and the module pools must match the records (see :func:`check_pools`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from ...address import to_bech32
from ...codec import U64_MAX, decode_u64
from ...errors import InvalidGenesis, InvalidHyperparams
from ...schema import INT64_MAX, check_object
from ...state.keys import (
    BONDS,
    COMMIT,
    EPOCH_DUE,
    HOTKEY_STAKE,
    HOTKEY_UID,
    HYPERPARAMS,
    NEURON,
    STAKE_BY,
    STAKE_FLOOR,
    SUBNET,
    SUBNET_LOCK,
    WEIGHTS,
)
from ...state.overlay import KVReader, Overlay
from .params import Hyperparams, SubnetParams
from .state import (
    SUBNET_EMISSION_POOL,
    SUBNET_STAKE_POOL,
    Neuron,
    Subnet,
    WeightsCommit,
    get_params,
    rebuild_position_counts,
    set_params,
    unpack_row,
)

_KINDS: tuple[bytes, ...] = (SUBNET_LOCK, SUBNET, HYPERPARAMS, NEURON, HOTKEY_UID, WEIGHTS)
_KINDS += (BONDS, COMMIT, HOTKEY_STAKE, STAKE_BY, STAKE_FLOOR, EPOCH_DUE)


@dataclass(frozen=True)
class SubnetsGenesis:
    """Subnets' genesis section: chain-wide params and every record (after an export)."""

    params: SubnetParams = field(default_factory=SubnetParams)
    records: tuple[tuple[bytes, bytes], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params.to_dict(),
            "records": [[k.hex(), v.hex()] for k, v in self.records],
        }


def _check_numbers(record: Subnet | Neuron, where: str) -> None:
    """Every integer field of a subnet or neuron record fits its encoding: [0, U64_MAX] (a
    neuron's last_weights_tx may be -1: never), heights below 2^63 - 1."""
    for f in dataclasses.fields(record):
        v = getattr(record, f.name)
        if isinstance(v, bool) or not isinstance(v, int):
            continue
        low = -1 if f.name == "last_weights_tx" else 0
        high = INT64_MAX - 1 if f.name in _HEIGHTS else U64_MAX
        if not low <= v <= high:
            raise ValueError(f"{where}.{f.name} = {v} is outside [{low}, {high}]")


_HEIGHTS = {"registered_at", "last_adjustment", "last_epoch", "last_update", "last_weights_tx"}


_AMOUNT_KEY_TAILS = {HOTKEY_STAKE: 22, STAKE_BY: 42, STAKE_FLOOR: 22}
"""Bytes after the prefix of a stake record's key: netuid u16 and hotkey (STAKE_BY: coldkey,
netuid, hotkey), addresses of 20 bytes (state/keys.py)."""


def _check_amount_record(key: bytes, value: bytes) -> None:
    """A stake, stake position or stake floor record as the chain writes it: its key's exact
    length and an amount above 0 (change_stake and set_stake_floor delete a record that falls
    to 0; a position of 0 from a genesis would be counted as open, and its count go wrong
    when stake is added to it). Raises ValueError."""
    prefix = next(p for p in _AMOUNT_KEY_TAILS if key.startswith(p))
    if len(key) != len(prefix) + _AMOUNT_KEY_TAILS[prefix]:
        raise ValueError(
            f"a {prefix.decode()} key is its prefix and {_AMOUNT_KEY_TAILS[prefix]} bytes, "
            f"got {len(key) - len(prefix)}"
        )
    if decode_u64(value) == 0:
        raise ValueError("an amount of 0 is no record (the chain deletes it): leave it out")


def _check_record(key: bytes, value: bytes, params: SubnetParams) -> None:
    """Decode the record as its kind; raises ValueError/KeyError/TypeError when malformed,
    InvalidHyperparams when a subnet's hyperparameters break their ranges or the chain's
    bounds in ``params``."""
    if key == SUBNET_LOCK:
        json.loads(value)["last_lock"]
    elif key.startswith(SUBNET):
        _check_numbers(Subnet.decode(value), "subnet")
    elif key.startswith(HYPERPARAMS):
        hp = Hyperparams.decode(value)
        hp.validate()
        hp.check_bounds(params)
    elif key.startswith(NEURON):
        _check_numbers(Neuron.decode(value), "neuron")
    elif key.startswith((WEIGHTS, BONDS)):
        if len(value) % 4:
            raise ValueError("a sparse row is a multiple of 4 bytes")
        unpack_row(value)
    elif key.startswith(COMMIT):
        WeightsCommit.decode(value)
    elif key.startswith((HOTKEY_STAKE, STAKE_BY, STAKE_FLOOR)):
        _check_amount_record(key, value)
    elif key.startswith(EPOCH_DUE):
        decode_u64(value)
    elif key.startswith(HOTKEY_UID):
        if len(value) != 2:
            raise ValueError("a uid is 2 bytes")
    else:
        raise ValueError("not a subnets record")


def parse_genesis(raw: Any) -> SubnetsGenesis:
    """Parse ``app_state.subnets``; each record is decoded as its kind.

    Raises:
        InvalidGenesis: naming the field or record that broke a rule.
    """
    raw = check_object(raw, "subnets", {"params", "records"})
    params = SubnetParams.from_dict(raw.get("params", {}))
    records_raw = raw.get("records", [])
    if not isinstance(records_raw, list):
        raise InvalidGenesis("subnets.records must be a list")
    records = []
    for i, item in enumerate(records_raw):
        try:
            key, value = bytes.fromhex(item[0]), bytes.fromhex(item[1])
            _check_record(key, value, params)
        except (
            ValueError,
            KeyError,
            TypeError,
            IndexError,
            InvalidGenesis,
            InvalidHyperparams,
        ) as e:
            raise InvalidGenesis(f"subnets.records[{i}]: {e}") from None
        records.append((key, value))
    if len({k for k, _ in records}) != len(records):
        raise InvalidGenesis("subnets.records has a key twice")
    return SubnetsGenesis(params, tuple(sorted(records)))


def check_pools(g: SubnetsGenesis, balances: dict[bytes, int]) -> None:
    """The stake pool must hold every hotkey stake, the emission pool every pending emission.

    Raises:
        InvalidGenesis: a pool's balance differs.
    """
    stake = sum(decode_u64(v) for k, v in g.records if k.startswith(HOTKEY_STAKE))
    pending = sum(Subnet.decode(v).pending_emission for k, v in g.records if k.startswith(SUBNET))
    for pool, want, what in (
        (SUBNET_STAKE_POOL, stake, "subnet stakes"),
        (SUBNET_EMISSION_POOL, pending, "pending subnet emission"),
    ):
        if balances.get(pool, 0) != want:
            raise InvalidGenesis(
                f"{to_bech32(pool)} holds {balances.get(pool, 0)} but the {what} total {want}"
            )


def init_genesis(state: Overlay, g: SubnetsGenesis) -> None:
    """Write the chain-wide params and every record byte for byte, then the coldkeys' position
    counts those records give (derived data: never exported, always rebuilt)."""
    set_params(state, g.params)
    for key, value in g.records:
        state.set(key, value)
    rebuild_position_counts(state)


def export_genesis(state: KVReader) -> SubnetsGenesis:
    """The chain-wide params and every subnets-module record (hex key, hex value), sorted."""
    records = []
    for prefix in _KINDS:
        records += list(state.iter_prefix(prefix))
    return SubnetsGenesis(get_params(state), tuple(sorted(set(records))))
