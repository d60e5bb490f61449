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
from dataclasses import dataclass
from typing import Any

from .modules.bank.messages import MsgTransfer
from .modules.distribution.messages import MsgWithdrawRewards
from .modules.slashing.messages import MsgUnjail
from .modules.staking.messages import (
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from .modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgCommitWeights,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgRemoveSubnetStake,
    MsgRevealWeights,
    MsgServeAxon,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
)
from .params import AppParams

TX_BASE = 60
"""Decoding the envelope, verifying the ed25519 signature, the ante (account read, fee and
nonce written) and the tx's result: ~60 us for a tx first seen in a block."""
PER_BYTE_DIV = 64
"""One unit per 64 bytes of the raw tx (hashing, parsing, the block's bytes)."""


@dataclass(frozen=True)
class WeightBounds:
    """The chain params that bound handlers' loops over state (genesis values)."""

    max_uids_cap: int
    """Uids a subnet may have: a registration into a full subnet scans them for pruning."""
    max_subnets: int
    """Subnets that may exist: registering one scans them for the lowest free netuid."""
    max_delegations: int
    """Delegations one account may hold: withdraw_rewards without a validator settles each."""


def _flat(units: int) -> Callable[[Any, WeightBounds], int]:
    return lambda msg, bounds: units


def _weights_entries(msg: MsgSetWeights | MsgRevealWeights, bounds: WeightBounds) -> int:
    return 30 + len(msg.uids) // 2  # row sort and pack: ~0.5 us per entry


def _withdraw(msg: MsgWithdrawRewards, bounds: WeightBounds) -> int:
    return 30 + (25 if msg.validator else 25 * bounds.max_delegations)


MESSAGE_WEIGHTS: dict[type[Any], Callable[[Any, WeightBounds], int]] = {
    MsgTransfer: _flat(20),
    MsgCreateValidator: _flat(60),
    MsgEditValidator: _flat(30),
    MsgDelegate: _flat(70),
    MsgUndelegate: _flat(60),
    MsgRedelegate: _flat(110),
    MsgWithdrawRewards: _withdraw,
    MsgUnjail: _flat(30),
    MsgRegisterSubnet: lambda msg, b: 40 + 8 * b.max_subnets,
    MsgSetSubnetHyperparams: _flat(70),
    MsgRegisterNeuron: lambda msg, b: 50 + b.max_uids_cap * 10,
    MsgServeAxon: _flat(70),
    MsgAddSubnetStake: _flat(65),
    MsgRemoveSubnetStake: _flat(50),
    MsgSetWeights: _weights_entries,
    MsgCommitWeights: _flat(55),
    MsgRevealWeights: lambda msg, b: 10 + _weights_entries(msg, b) + len(msg.uids) // 8,
}
"""Weight of each message type from its content and the bounds (units ~ microseconds); the
calibration benchmark measures each at its worst case."""


def message_weight(msg: Any, bounds: WeightBounds) -> int:
    """Weight of one message (its type's function of its content and ``bounds``)."""
    return MESSAGE_WEIGHTS[type(msg)](msg, bounds)


def tx_weight(size: int, messages: tuple[Any, ...], bounds: WeightBounds) -> int:
    """TX_BASE + size / PER_BYTE_DIV (rounded up) + the messages' weights; ``size`` in bytes."""
    total = TX_BASE + -(-size // PER_BYTE_DIV)
    table = MESSAGE_WEIGHTS
    for m in messages:  # (a loop, not sum() over a generator: this runs for every tx)
        total += table[type(m)](m, bounds)
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
