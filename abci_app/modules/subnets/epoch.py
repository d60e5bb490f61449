"""Yuma consensus for one subnet epoch, as a pure integer function.

The chain's end-block and ``moderntensor subnet simulate-epoch`` both call :func:`run_epoch`,
so what the CLI prints is exactly what the chain pays. The model is Bittensor's Yuma consensus
(stake-weighted median consensus, weights clipped to it, EMA bonds, dividends); the steps and
their order are the ones fixed in the subnets issue:

1. active mask: ``last_update + activity_cutoff >= height``; inactive stake is zeroed and the
   rest normalised to sum 1 (S);
2. validator permits: the ``max_allowed_validators`` uids with the most active stake (ties:
   lower uid), stake > 0 only;
3. weights W: rows of permitted validators only, no self-weight, no weight on a uid registered
   after the validator's last update (the slot changed hands since), rows normalised to 1;
4. consensus C_j: the largest c such that the stake of validators with W_ij >= c is at least
   kappa (compared exactly, in raw stake units);
5. clipped weights min(W, C); validator trust = row sums of the clipped weights;
6. rank R = S x clipped W; incentive = R normalised; trust = R / (S x W);
7. bonds: delta B = S_i x clipped W_ij column-normalised; B = alpha dB + (1 - alpha) B_prev,
   alpha = 1 - bonds_moving_average / 10^6, column-normalised (previous bonds of non-permitted
   rows and of re-registered slots are dropped);
8. dividends D_i = sum_j B_ij I_j, normalised;
9. the epoch's emission: owner 15%, miners 55% by incentive, validators 30% by dividends; every
   base unit is paid, floor remainders (and a share nobody earned) go to the owner.

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
    kappa: int = 32_767
    """u16 fraction of stake that must support a consensus weight (65535 = 1.0)."""
    bonds_moving_average: int = 900_000
    """Of 10^6: how much of the previous bonds an epoch keeps."""
    activity_cutoff: int = 5_000
    max_allowed_validators: int = 64


@dataclass(frozen=True)
class EpochInput:
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


def _permits(active_stake: Sequence[int], k: int) -> list[bool]:
    order = sorted(range(len(active_stake)), key=lambda i: (-active_stake[i], i))
    permit = [False] * len(active_stake)
    for i in order[:k]:
        if active_stake[i] > 0:
            permit[i] = True
    return permit


def _valid_entry(inp: EpochInput, i: int, j: int) -> bool:
    """Weights and bonds of validator i on uid j count if j exists, is not i itself, and i has
    updated since j's current owner registered."""
    return 0 <= j < len(inp.stake) and j != i and inp.last_update[i] >= inp.registered_at[j]


def _weights(inp: EpochInput, permit: Sequence[bool]) -> dict[int, list[tuple[int, int]]]:
    rows: dict[int, list[tuple[int, int]]] = {}
    for i in sorted(inp.weights):
        if not (0 <= i < len(permit) and permit[i]):
            continue
        kept = sorted((j, w) for j, w in inp.weights[i] if w > 0 and _valid_entry(inp, i, j))
        total = sum(w for _, w in kept)
        if total:
            rows[i] = [(j, w * ONE // total) for j, w in kept]
    return rows


def _consensus(
    columns: Mapping[int, list[tuple[int, int]]], n: int, stake: Sequence[int], kappa: int
) -> list[int]:
    """Per column, the largest weight c with support (stake with W_ij >= c) >= kappa."""
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


def run_epoch(inp: EpochInput) -> EpochOutput:
    """One Yuma epoch; see the module docstring for the steps."""
    n = len(inp.stake)
    if not (len(inp.last_update) == len(inp.registered_at) == n):
        raise ValueError("stake, last_update and registered_at must have the same length")
    p = inp.params
    active = [inp.last_update[i] + p.activity_cutoff >= inp.height for i in range(n)]
    active_stake = [inp.stake[i] if active[i] else 0 for i in range(n)]
    s = _normalise(active_stake)
    permit = _permits(active_stake, p.max_allowed_validators)

    w = _weights(inp, permit)
    columns: dict[int, list[tuple[int, int]]] = {}
    for i in sorted(w):
        for j, wij in w[i]:
            columns.setdefault(j, []).append((wij, i))
    consensus = _consensus(columns, n, active_stake, p.kappa)

    rank_sum = [0] * n
    pre_rank_sum = [0] * n
    validator_trust = [0] * n
    delta: dict[int, dict[int, int]] = {}
    for i in sorted(w):
        si = s[i]
        row: dict[int, int] = {}
        for j, wij in w[i]:
            clipped = min(wij, consensus[j])
            validator_trust[i] += clipped
            pre_rank_sum[j] += si * wij
            if clipped:
                prod = si * clipped
                rank_sum[j] += prod
                row[j] = prod
        if row:
            delta[i] = row
    rank = [r // ONE for r in rank_sum]
    incentive = _normalise(rank)
    trust = [rank_sum[j] * ONE // pre_rank_sum[j] if pre_rank_sum[j] else 0 for j in range(n)]

    delta_b = _column_normalise(delta, n)
    keep = p.bonds_moving_average
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
    bonds = _column_normalise(mixed, n)
    div_raw = [0] * n
    for i in sorted(bonds):
        div_raw[i] = sum(b * incentive[j] for j, b in bonds[i].items()) // ONE
    dividends = _normalise(div_raw)

    miners_total = inp.emission * MINERS_PERCENT // 100
    validators_total = inp.emission * VALIDATORS_PERCENT // 100
    miner_emission = _split(miners_total, incentive)
    validator_emission = _split(validators_total, dividends)
    owner = inp.emission - sum(miner_emission) - sum(validator_emission)

    bonds_u16: dict[int, Row] = {}
    for i in sorted(bonds):
        r = tuple((j, to_u16(b)) for j, b in sorted(bonds[i].items()) if to_u16(b))
        if r:
            bonds_u16[i] = r
    return EpochOutput(
        active=tuple(active),
        validator_permit=tuple(permit),
        consensus=tuple(to_u16(c) for c in consensus),
        incentive=tuple(to_u16(x) for x in incentive),
        dividends=tuple(to_u16(x) for x in dividends),
        trust=tuple(to_u16(x) for x in trust),
        validator_trust=tuple(to_u16(x) for x in validator_trust),
        rank=tuple(to_u16(x) for x in rank),
        bonds=bonds_u16,
        miner_emission=tuple(miner_emission),
        validator_emission=tuple(validator_emission),
        owner_emission=owner,
    )
