"""Staking's ``abci_query`` routes; each returns a JSON-ready object, or None for other paths."""

from __future__ import annotations

from typing import Any

from ...address import from_bech32, to_bech32
from ...errors import UnknownValidator
from ...state.overlay import KVReader
from .state import (
    all_validators,
    delegations_of,
    get_params,
    get_validator,
    last_powers,
    unbondings_of,
    validator_by_operator,
)


def _validator_json(v: Any, powers: dict[bytes, int]) -> dict[str, Any]:
    return {
        **v.to_dict(),
        "consensus_address": v.cons_address.hex().upper(),
        "power": powers.get(v.cons_address, 0),
    }


def staking_query(state: KVReader, path: str, height: int) -> Any | None:
    """The answer to ``path`` when it is one of this module's routes, else None (``height``,
    the last committed one, is unused here)."""
    if path == "/validators":
        powers = last_powers(state)
        vals = sorted(all_validators(state), key=lambda v: (-v.tokens, v.cons_address))
        return [_validator_json(v, powers) for v in vals]
    if path.startswith("/validator/"):
        v = validator_by_operator(state, from_bech32(path[len("/validator/") :]))
        if v is None:
            raise UnknownValidator(path[len("/validator/") :])
        return _validator_json(v, last_powers(state))
    if path.startswith("/delegations/"):
        delegator = from_bech32(path[len("/delegations/") :])
        out = []
        for cons, shares in delegations_of(state, delegator):
            v = get_validator(state, cons)
            assert v is not None
            out.append(
                {
                    "validator": to_bech32(v.operator),
                    "moniker": v.moniker,
                    "shares": str(shares),
                    "tokens": str(v.tokens_for(shares)),
                }
            )
        return out
    if path.startswith("/unbonding/"):
        delegator = from_bech32(path[len("/unbonding/") :])
        out = []
        for e in unbondings_of(state, delegator):
            v = get_validator(state, e.cons_address)
            assert v is not None
            out.append(e.to_dict(v.operator))
        return out
    if path == "/params/staking":
        return get_params(state).to_dict()
    return None
