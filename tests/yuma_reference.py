"""A float reference model of the Yuma epoch (numpy), for tests only.

It follows the same nine steps as abci_app/modules/subnets/epoch.py in float64 with dense
matrices, so the integer implementation can be checked against an independent, obviously
written version. Agreement is expected within a small tolerance on u16 outputs (documented in
tests/property/test_yuma_props.py), never exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abci_app.modules.subnets.epoch import EpochInput


@dataclass
class Reference:
    permit: np.ndarray
    consensus: np.ndarray
    incentive: np.ndarray
    dividends: np.ndarray
    trust: np.ndarray
    validator_trust: np.ndarray
    rank: np.ndarray
    bonds: np.ndarray
    miners: np.ndarray
    validators: np.ndarray


def _norm(v: np.ndarray) -> np.ndarray:
    total = v.sum()
    return v / total if total > 0 else np.zeros_like(v)


def _col_norm(m: np.ndarray) -> np.ndarray:
    col = m.sum(axis=0)
    out = np.zeros_like(m)
    nz = col > 0
    out[:, nz] = m[:, nz] / col[nz]
    return out


def reference_epoch(inp: EpochInput) -> Reference:
    n = len(inp.stake)
    p = inp.params
    lu = np.array(inp.last_update, dtype=np.int64)
    reg = np.array(inp.registered_at, dtype=np.int64)
    active = lu + p.activity_cutoff >= inp.height
    raw = [s if a else 0 for s, a in zip(inp.stake, active, strict=True)]
    stake = np.array(raw, dtype=np.float64)
    s = _norm(stake)
    order = sorted(range(n), key=lambda i: (-raw[i], i))
    permit = np.zeros(n, dtype=bool)
    for i in order[: p.max_allowed_validators]:
        permit[i] = raw[i] > 0
    valid = (lu[:, None] >= reg[None, :]) & ~np.eye(n, dtype=bool)

    w = np.zeros((n, n))
    for i, row in inp.weights.items():
        if permit[i]:
            for j, x in row:
                w[i, j] = x
    w = np.where(valid, w, 0.0)
    rs = w.sum(axis=1, keepdims=True)
    w = np.divide(w, rs, out=np.zeros_like(w), where=rs > 0)

    total = sum(raw)
    consensus = np.zeros(n)
    for j in range(n):
        support = 0
        for i in sorted(range(n), key=lambda i: -w[i, j]):
            if w[i, j] <= 0:
                break
            support += raw[i]
            if support * 65535 >= p.kappa * total:
                consensus[j] = w[i, j]
                break
    clipped = np.minimum(w, consensus[None, :])
    validator_trust = clipped.sum(axis=1)
    rank = s @ clipped
    pre = s @ w
    incentive = _norm(rank)
    trust = np.divide(rank, pre, out=np.zeros_like(rank), where=pre > 0)

    delta = _col_norm(s[:, None] * clipped)
    prev = np.zeros((n, n))
    for i, row in inp.bonds.items():
        if permit[i]:
            for j, b in row:
                prev[i, j] = b / 65535
    prev = np.where(valid, prev, 0.0)
    keep = p.bonds_moving_average / 1e6
    bonds = _col_norm((1 - keep) * delta + keep * prev)
    dividends = _norm(bonds @ incentive)
    return Reference(
        permit=permit,
        consensus=consensus,
        incentive=incentive,
        dividends=dividends,
        trust=trust,
        validator_trust=validator_trust,
        rank=rank,
        bonds=bonds,
        miners=inp.emission * 0.55 * incentive,
        validators=inp.emission * 0.30 * dividends,
    )
