"""Deterministic tx weights and exact fees (issue 13; the Substrate approach: a weight per
message type computed from its content, calibrated by benchmark, rather than metered gas).

    tx weight    = TX_BASE + PER_BYTE x tx size + sum of its messages' weights
    required fee = max(min_fee, tx weight x gas_price)          (AppParams, base units)

A weight unit is calibrated to about one microsecond of this app's work on the reference
machine (2 cores) for a tx seen first in a block (decoded and verified there: the worst case),
and every message type's weight covers its worst case: a handler's loops over state are bounded
by chain params (:class:`WeightBounds`), so the worst case exists. ``make bench`` prints the
calibration table (``bench/weights_bench.py``): microseconds per unit of every message type at
its worst case, the slowest at most 2x the fastest. CheckTx and FinalizeBlock report the weight
as gas_wanted and gas_used; genesis sets CometBFT's ``block.max_gas`` so that a block's weight,
and so its execution time, is bounded.

The fee a client is quoted (``abci_query /fee`` with the signed tx as data; the SDK's
``quote_fee``, the CLI's ``--dry-run``) is the fee charged: no estimation, no adjustment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .chain_modules import MSG_BY_TYPE
from .codec import U64_MAX
from .errors import InvalidGenesis
from .modules.spec import WeightBounds
from .params import AppParams

TX_BASE = 60
"""Decoding the envelope, verifying the ed25519 signature, the fee check, the ante (account
read, fee and nonce written) and the tx's result: ~60 us for a tx first seen in a block."""
PER_BYTE_DIV = 64
"""One unit per 64 bytes of the raw tx (hashing, parsing, the block's bytes)."""

MAX_BLOCK_GAS = 10_000_000
"""Highest ``block.max_gas`` a genesis may set: ~10 s of execution on the reference machine (the
default, 1,000,000, is ~1 s). A block's weight is what bounds its execution time, so a chain
must have the bound and it must mean something."""
DEFAULT_BLOCK_MAX_GAS = 1_000_000
"""block.max_gas of the default genesis (and of a chain migrated from before block weights)."""

__all__ = [
    "MAX_BLOCK_GAS",
    "PER_BYTE_DIV",
    "TX_BASE",
    "WeightBounds",
    "check_max_gas",
    "exact_fee",
    "required_fee",
    "tx_weight",
]


def check_max_gas(max_gas: int, params: AppParams) -> None:
    """CometBFT's ``consensus_params.block.max_gas`` must bound a block's weight: in
    [1, MAX_BLOCK_GAS]. CometBFT's own default, -1, means no bound (its mempool reaping, our
    PrepareProposal and ProcessProposal would then let a block weigh anything up to max_bytes:
    a block of 32-message withdraw_rewards txs runs ~50 ms per tx). And the fee of every tx a
    block can carry, max(min_fee, weight x gas_price), must fit a tx's fee field (u64): with a
    larger gas_price no tx past some weight could ever be paid for.

    Raises:
        InvalidGenesis: naming the value and the range.
    """
    if not 1 <= max_gas <= MAX_BLOCK_GAS:
        raise InvalidGenesis(
            f"consensus_params.block.max_gas must be in [1, {MAX_BLOCK_GAS}] (the block weight "
            f"bound, weights.py; {DEFAULT_BLOCK_MAX_GAS} is the default), got {max_gas}"
        )
    if required_fee(max_gas, params) > U64_MAX:
        raise InvalidGenesis(
            f"params.gas_price {params.gas_price} x block.max_gas {max_gas} is past 2^64 - 1: "
            "the fee of a tx that heavy could not be written in a tx"
        )


def message_weight(msg: Any, bounds: WeightBounds) -> int:
    """Weight of one message: its row's weight function in the message table (each module
    declares its messages' weights in ``modules/<m>/module.py``)."""
    return MSG_BY_TYPE[type(msg)].weight(msg, bounds)


def tx_weight(size: int, messages: tuple[Any, ...], bounds: WeightBounds) -> int:
    """TX_BASE + size / PER_BYTE_DIV (rounded up) + the messages' weights; ``size`` in bytes."""
    total = TX_BASE + -(-size // PER_BYTE_DIV)
    table = MSG_BY_TYPE
    for m in messages:  # (a loop, not sum() over a generator: this runs for every tx)
        total += table[type(m)].weight(m, bounds)
    return total


def required_fee(weight: int, params: AppParams) -> int:
    """max(min_fee, weight x gas_price), base units: what a tx of this weight must pay."""
    return max(params.min_fee, weight * params.gas_price)


def exact_fee(build: Callable[[int], bytes], quote: Callable[[bytes], int], start: int) -> bytes:
    """Sign with the fee the chain will require: ``build(fee)`` signs a tx with ``fee``,
    ``quote(raw)`` is the required fee of a signed tx. The fee is part of the tx, so its size
    (and weight) can change with it: repeat until the fee is the quote (at most a few rounds;
    the fee only grows)."""
    fee = start
    for _ in range(8):
        raw = build(fee)
        need = quote(raw)
        if need <= fee:
            return raw
        fee = need
    raise RuntimeError("the fee quote did not settle")  # pragma: no cover - sizes are bounded
