"""Distribution's ``abci_query`` routes."""

from __future__ import annotations

from typing import Any

from ...address import from_bech32, to_bech32
from ...errors import UnknownValidator
from ...state.overlay import KVReader
from ..staking.state import delegations_of, get_validator, validator_by_operator
from .rewards import get_params, pending_rewards
from .state import get_commission, get_minted, get_outstanding


def distribution_query(state: KVReader, path: str, height: int) -> Any | None:
    """The answer to ``path`` when it is one of this module's routes, else None (``height``,
    the last committed one, is unused here)."""
    if path.startswith("/rewards/"):
        who = from_bech32(path[len("/rewards/") :])
        rewards = []
        for cons, _ in delegations_of(state, who):
            v = get_validator(state, cons)
            assert v is not None
            rewards.append(
                {
                    "validator": to_bech32(v.operator),
                    "amount": str(pending_rewards(state, who, cons)),
                }
            )
        own = validator_by_operator(state, who)
        commission = get_commission(state, own.cons_address) if own is not None else 0
        total = sum(int(r["amount"]) for r in rewards) + commission
        return {"rewards": rewards, "commission": str(commission), "total": str(total)}
    if path.startswith("/validator_rewards/"):
        operator = path[len("/validator_rewards/") :]
        v = validator_by_operator(state, from_bech32(operator))
        if v is None:
            raise UnknownValidator(operator)
        return {
            "validator": operator,
            "commission": str(get_commission(state, v.cons_address)),
            "outstanding": str(get_outstanding(state, v.cons_address)),
        }
    if path == "/params/distribution":
        return {**get_params(state).to_dict(), "minted": str(get_minted(state))}
    return None
