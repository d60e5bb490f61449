"""Yuma consensus for one subnet epoch, as a pure integer function.

The chain's end-block and ``moderntensor subnet simulate-epoch`` both call :func:`run_epoch`,
so what the CLI prints is exactly what the chain pays. The model is Bittensor's Yuma consensus
(stake-weighted median consensus, weights clipped to it, EMA bonds, dividends); the steps and
their order are the ones fixed in the subnets issue:

1. ``compute_active``: active mask ``last_update + activity_cutoff >= height``; inactive stake
   is zeroed and the rest normalised to sum 1 (S);
2. ``compute_permits``: validator permits for the ``max_allowed_validators`` uids with the most
   active stake (ties: lower uid), stake > 0 only;
3. ``compute_weights``: W, rows of permitted validators only, no self-weight, no weight on a uid
   registered after the validator's last update (the slot changed hands since), rows
   normalised to 1;
4. ``compute_consensus``: C_j, the largest c such that the stake of validators with W_ij >= c is
   at least kappa (compared exactly, in raw stake units);
5. ``compute_clipped``: clipped weights min(W, C); validator trust = row sums of them;
6. ``compute_rank_trust``: rank R = S x clipped W; trust = R / (S x W);
7. ``compute_incentive``: incentive = R normalised;
8. ``compute_bonds``: delta B = S_i x clipped W_ij column-normalised; B = alpha dB + (1 - alpha)
   B_prev, alpha = 1 - bonds_moving_average / 10^6, column-normalised (previous bonds of
   non-permitted rows and of re-registered slots are dropped);
9. ``compute_dividends``: D_i = sum_j B_ij I_j, normalised;
10. ``compute_emission``: owner 15%, miners 55% by incentive, validators 30% by dividends;
    a share nobody earned is recycled (an idle subnet pays its owner nothing), the splits'
    floor remainders are dust for the community pool; every base unit has a destination.

:func:`run_epoch` calls them in this order (as consensus-specs' ``process_epoch`` does its
``process_*`` steps); each is a pure function of the previous steps' results.

Fixed point: fractions are integers scaled by ONE = 2^64 and every division floors. No floats,
no unordered iteration: the result depends only on the input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

U16_MAX = 65_535
ONE = 1 << 64
BONDS_MA_ONE = 1_000_000
OWNER_PERCENT = 15
MINERS_PERCENT = 55
VALIDATORS_PERCENT = 30

Row = tuple[tuple[int, int], ...]
"""A sparse row: (uid, value) pairs in ascending uid order."""


@dataclass(frozen=True)
class EpochParams:
    """The hyperparameters one epoch reads."""

    kappa: int = 32_767
    """u16 fraction of stake that must support a consensus weight (65535 = 1.0)."""
    bonds_moving_average: int = 900_000
    """Of 10^6: how much of the previous bonds an epoch keeps."""
    activity_cutoff: int = 5_000
    max_allowed_validators: int = 64


@dataclass(frozen=True)
class EpochInput:
    """One epoch's input: per uid (index) stake (base units), last weights update and
    registration heights; sparse weight and bond rows; the emission to pay (base units).
    """

    height: int
    params: EpochParams
    stake: tuple[int, ...]
    last_update: tuple[int, ...]
    registered_at: tuple[int, ...]
    weights: Mapping[int, Row] = field(default_factory=dict)
    """Validator uid -> its row of raw u16 weights."""
    bonds: Mapping[int, Row] = field(default_factory=dict)
    """Validator uid -> its row of u16 bonds (column-normalised, 65535 = 1.0)."""
    emission: int = 0


@dataclass(frozen=True)
class EpochOutput:
    """One epoch's result per uid (u16 fractions, 65535 = 1.0) and its payouts."""

    active: tuple[bool, ...]
    validator_permit: tuple[bool, ...]
    consensus: tuple[int, ...]
    incentive: tuple[int, ...]
    dividends: tuple[int, ...]
    trust: tuple[int, ...]
    validator_trust: tuple[int, ...]
    rank: tuple[int, ...]
    bonds: dict[int, Row]
    miner_emission: tuple[int, ...]
    validator_emission: tuple[int, ...]
    owner_emission: int
    recycled_emission: int = 0
    """Emission nobody earned, burned (see :func:`compute_emission`)."""
    dust_emission: int = 0
    """Floor remainders of the splits, for the community pool."""

    @property
    def emission(self) -> tuple[int, ...]:
        """Per uid: what it earned this epoch, as a miner and as a validator."""
        return tuple(
            m + v for m, v in zip(self.miner_emission, self.validator_emission, strict=True)
        )


