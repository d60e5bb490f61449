"""Signing records: per validator a counter and a missed-block bitmap over the window.

Only missed blocks have a key (slash/miss/<cons><index>), so a validator that signs every block
costs one small record update per block.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from ...codec import canonical_json, decode_u64, encode_u64
from ...state.keys import BLOCK_TIME, MISSED, SIGNING_INFO, SLASH_PARAMS
from ...state.overlay import KVReader, Overlay
from .params import SlashingParams

FOREVER = 2**63 - 1


@dataclass(frozen=True)
class SigningInfo:
    """A validator's signing record over the downtime window (Cosmos ValidatorSigningInfo)."""

    start_height: int  # first block counted in the current window run
    counter: int = 0  # blocks counted since start_height (index = counter % window)
    missed: int = 0  # missed blocks in the window
    jailed_until: int = 0  # unix seconds; FOREVER once tombstoned
    tombstoned: bool = False

    def with_(self, **changes: Any) -> SigningInfo:
        return replace(self, **changes)

    def encode(self) -> bytes:
        return canonical_json(asdict(self))


def get_params(state: KVReader) -> SlashingParams:
    """Slashing's params as stored (defaults before genesis writes them)."""
    raw = state.get(SLASH_PARAMS)
    return SlashingParams() if raw is None else SlashingParams.decode(raw)


def set_params(state: Overlay, params: SlashingParams) -> None:
    """Store slashing's params (genesis only)."""
    state.set(SLASH_PARAMS, params.encode())


def get_info(state: KVReader, cons: bytes) -> SigningInfo | None:
    """The signing record of validator ``cons`` (None before its first counted vote)."""
    raw = state.get(SIGNING_INFO + cons)
    return None if raw is None else SigningInfo(**json.loads(raw))


def set_info(state: Overlay, cons: bytes, info: SigningInfo) -> None:
    """Write the signing record."""
    state.set(SIGNING_INFO + cons, info.encode())


def all_infos(state: KVReader) -> list[tuple[bytes, SigningInfo]]:
    """[(consensus address, signing record)] in key order."""
    n = len(SIGNING_INFO)
    return [(k[n:], SigningInfo(**json.loads(v))) for k, v in state.iter_prefix(SIGNING_INFO)]


def is_missed(state: KVReader, cons: bytes, index: int) -> bool:
    """Whether the validator missed the block at window index ``index``."""
    return state.get(MISSED + cons + encode_u64(index)) is not None


def set_missed(state: Overlay, cons: bytes, index: int, missed: bool) -> None:
    """Set or clear the missed bit at window index ``index`` (only set bits have a key)."""
    key = MISSED + cons + encode_u64(index)
    if missed:
        state.set(key, b"")
    else:
        state.delete(key)


def missed_indexes(state: KVReader, cons: bytes) -> list[int]:
    """The window indexes the validator missed, ascending."""
    prefix = MISSED + cons
    return [decode_u64(k[len(prefix) :]) for k, _ in state.iter_prefix(prefix)]


def clear_missed(state: Overlay, cons: bytes) -> None:
    """Clear every missed bit of the validator (a fresh window after a jail)."""
    for index in missed_indexes(state, cons):
        set_missed(state, cons, index, False)


def get_block_time(state: KVReader) -> int:
    """Unix seconds of the last finalized block (0 before block 1)."""
    raw = state.get(BLOCK_TIME)
    return 0 if raw is None else decode_u64(raw)


def set_block_time(state: Overlay, seconds: int) -> None:
    """Write the last block's time (unix seconds from its header)."""
    state.set(BLOCK_TIME, encode_u64(seconds))
