"""Subnets in genesis: ``app_state.subnets = {"params": {...}, "records": [[key, value], ...]}``.

``params`` are the chain-wide subnet params. ``records`` is what genesis export writes for a
chain that already has subnets: every subnets-module record as hex key and hex value, restored
byte for byte so the imported chain has the same app hash. Each record is decoded by its kind
on parse, and the module pools must match the records (see :func:`check_pools`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ...address import to_bech32
from ...codec import decode_u64
from ...errors import InvalidGenesis
from ...schema import check_object
from ...state.keys import (
    BONDS,
    COMMIT,
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
    set_params,
    unpack_row,
)

_KINDS: tuple[bytes, ...] = (SUBNET_LOCK, SUBNET, HYPERPARAMS, NEURON, HOTKEY_UID, WEIGHTS)
_KINDS += (BONDS, COMMIT, HOTKEY_STAKE, STAKE_BY, STAKE_FLOOR)


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


def _check_record(key: bytes, value: bytes) -> None:
    """Decode the record as its kind; raises ValueError/KeyError/TypeError when malformed."""
    if key == SUBNET_LOCK:
        json.loads(value)["last_lock"]
    elif key.startswith(SUBNET):
        Subnet.decode(value)
    elif key.startswith(HYPERPARAMS):
        Hyperparams.decode(value).validate()
    elif key.startswith(NEURON):
        Neuron.decode(value)
    elif key.startswith((WEIGHTS, BONDS)):
        if len(value) % 4:
            raise ValueError("a sparse row is a multiple of 4 bytes")
        unpack_row(value)
    elif key.startswith(COMMIT):
        WeightsCommit.decode(value)
    elif key.startswith((HOTKEY_STAKE, STAKE_BY, STAKE_FLOOR)):
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
            _check_record(key, value)
        except (ValueError, KeyError, TypeError, IndexError, InvalidGenesis) as e:
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
    """Write the chain-wide params and every record byte for byte."""
    set_params(state, g.params)
    for key, value in g.records:
        state.set(key, value)


def export_genesis(state: KVReader) -> SubnetsGenesis:
    """The chain-wide params and every subnets-module record (hex key, hex value), sorted."""
    records = []
    for prefix in _KINDS:
        records += list(state.iter_prefix(prefix))
    return SubnetsGenesis(get_params(state), tuple(sorted(set(records))))
