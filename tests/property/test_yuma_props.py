"""The integer Yuma epoch against the float reference model (tests/yuma_reference.py).

Tolerance (documented in README "Subnets"): every u16 output (consensus, incentive, dividends,
trust, validator_trust, rank, bonds) is within 2/65535 of the float value scaled to u16
(measured: at most 1.0 over 60 seeded inputs of 8, 64 and 256 uids), and each emission amount
within 0.01% of the emission (+1 unit). Integer and float differ only by
flooring (2^-64 per division, 1/65535 when converting to u16); the consensus median compares
raw stake exactly in both.
"""

from __future__ import annotations

import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yuma_reference import reference_epoch

from abci_app.modules.subnets.epoch import EpochInput, EpochParams, run_epoch

TOL_U16 = 2


def random_input(seed: int, n: int, with_bonds: bool, kappa: int | None = None) -> EpochInput:
    rng = random.Random(seed)
    height = 10_000
    n_val = rng.randint(1, max(1, n // 2))
    stake = [rng.randrange(10**9, 10**13) if i < n_val else rng.choice([0, 0, 5]) for i in range(n)]
    registered = [rng.randrange(0, height - 100) for _ in range(n)]
    last_update = [
        r + rng.randrange(0, height - r) if rng.random() < 0.9 else r for r in registered
    ]
    weights = {}
    for i in range(n):
        if rng.random() < (0.9 if i < n_val else 0.1):
            targets = rng.sample(range(n), rng.randint(1, n))
            weights[i] = tuple(sorted((j, rng.randrange(0, 65536)) for j in targets))
    bonds = {}
    if with_bonds:
        for i in range(n_val):
            targets = rng.sample(range(n), rng.randint(1, n))
            bonds[i] = tuple(sorted((j, rng.randrange(1, 65536)) for j in targets))
    params = EpochParams(
        kappa=rng.randrange(0, 65536) if kappa is None else kappa,
        bonds_moving_average=rng.choice([0, 500_000, 900_000, 975_000, 1_000_000]),
        activity_cutoff=rng.choice([100, 5_000, 20_000]),
        max_allowed_validators=rng.randint(1, 64),
    )
    return EpochInput(
        height,
        params,
        tuple(stake),
        tuple(last_update),
        tuple(registered),
        weights,
        bonds,
        rng.randrange(0, 10**13),
    )


def u16(x: np.ndarray) -> np.ndarray:
    return x * 65535


def assert_close(name: str, got: tuple[int, ...], want: np.ndarray) -> None:
    diff = np.abs(np.array(got, dtype=np.float64) - u16(want))
    assert diff.max(initial=0) <= TOL_U16, (name, float(diff.max()), int(diff.argmax()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    n=st.integers(1, 256),
    with_bonds=st.booleans(),
)
def test_integer_epoch_agrees_with_float_model(seed: int, n: int, with_bonds: bool) -> None:
    inp = random_input(seed, n, with_bonds)
    out = run_epoch(inp)
    ref = reference_epoch(inp)
    assert list(out.validator_permit) == list(ref.permit)
    for name in ("consensus", "incentive", "dividends", "trust", "validator_trust", "rank"):
        assert_close(name, getattr(out, name), getattr(ref, name))
    bonds = np.zeros((n, n))
    for i, row in out.bonds.items():
        for j, b in row:
            bonds[i, j] = b
    diff = np.abs(bonds - u16(ref.bonds))
    assert diff.max(initial=0) <= TOL_U16
    tol = inp.emission // 10_000 + 1
    assert np.abs(np.array(out.miner_emission) - ref.miners).max(initial=0) <= tol
    assert np.abs(np.array(out.validator_emission) - ref.validators).max(initial=0) <= tol


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 64), emission=st.integers(0, 2**64 - 1))
def test_emission_is_paid_exactly(seed: int, n: int, emission: int) -> None:
    inp = random_input(seed, n, with_bonds=True)
    inp = EpochInput(
        inp.height,
        inp.params,
        inp.stake,
        inp.last_update,
        inp.registered_at,
        inp.weights,
        inp.bonds,
        emission,
    )
    out = run_epoch(inp)
    paid = sum(out.miner_emission) + sum(out.validator_emission) + out.owner_emission
    assert paid + out.recycled_emission + out.dust_emission == emission
    assert min(out.miner_emission + out.validator_emission, default=0) >= 0
    earned = sum(out.miner_emission) + sum(out.validator_emission) > 0
    owner_cut = emission - emission * 55 // 100 - emission * 30 // 100
    # the owner gets its cut only when someone earned; what nobody earned is recycled
    assert out.owner_emission == (owner_cut if earned else 0)
    if not sum(out.miner_emission):
        assert out.recycled_emission >= emission * 55 // 100
    assert out.dust_emission <= 2 * n  # at most one unit per payee of each split


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    kappa=st.integers(32_767, 65_535),
    n_honest=st.integers(1, 8),
    n_colluders=st.integers(1, 8),
)
def test_consensus_ignores_a_colluding_minority(
    seed: int, kappa: int, n_honest: int, n_colluders: int
) -> None:
    """Colluders holding less than min(kappa, 1 - kappa) of the stake put all their weight on a
    miner the honest majority does not weight: it gets no consensus and no incentive."""
    rng = random.Random(seed)
    honest = [rng.randrange(10**9, 10**12) for _ in range(n_honest)]
    limit = min(kappa, 65_535 - kappa)
    budget = sum(honest) * limit // (65_535 - limit) if limit < 65_535 else 0
    if budget < n_colluders:
        return
    colluders = [max(1, budget // n_colluders - 1 - rng.randrange(0, 10))] * n_colluders
    stake = honest + colluders
    total = sum(stake)
    assert sum(colluders) * 65_535 < limit * total
    v = len(stake)
    miners = list(range(v, v + 10))
    target = miners[-1]
    weights = {}
    for i in range(n_honest):
        weights[i] = tuple((j, rng.randrange(1, 65536)) for j in miners[:-1])
    for i in range(n_honest, v):
        weights[i] = ((target, 65535),)
    n = v + len(miners)
    inp = EpochInput(
        100,
        EpochParams(kappa=kappa, max_allowed_validators=64),
        tuple(stake + [0] * len(miners)),
        tuple([100] * n),
        tuple([0] * n),
        weights,
        {},
        10**12,
    )
    out = run_epoch(inp)
    assert out.consensus[target] == 0
    assert out.incentive[target] == 0
    assert out.miner_emission[target] == 0
    assert sum(out.incentive[j] for j in miners[:-1]) >= 65_535 - len(miners)


def _copier_dividends(lag: int, seed: int) -> tuple[float, float]:
    """Dividends per unit of stake of an honest validator and of a weight copier over 12
    epochs in which the miners' true scores change every epoch. ``lag`` is how many epochs
    behind the copier's weights are: 1 with commit-reveal (it can only copy revealed weights,
    and its own copy is revealed an epoch later), 0 without."""
    rng = random.Random(seed)
    n_val, n_miners = 4, 12
    stake = [4 * 10**12, 3 * 10**12, 3 * 10**12, 2 * 10**12]  # uid 3 copies
    n = n_val + n_miners
    scores = [[rng.randrange(1, 65536) for _ in range(n_miners)] for _ in range(13)]
    bonds: dict[int, tuple[tuple[int, int], ...]] = {}
    honest = copier = 0.0
    for epoch in range(1, 13):
        now = tuple((n_val + j, s) for j, s in enumerate(scores[epoch]))
        seen = tuple((n_val + j, s) for j, s in enumerate(scores[epoch - lag]))
        weights = {0: now, 1: now, 2: now, 3: seen}
        inp = EpochInput(
            epoch * 100,
            EpochParams(max_allowed_validators=8),
            tuple(stake + [0] * n_miners),
            tuple([epoch * 100] * n),
            tuple([0] * n),
            weights,
            bonds,
            10**12,
        )
        out = run_epoch(inp)
        bonds = out.bonds
        if epoch > 2:  # after the bonds have formed
            honest += out.validator_emission[0] / stake[0]
            copier += out.validator_emission[3] / stake[3]
    return honest, copier


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_a_late_copier_earns_less_with_commit_reveal(seed: int) -> None:
    honest, copier = _copier_dividends(lag=1, seed=seed)
    assert copier < 0.97 * honest
    honest0, copier0 = _copier_dividends(lag=0, seed=seed)
    assert abs(copier0 - honest0) <= 0.01 * honest0  # without the lag it keeps up