def to_u16(x: int) -> int:
    """A fraction scaled by ONE as u16 (65535 = 1.0), floored."""
    return min(U16_MAX, x * U16_MAX // ONE)


def _normalise(values: Sequence[int]) -> list[int]:
    total = sum(values)
    if total == 0:
        return [0] * len(values)
    return [v * ONE // total for v in values]


def _valid_entry(inp: EpochInput, i: int, j: int) -> bool:
    """Weights and bonds of validator i on uid j count if j exists, is not i itself, and i has
    updated since j's current owner registered."""
    return 0 <= j < len(inp.stake) and j != i and inp.last_update[i] >= inp.registered_at[j]


def _column_normalise(rows: dict[int, dict[int, int]], n: int) -> dict[int, dict[int, int]]:
    col = [0] * n
    for i in sorted(rows):
        for j, v in rows[i].items():
            col[j] += v
    out: dict[int, dict[int, int]] = {}
    for i in sorted(rows):
        r = {j: v * ONE // col[j] for j, v in sorted(rows[i].items()) if col[j]}
        r = {j: v for j, v in r.items() if v}
        if r:
            out[i] = r
    return out


def _split(amount: int, shares: Sequence[int]) -> list[int]:
    total = sum(shares)
    if total == 0:
        return [0] * len(shares)
    return [amount * s // total for s in shares]


# --- the steps, in the order run_epoch calls them ----------------------------------------------
def compute_active(inp: EpochInput) -> tuple[list[bool], list[int]]:
    """Step 1: the active mask (``last_update + activity_cutoff >= height``) and each uid's
    stake with inactive stake zeroed."""
    n = len(inp.stake)
    active = [inp.last_update[i] + inp.params.activity_cutoff >= inp.height for i in range(n)]
    return active, [inp.stake[i] if active[i] else 0 for i in range(n)]


def compute_permits(active_stake: Sequence[int], k: int) -> list[bool]:
    """Step 2: validator permits for the ``k`` uids with the most active stake (ties: lower
    uid), stake > 0 only."""
    order = sorted(range(len(active_stake)), key=lambda i: (-active_stake[i], i))
    permit = [False] * len(active_stake)
    for i in order[:k]:
        if active_stake[i] > 0:
            permit[i] = True
    return permit


def compute_weights(inp: EpochInput, permit: Sequence[bool]) -> dict[int, list[tuple[int, int]]]:
    """Step 3: the rows of permitted validators, without self-weight and without weights on a
    uid registered after the validator's last update, each normalised to ONE (empty rows
    dropped)."""
    rows: dict[int, list[tuple[int, int]]] = {}
    for i in sorted(inp.weights):
        if not (0 <= i < len(permit) and permit[i]):
            continue
        kept = sorted((j, w) for j, w in inp.weights[i] if w > 0 and _valid_entry(inp, i, j))
        total = sum(w for _, w in kept)
        if total:
            rows[i] = [(j, w * ONE // total) for j, w in kept]
    return rows


def compute_consensus(
    weights: Mapping[int, list[tuple[int, int]]], n: int, stake: Sequence[int], kappa: int
) -> list[int]:
    """Step 4: per uid j, the largest weight c such that the validators with W_ij >= c hold at
    least ``kappa`` of the stake (compared exactly in raw stake: support * 65535 >= kappa *
    total)."""
    columns: dict[int, list[tuple[int, int]]] = {}
    for i in sorted(weights):
        for j, wij in weights[i]:
            columns.setdefault(j, []).append((wij, i))
    total = sum(stake)
    out = [0] * n
    if total == 0:
        return out
    need = kappa * total  # support * 65535 >= kappa * total, exactly
    for j in sorted(columns):
        support = 0
        for w, i in sorted(columns[j], reverse=True):
            support += stake[i]
            if support * U16_MAX >= need:
                out[j] = w
                break
    return out


@dataclass(frozen=True)
class ClippedWeights:
    """Step 5's results, per uid (sums scaled by ONE^2 where products of fractions)."""

    rank_sum: list[int]
    """sum_i S_i * min(W_ij, C_j)."""
    pre_rank_sum: list[int]
    """sum_i S_i * W_ij (before clipping)."""
    validator_trust: list[int]
    """sum_j min(W_ij, C_j): how much of a validator's row consensus kept."""
    delta: dict[int, dict[int, int]]
    """Per validator, S_i * min(W_ij, C_j) where not 0 (the bonds' new part)."""


def compute_clipped(
    weights: Mapping[int, list[tuple[int, int]]],
    consensus: Sequence[int],
    stake: Sequence[int],
    n: int,
) -> ClippedWeights:
    """Step 5: weights clipped to consensus min(W, C), validator trust, and the stake-weighted
    sums rank and trust are made of (``stake`` normalised to ONE)."""
    rank_sum = [0] * n
    pre_rank_sum = [0] * n
    validator_trust = [0] * n
    delta: dict[int, dict[int, int]] = {}
    for i in sorted(weights):
        si = stake[i]
        row: dict[int, int] = {}
        for j, wij in weights[i]:
            clipped = min(wij, consensus[j])
            validator_trust[i] += clipped
            pre_rank_sum[j] += si * wij
            if clipped:
                prod = si * clipped
                rank_sum[j] += prod
                row[j] = prod
        if row:
            delta[i] = row
    return ClippedWeights(rank_sum, pre_rank_sum, validator_trust, delta)


def compute_rank_trust(clipped: ClippedWeights, n: int) -> tuple[list[int], list[int]]:
    """Step 6: rank R = S x clipped W (as a fraction of ONE) and trust = R / (S x W)."""
    rank = [r // ONE for r in clipped.rank_sum]
    trust = [
        clipped.rank_sum[j] * ONE // clipped.pre_rank_sum[j] if clipped.pre_rank_sum[j] else 0
        for j in range(n)
    ]
    return rank, trust


def compute_incentive(rank: Sequence[int]) -> list[int]:
    """Step 7: incentive = rank normalised to ONE."""
    return _normalise(rank)


def compute_bonds(
    inp: EpochInput, permit: Sequence[bool], delta: dict[int, dict[int, int]], n: int
) -> dict[int, dict[int, int]]:
    """Step 8: delta B = S_i x clipped W_ij column-normalised; B = alpha dB + (1 - alpha)
    B_prev with alpha = 1 - bonds_moving_average / 10^6, column-normalised. Previous bonds of
    non-permitted rows and on re-registered slots are dropped."""
    delta_b = _column_normalise(delta, n)
    keep = inp.params.bonds_moving_average
    mixed: dict[int, dict[int, int]] = {}
    for i in range(n):
        prev: dict[int, int] = {}
        if permit[i] and i in inp.bonds:
            prev = {
                j: b * ONE // U16_MAX for j, b in inp.bonds[i] if b > 0 and _valid_entry(inp, i, j)
            }
        new = delta_b.get(i, {})
        entries = {
            j: ((BONDS_MA_ONE - keep) * new.get(j, 0) + keep * prev.get(j, 0)) // BONDS_MA_ONE
            for j in sorted(set(new) | set(prev))
        }
        entries = {j: v for j, v in entries.items() if v}
        if entries:
            mixed[i] = entries
    return _column_normalise(mixed, n)


def compute_dividends(
    bonds: dict[int, dict[int, int]], incentive: Sequence[int], n: int
) -> list[int]:
    """Step 9: dividends D_i = sum_j B_ij I_j, normalised to ONE."""
    div_raw = [0] * n
    for i in sorted(bonds):
        div_raw[i] = sum(b * incentive[j] for j, b in bonds[i].items()) // ONE
    return _normalise(div_raw)


@dataclass(frozen=True)
class EmissionSplit:
    """Where one epoch's emission goes; the parts add up to it exactly."""

    miners: list[int]
    validators: list[int]
    owner: int
    recycled: int
    """Emission nobody earned (no incentive: the miners' share; no dividends: the validators';
    neither: the owner's cut too); burned by the chain (subtensor recycles it)."""
    dust: int
    """The floor remainders of the miners' and validators' splits (to the community pool)."""


def compute_emission(
    emission: int, incentive: Sequence[int], dividends: Sequence[int]
) -> EmissionSplit:
    """Step 10: 55% of ``emission`` to the miners by incentive, 30% to the validators by
    dividends and the rest (15%, plus the floor of those two shares) to the owner. A share
    nobody earned (no incentive, or no dividends) is recycled, not paid to the owner, and when
    nobody earned anything the owner's cut is recycled too: an idle subnet pays its owner
    nothing (issue 14). The floor remainders of the two splits are dust."""
    miners_total = emission * MINERS_PERCENT // 100
    validators_total = emission * VALIDATORS_PERCENT // 100
    owner = emission - miners_total - validators_total
    miners = _split(miners_total, incentive)
    validators = _split(validators_total, dividends)
    recycled = dust = 0
    for total, shares in ((miners_total, miners), (validators_total, validators)):
        if sum(shares) == 0:
            recycled += total
        else:
            dust += total - sum(shares)
    if not sum(miners) and not sum(validators):
        recycled += owner
        owner = 0
    return EmissionSplit(miners, validators, owner, recycled, dust)


def _bonds_u16(bonds: dict[int, dict[int, int]]) -> dict[int, Row]:
    out: dict[int, Row] = {}
    for i in sorted(bonds):
        r = tuple((j, to_u16(b)) for j, b in sorted(bonds[i].items()) if to_u16(b))
        if r:
            out[i] = r
    return out


def run_epoch(inp: EpochInput) -> EpochOutput:
    """One Yuma epoch: the steps of the module docstring, each a function above, in order."""
    n = len(inp.stake)
    if not (len(inp.last_update) == len(inp.registered_at) == n):
        raise ValueError("stake, last_update and registered_at must have the same length")
    active, active_stake = compute_active(inp)
    stake = _normalise(active_stake)
    permit = compute_permits(active_stake, inp.params.max_allowed_validators)
    weights = compute_weights(inp, permit)
    consensus = compute_consensus(weights, n, active_stake, inp.params.kappa)
    clipped = compute_clipped(weights, consensus, stake, n)
    rank, trust = compute_rank_trust(clipped, n)
    incentive = compute_incentive(rank)
    bonds = compute_bonds(inp, permit, clipped.delta, n)
    dividends = compute_dividends(bonds, incentive, n)
    split = compute_emission(inp.emission, incentive, dividends)
    return EpochOutput(
        active=tuple(active),
        validator_permit=tuple(permit),
        consensus=tuple(to_u16(c) for c in consensus),
        incentive=tuple(to_u16(x) for x in incentive),
        dividends=tuple(to_u16(x) for x in dividends),
        trust=tuple(to_u16(x) for x in trust),
        validator_trust=tuple(to_u16(x) for x in clipped.validator_trust),
        rank=tuple(to_u16(x) for x in rank),
        bonds=_bonds_u16(bonds),
        miner_emission=tuple(split.miners),
        validator_emission=tuple(split.validators),
        owner_emission=split.owner,
        recycled_emission=split.recycled,
        dust_emission=split.dust,
    )
