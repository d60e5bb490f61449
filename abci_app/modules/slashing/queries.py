"""Slashing's ``abci_query`` routes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ...address import from_bech32
from ...errors import UnknownValidator
from ...state.overlay import KVReader
from ..staking.state import validator_by_operator
from .state import SigningInfo, get_info, get_params


def slashing_query(state: KVReader, path: str, height: int) -> Any | None:
    """The answer to ``path`` when it is one of this module's routes, else None (``height``,
    the last committed one, is unused here)."""
    if path.startswith("/signing_info/"):
        operator = path[len("/signing_info/") :]
        v = validator_by_operator(state, from_bech32(operator))
        if v is None:
            raise UnknownValidator(operator)
        info = get_info(state, v.cons_address) or SigningInfo(start_height=0)
        return {
            "validator": operator,
            "consensus_address": v.cons_address.hex().upper(),
            "jailed": v.jailed,
            **asdict(info),
        }
    if path == "/params/slashing":
        return get_params(state).to_dict()
    return None
