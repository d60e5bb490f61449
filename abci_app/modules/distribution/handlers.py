"""Distribution's message handler."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...address import to_bech32
from ...state.keys import delegation_key
from ...state.overlay import Overlay
from ..staking.state import delegations_of, get_validator, validator_by_operator
from .messages import MsgWithdrawRewards
from .rewards import settle, withdraw_commission

if TYPE_CHECKING:
    from ...context import ChainContext


def apply_withdraw_rewards(
    state: Overlay, sender: bytes, msg: MsgWithdrawRewards, ctx: ChainContext
) -> None:
    """Pay ``sender`` its pending delegation rewards, from the validator operated by
    ``msg.validator`` or from every validator when it is empty, and, when ``sender`` operates a
    validator (and ``msg.validator`` is empty or its own), that validator's commission
    (Cosmos SDK MsgWithdrawDelegatorReward and MsgWithdrawValidatorCommission in one).

    Writes: the distribution pool, sender's balance, the delegations' reward start records,
    the commission record. Events: ``withdraw_rewards(delegator, validator, amount)`` per
    delegation (also for 0), then ``withdraw_commission(validator, amount)`` for an operator.

    Raises:
        Nothing of its own: an unknown validator or no delegation withdraws nothing.
    """
    if msg.validator:  # one delegation, looked up (not found among all of them: issue 13)
        v = validator_by_operator(state, msg.validator)
        has = v is not None and state.get(delegation_key(sender, v.cons_address)) is not None
        targets = [v.cons_address] if v is not None and has else []
    else:
        targets = [cons for cons, _ in delegations_of(state, sender)]
    for cons in targets:
        amount = settle(state, sender, cons)
        validator = get_validator(state, cons)
        op = validator.operator if validator is not None else cons
        ctx.events.emit(
            "withdraw_rewards", delegator=to_bech32(sender), validator=to_bech32(op), amount=amount
        )
    own = validator_by_operator(state, sender)
    if own is not None and (not msg.validator or msg.validator == sender):
        amount = withdraw_commission(state, own.cons_address, sender)
        ctx.events.emit("withdraw_commission", validator=to_bech32(sender), amount=amount)
