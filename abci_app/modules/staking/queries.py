"""Staking's ``abci_query`` routes; each returns a JSON-ready object, or None for other paths.

The list routes (``/validators``, ``/delegations/<addr>``, ``/unbonding/<addr>``) are paginated
(modules/pagination.py: ``?limit=N&next_key=HEX``): a page reads only its own entries, and its
``total`` comes from the counts staking keeps (state/keys.py ``COUNT``).
"""

from __future__ import annotations

from typing import Any

from ...address import from_bech32, to_bech32
from ...codec import decode_u64
from ...errors import UnknownValidator
from ...state.keys import (
    DELEGATION,
    UNBONDING_BY_DELEGATOR,
    VALIDATOR_COUNT,
    VALIDATOR_RANK,
    delegation_count_key,
    rank_key_cons_address,
    unbonding_count_key,
)
from ...state.overlay import KVReader
from ..pagination import page, page_json, split_path
from .state import (
    UnbondingEntry,
    Validator,
    get_count,
    get_params,
    get_validator,
    last_power_of,
    validator_by_operator,
)


def _validator_json(state: KVReader, v: Validator) -> dict[str, Any]:
    return {
        **v.to_dict(),
        "consensus_address": v.cons_address.hex().upper(),
        "power": last_power_of(state, v.cons_address),
    }


def _known_validator(state: KVReader, cons: bytes) -> Validator:
    v = get_validator(state, cons)
    if v is None:  # pragma: no cover - records are never deleted; the invariants check indexes
        raise RuntimeError(f"a staking index names a missing validator {cons.hex()}")
    return v


def staking_query(state: KVReader, path: str, height: int) -> Any | None:
    """The answer to ``path`` when it is one of this module's routes, else None (``height``,
    the last committed one, is unused here).

    * ``/validators``: every validator in rank order (those that can be in the set, by tokens
      descending then consensus address; then jailed ones; then those without tokens), paged.
    * ``/validator/<operator>``; ``/delegations/<delegator>`` (by validator consensus address)
      and ``/unbonding/<delegator>`` (by completion height), paged; ``/params/staking``.

    Raises:
        InvalidQuery: bad pagination (modules/pagination.py); InvalidAddress; UnknownValidator.
    """
    route = path.partition("?")[0]
    if route == "/validators":
        _, req = split_path(path)
        entries, next_key = page(state, VALIDATOR_RANK, req)
        validators = [
            _validator_json(
                state, _known_validator(state, rank_key_cons_address(VALIDATOR_RANK + k))
            )
            for k, _ in entries
        ]
        return {
            "validators": validators,
            "pagination": page_json(next_key, get_count(state, VALIDATOR_COUNT)),
        }
    if path.startswith("/validator/"):
        v = validator_by_operator(state, from_bech32(path[len("/validator/") :]))
        if v is None:
            raise UnknownValidator(path[len("/validator/") :])
        return _validator_json(state, v)
    if route.startswith("/delegations/"):
        delegator = from_bech32(route[len("/delegations/") :])
        _, req = split_path(path)
        entries, next_key = page(state, DELEGATION + delegator, req)
        out = []
        for cons, raw in entries:
            shares = int.from_bytes(raw, "big")
            v = _known_validator(state, cons)
            out.append(
                {
                    "validator": to_bech32(v.operator),
                    "moniker": v.moniker,
                    "shares": str(shares),
                    "tokens": str(v.tokens_for(shares)),
                }
            )
        total = get_count(state, delegation_count_key(delegator))
        return {"delegations": out, "pagination": page_json(next_key, total)}
    if route.startswith("/unbonding/"):
        delegator = from_bech32(route[len("/unbonding/") :])
        _, req = split_path(path)
        entries, next_key = page(state, UNBONDING_BY_DELEGATOR + delegator, req)
        out = []
        for rest, raw in entries:
            e = UnbondingEntry(
                delegator, rest[8:], int.from_bytes(rest[:8], "big"), decode_u64(raw)
            )
            out.append(e.to_dict(_known_validator(state, e.cons_address).operator))
        total = get_count(state, unbonding_count_key(delegator))
        return {"unbonding": out, "pagination": page_json(next_key, total)}
    if path == "/params/staking":
        return get_params(state).to_dict()
    return None
