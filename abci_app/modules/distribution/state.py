"""Distribution records. The distribution pool account holds every reward not yet withdrawn.

Rewards per share: when a validator's delegators earn D tokens, its accumulator grows by
D * ACC_PRECISION // delegator_shares. A delegation's pending reward is
shares * (accumulator - start) // ACC_PRECISION, where start is the accumulator when the
delegation last changed or withdrew. Work per block is O(signers), per withdrawal O(1).

Every base unit in the pool is owed to someone: a validator's operator (its commission) or its
delegators as a whole (its outstanding rewards, Cosmos ``ValidatorOutstandingRewards``: all
that was credited to the accumulator, less what was paid out). The floor of each delegation's
share leaves dust in the outstanding rewards; when a validator's last share leaves, that dust
goes to the community pool, as do rewards no validator earned (nobody signed, rounding of the
block's split). So the pool equals commission + outstanding, exactly.
"""

from __future__ import annotations

from ...codec import decode_u64, encode_u64
from ...state.keys import (
    COMMISSION,
    MINTED,
    OUTSTANDING,
    PREV_PROPOSER,
    REWARD_ACC,
    REWARD_START,
)
from ...state.overlay import KVReader, Overlay
from ..bank.module_accounts import module_account

DISTRIBUTION_POOL = module_account("distribution", minter=True)
"""Receives the minted block reward and the collected fees; holds every reward not yet
withdrawn: exactly the validators' commission and outstanding rewards."""
ACC_PRECISION = 10**27


def _u256(raw: bytes | None) -> int:
    return 0 if raw is None else int.from_bytes(raw, "big")


def get_accumulator(state: KVReader, cons: bytes) -> int:
    """Rewards per share of the validator ``cons``, scaled by ACC_PRECISION (u256)."""
    return _u256(state.get(REWARD_ACC + cons))


def set_accumulator(state: Overlay, cons: bytes, value: int) -> None:
    """Write the validator's reward-per-share accumulator (u256)."""
    state.set(REWARD_ACC + cons, value.to_bytes(32, "big"))


def get_commission(state: KVReader, cons: bytes) -> int:
    """The validator's commission not yet withdrawn, base units."""
    raw = state.get(COMMISSION + cons)
    return 0 if raw is None else decode_u64(raw)


def set_commission(state: Overlay, cons: bytes, value: int) -> None:
    """Write the unpaid commission (0 deletes the record)."""
    if value == 0:
        state.delete(COMMISSION + cons)
    else:
        state.set(COMMISSION + cons, encode_u64(value))


def get_start(state: KVReader, delegator: bytes, cons: bytes) -> int:
    """The accumulator when the delegation last changed or was paid (0 if never)."""
    return _u256(state.get(REWARD_START + delegator + cons))


def set_start(state: Overlay, delegator: bytes, cons: bytes, value: int) -> None:
    """Restart the delegation's rewards at accumulator ``value``."""
    state.set(REWARD_START + delegator + cons, value.to_bytes(32, "big"))


def delete_start(state: Overlay, delegator: bytes, cons: bytes) -> None:
    """Drop the delegation's start record (it holds no shares any more)."""
    state.delete(REWARD_START + delegator + cons)


def get_minted(state: KVReader) -> int:
    """Base units minted by block rewards so far."""
    raw = state.get(MINTED)
    return 0 if raw is None else decode_u64(raw)


def set_minted(state: Overlay, value: int) -> None:
    """Write the minted total."""
    state.set(MINTED, encode_u64(value))


def get_prev_proposer(state: KVReader) -> bytes | None:
    """Consensus address of the previous block's proposer (None before block 1)."""
    return state.get(PREV_PROPOSER)


def set_prev_proposer(state: Overlay, cons: bytes) -> None:
    """Remember this block's proposer for the next block's bonus."""
    state.set(PREV_PROPOSER, cons)


def all_accumulators(state: KVReader) -> list[tuple[bytes, int]]:
    """[(consensus address, accumulator)] of every validator with one, in key order."""
    n = len(REWARD_ACC)
    return [(k[n:], _u256(v)) for k, v in state.iter_prefix(REWARD_ACC)]


def all_commissions(state: KVReader) -> list[tuple[bytes, int]]:
    """[(consensus address, unpaid commission)], in key order."""
    n = len(COMMISSION)
    return [(k[n:], decode_u64(v)) for k, v in state.iter_prefix(COMMISSION)]


def all_starts(state: KVReader) -> list[tuple[bytes, bytes, int]]:
    """[(delegator, consensus address, start)] of every delegation, in key order."""
    n = len(REWARD_START)
    return [(k[n : n + 20], k[n + 20 :], _u256(v)) for k, v in state.iter_prefix(REWARD_START)]


def get_outstanding(state: KVReader, cons: bytes) -> int:
    """Rewards credited to ``cons``'s delegators and not yet paid to them."""
    raw = state.get(OUTSTANDING + cons)
    return 0 if raw is None else decode_u64(raw)


def set_outstanding(state: Overlay, cons: bytes, value: int) -> None:
    if value == 0:
        state.delete(OUTSTANDING + cons)
    else:
        state.set(OUTSTANDING + cons, encode_u64(value))


def all_outstanding(state: KVReader) -> list[tuple[bytes, int]]:
    n = len(OUTSTANDING)
    return [(k[n:], decode_u64(v)) for k, v in state.iter_prefix(OUTSTANDING)]
