"""What staking tells the modules that follow its records, without importing them.

Staking calls these at the moments another module must act; execution wires in the
implementation (distribution's, :class:`abci_app.modules.distribution.hooks.DistributionHooks`)
through the context, so staking imports nothing from distribution. Model: Cosmos SDK
``x/staking/types/expected_keepers.go`` (StakingHooks). Validator records are never deleted
here (a validator leaves the set with power 0 and keeps its record), so there is no
"validator removed" moment to announce.
"""

from __future__ import annotations

from typing import Protocol

from ...state.overlay import Overlay
from ...types import EventSink
from .state import Validator


class StakingHooks(Protocol):
    """The moments staking announces; every method is called inside the block's writes."""

    def after_validator_created(self, state: Overlay, validator: Validator) -> None:
        """``validator`` and its operator's self-delegation were just written."""

    def before_delegation_shares_modified(
        self, state: Overlay, delegator: bytes, validator: Validator, events: EventSink
    ) -> None:
        """``delegator``'s shares of ``validator`` are about to change (delegate, undelegate,
        redelegate, slash of a redelegation): what was earned with the old shares is settled
        now. Events of the settlement go to ``events``."""

    def after_delegation_removed(
        self, state: Overlay, delegator: bytes, validator: Validator
    ) -> None:
        """``delegator`` no longer holds any share of ``validator`` (the validator's record
        in ``state`` is already updated)."""
