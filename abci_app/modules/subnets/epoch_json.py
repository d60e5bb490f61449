"""The JSON form of one epoch's input and output (``moderntensor subnet simulate-epoch``).

Input::

    {"height": 1000,
     "params": {"kappa": 32767, "bonds_moving_average": 900000,
                "activity_cutoff": 5000, "max_allowed_validators": 64},
     "stake": [int], "last_update": [int], "registered_at": [int],
     "weights": {"<uid>": [[uid, u16], ...]},
     "bonds": {"<uid>": [[uid, u16], ...]},          (optional)
     "emission": int}

Output: ``consensus``, ``incentive``, ``dividends``, ``trust``, ``validator_trust``, ``rank`` as
u16 lists (65535 = 1.0), ``validator_permit`` (bools), ``bonds`` (same shape as the input) and
``emission`` ``{"miners": [int], "validators": [int], "owner": int, "recycled": int,
"dust": int}`` in base units, summing exactly to the input emission (recycled: what nobody
earned, burned by the chain; dust: the splits' floor remainders, to the community pool).
Every rule broken names its field (InvalidEpochInput).
"""

from __future__ import annotations

from typing import Any

from ...codec import U64_MAX
from ...errors import InvalidEpochInput
from .epoch import BONDS_MA_ONE, U16_MAX, EpochInput, EpochOutput, EpochParams, Row
from .params import MAX_UIDS_LIMIT

_TOP = {"height", "params", "stake", "last_update", "registered_at", "weights", "bonds", "emission"}
_REQUIRED = _TOP - {"bonds"}
_PARAMS = {"kappa", "bonds_moving_average", "activity_cutoff", "max_allowed_validators"}


def _int(v: Any, where: str, hi: int = U64_MAX) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
        raise InvalidEpochInput(f"{where} must be an integer in [0, {hi}], got {v!r}")
    return v


def _ints(v: Any, where: str, n: int | None = None) -> tuple[int, ...]:
    if not isinstance(v, list):
        raise InvalidEpochInput(f"{where} must be a list of integers")
    if n is not None and len(v) != n:
        raise InvalidEpochInput(f"{where} has {len(v)} entries, stake has {n}")
    return tuple(_int(x, f"{where}[{i}]") for i, x in enumerate(v))


def _rows(v: Any, where: str, n: int) -> dict[int, Row]:
    if not isinstance(v, dict):
        raise InvalidEpochInput(f'{where} must be an object {{"<uid>": [[uid, u16], ...]}}')
    out: dict[int, Row] = {}
    for key, row in v.items():
        if not (isinstance(key, str) and key.isascii() and key.isdigit()) or int(key) >= n:
            raise InvalidEpochInput(f"{where}: {key!r} is not a uid below {n}")
        if not isinstance(row, list):
            raise InvalidEpochInput(f"{where}[{key}] must be a list of [uid, u16] pairs")
        pairs = []
        for k, pair in enumerate(row):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise InvalidEpochInput(f"{where}[{key}][{k}] must be a [uid, u16] pair")
            j = _int(pair[0], f"{where}[{key}][{k}] uid", n - 1)
            pairs.append((j, _int(pair[1], f"{where}[{key}][{k}] value", U16_MAX)))
        if len({j for j, _ in pairs}) != len(pairs):
            raise InvalidEpochInput(f"{where}[{key}] names a uid twice")
        out[int(key)] = tuple(sorted(pairs))
    return out


def _check_keys(raw: Any, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidEpochInput(f"{where} must be a JSON object")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InvalidEpochInput(f"unknown field(s) in {where}: {', '.join(unknown)}")
    missing = sorted(required - set(raw))
    if missing:
        raise InvalidEpochInput(f"{where} is missing {', '.join(missing)}")
    return raw


def parse_epoch_input(raw: Any) -> EpochInput:
    """The epoch input of ``simulate-epoch``'s JSON (the module docstring's shape).

    Raises:
        InvalidEpochInput: naming the field that broke a rule.
    """
    raw = _check_keys(raw, "input", _TOP, _REQUIRED)
    p = _check_keys(raw["params"], "params", _PARAMS, _PARAMS)
    params = EpochParams(
        kappa=_int(p["kappa"], "params.kappa", U16_MAX),
        bonds_moving_average=_int(
            p["bonds_moving_average"], "params.bonds_moving_average", BONDS_MA_ONE
        ),
        activity_cutoff=_int(p["activity_cutoff"], "params.activity_cutoff"),
        max_allowed_validators=_int(p["max_allowed_validators"], "params.max_allowed_validators"),
    )
    stake = _ints(raw["stake"], "stake")
    n = len(stake)
    if n > MAX_UIDS_LIMIT:
        raise InvalidEpochInput(f"at most {MAX_UIDS_LIMIT} uids, got {n}")
    return EpochInput(
        height=_int(raw["height"], "height"),
        params=params,
        stake=stake,
        last_update=_ints(raw["last_update"], "last_update", n),
        registered_at=_ints(raw["registered_at"], "registered_at", n),
        weights=_rows(raw["weights"], "weights", n),
        bonds=_rows(raw.get("bonds", {}), "bonds", n),
        emission=_int(raw["emission"], "emission"),
    )


def epoch_output_json(out: EpochOutput) -> dict[str, Any]:
    """The JSON form of an epoch's output (the module docstring's shape)."""
    return {
        "consensus": list(out.consensus),
        "incentive": list(out.incentive),
        "dividends": list(out.dividends),
        "trust": list(out.trust),
        "validator_trust": list(out.validator_trust),
        "rank": list(out.rank),
        "validator_permit": list(out.validator_permit),
        "active": list(out.active),
        "bonds": {str(i): [list(p) for p in row] for i, row in sorted(out.bonds.items())},
        "emission": {
            "miners": list(out.miner_emission),
            "validators": list(out.validator_emission),
            "owner": out.owner_emission,
            "recycled": out.recycled_emission,
            "dust": out.dust_emission,
        },
    }
