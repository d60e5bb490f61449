"""Distribution's side of staking's hooks: rewards are settled whenever shares change."""

from __future__ import annotations

from ...address import to_bech32
from ...state.overlay import Overlay
from ...types import EventSink
from ..staking.state import Validator, get_validator
from .rewards import settle, sweep_outstanding
from .state import delete_start


class DistributionHooks:
    """Implements :class:`abci_app.modules.staking.hooks.StakingHooks` (Cosmos SDK
    x/distribution/keeper/hooks.go): a delegation's rewards are computed with the shares that
    earned them, because they are paid out before the shares change."""

    def after_validator_created(self, state: Overlay, validator: Validator) -> None:
        """Start the operator's self-delegation at the validator's current accumulator."""
        settle(state, validator.operator, validator.cons_address)

    def before_delegation_shares_modified(
        self, state: Overlay, delegator: bytes, validator: Validator, events: EventSink
    ) -> None:
        """Pay the delegation's pending rewards to the delegator (a ``withdraw_rewards`` event
        when anything was paid) and restart it at the current accumulator."""
        amount = settle(state, delegator, validator.cons_address)
        if amount:
            events.emit(
                "withdraw_rewards",
                delegator=to_bech32(delegator),
                validator=to_bech32(validator.operator),
                amount=amount,
            )

    def after_delegation_removed(
        self, state: Overlay, delegator: bytes, validator: Validator
    ) -> None:
        """Drop the delegation's reward start record; when it was the validator's last share,
        its outstanding rewards (the payouts' floor dust) go to the community pool."""
        delete_start(state, delegator, validator.cons_address)
        current = get_validator(state, validator.cons_address)
        if current is None or current.delegator_shares == 0:
            sweep_outstanding(state, validator.cons_address)
