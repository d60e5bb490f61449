"""Distribution genesis: params, and the reward state a ``genesis export`` carries over."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...address import to_bech32
from ...errors import InvalidGenesis
from ...schema import check_object, parse_address, parse_amount
from ...state.overlay import KVReader, Overlay
from ..staking.state import all_validators, consensus_address_of
from .params import DistributionParams
from .rewards import get_params, set_params
from .state import (
    DISTRIBUTION_POOL,
    all_accumulators,
    all_commissions,
    all_outstanding,
    all_starts,
    get_accumulator,
    get_commission,
    get_minted,
    get_outstanding,
    get_prev_proposer,
    set_accumulator,
    set_commission,
    set_minted,
    set_outstanding,
    set_prev_proposer,
    set_start,
)


@dataclass(frozen=True)
class DistributionGenesis:
    """Distribution's genesis section: params and, after an export, the
    reward state (minted total, previous proposer, accumulators, commissions, delegation starts).
    """

    params: DistributionParams = field(default_factory=DistributionParams)
    minted: int = 0
    previous_proposer: bytes = b""
    validators: tuple[tuple[bytes, int, int, int], ...] = ()
    """(operator, accumulator, commission, outstanding rewards)."""
    delegations: tuple[tuple[bytes, bytes, int], ...] = ()  # (delegator, operator, start)

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params.to_dict(),
            "minted": str(self.minted),
            "previous_proposer": self.previous_proposer.hex().upper(),
            "validators": [
                {
                    "validator": to_bech32(o),
                    "accumulator": str(a),
                    "commission": str(c),
                    "outstanding": str(r),
                }
                for o, a, c, r in self.validators
            ],
            "delegations": [
                {"delegator": to_bech32(d), "validator": to_bech32(o), "start": str(s)}
                for d, o, s in self.delegations
            ],
        }


def _big(value: Any, where: str) -> int:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise InvalidGenesis(f"{where} must be a decimal string")
    return int(value)


def parse_genesis(raw: Any) -> DistributionGenesis:
    """Parse ``app_state.distribution`` (params; the reward state an export carries over).

    Raises:
        InvalidGenesis: naming the field that broke a rule.
    """
    fields = {"params", "minted", "previous_proposer", "validators", "delegations"}
    raw = check_object(raw, "distribution", fields)
    try:
        prev = bytes.fromhex(raw.get("previous_proposer", ""))
    except (ValueError, TypeError):
        raise InvalidGenesis("distribution.previous_proposer must be hex") from None
    if prev and len(prev) != 20:
        raise InvalidGenesis("distribution.previous_proposer must be a 20-byte address")
    vals, dels = [], []
    for i, v in enumerate(raw.get("validators", [])):
        w = f"distribution.validators[{i}]"
        check_object(
            v,
            w,
            {"validator", "accumulator", "commission", "outstanding"},
            {"validator", "accumulator", "commission"},
        )
        vals.append(
            (
                parse_address(v["validator"], f"{w}.validator"),
                _big(v["accumulator"], f"{w}.accumulator"),
                parse_amount(v["commission"], f"{w}.commission"),
                parse_amount(v.get("outstanding", 0), f"{w}.outstanding"),
            )
        )
    for i, d in enumerate(raw.get("delegations", [])):
        w = f"distribution.delegations[{i}]"
        check_object(d, w, {"delegator", "validator", "start"}, {"delegator", "validator", "start"})
        dels.append(
            (
                parse_address(d["delegator"], f"{w}.delegator"),
                parse_address(d["validator"], f"{w}.validator"),
                _big(d["start"], f"{w}.start"),
            )
        )
    return DistributionGenesis(
        params=DistributionParams.from_dict(raw.get("params", {})),
        minted=parse_amount(raw.get("minted", 0), "distribution.minted"),
        previous_proposer=prev,
        validators=tuple(vals),
        delegations=tuple(dels),
    )


def check_references(g: DistributionGenesis, operators: set[bytes]) -> None:
    """Every validator named is one of staking's ``operators``.

    Raises:
        InvalidGenesis: naming the unknown validator.
    """
    for op, *_ in g.validators:
        if op not in operators:
            raise InvalidGenesis(f"distribution: unknown validator {to_bech32(op)}")
    for _, op, _ in g.delegations:
        if op not in operators:
            raise InvalidGenesis(f"distribution: delegation to unknown validator {to_bech32(op)}")


def init_genesis(state: Overlay, g: DistributionGenesis) -> None:
    """Write params and the carried-over reward state; validators are named by operator and
    found through staking's records (staking's genesis is written first)."""
    set_params(state, g.params)
    if g.minted:
        set_minted(state, g.minted)
    if g.previous_proposer:
        set_prev_proposer(state, g.previous_proposer)
    for op, acc, commission, outstanding in g.validators:
        cons = consensus_address_of(state, op)
        set_accumulator(state, cons, acc)
        set_commission(state, cons, commission)
        set_outstanding(state, cons, outstanding)
    for delegator, op, start in g.delegations:
        set_start(state, delegator, consensus_address_of(state, op), start)


def export_genesis(state: KVReader) -> DistributionGenesis:
    """Params, minted total, previous proposer, each validator's accumulator, unpaid
    commission and outstanding rewards, and each delegation's start, with validators named by
    operator."""
    ops = {v.cons_address: v.operator for v in all_validators(state)}
    return DistributionGenesis(
        params=get_params(state),
        minted=get_minted(state),
        previous_proposer=get_prev_proposer(state) or b"",
        validators=tuple(
            (ops[c], get_accumulator(state, c), get_commission(state, c), get_outstanding(state, c))
            for c in sorted(
                set(dict(all_accumulators(state)))
                | set(dict(all_commissions(state)))
                | set(dict(all_outstanding(state)))
            )
        ),
        delegations=tuple((d, ops[c], s) for d, c, s in all_starts(state)),
    )


def check_pool(g: DistributionGenesis, balances: dict[bytes, int]) -> None:
    """The distribution pool holds exactly what the genesis says it owes: every commission and
    outstanding reward.

    Raises:
        InvalidGenesis: the pool's balance differs (naming both amounts).
    """
    owed = sum(c + r for _, _, c, r in g.validators)
    if balances.get(DISTRIBUTION_POOL, 0) != owed:
        raise InvalidGenesis(
            f"distribution pool {to_bech32(DISTRIBUTION_POOL)} holds "
            f"{balances.get(DISTRIBUTION_POOL, 0)} but distribution.validators owe {owed} "
            "(commission + outstanding)"
        )
