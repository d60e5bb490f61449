"""Subnet parameters: chain-wide ones (genesis ``app_state.subnets.params``) and each subnet's
hyperparameters (set by its owner). Defaults follow DESIGN.md section 6 (Bittensor's values).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from ...errors import InvalidGenesis, InvalidHyperparams
from ...params import BASE_UNITS_PER_MDT
from ...schema import IntParams
from .epoch import BONDS_MA_ONE, U16_MAX, EpochParams

MAX_UIDS_LIMIT = 4_096
"""Ceiling of max_allowed_uids: weight rows and epochs stay bounded."""


@dataclass(frozen=True)
class SubnetParams(IntParams):
    """Chain-wide subnet params (genesis ``app_state.subnets.params``)."""

    SECTION = "subnets.params"

    max_subnets: int = 32
    """Subnets that may exist at once (netuids 1..max_subnets)."""
    min_lock_cost: int = 1_000 * BASE_UNITS_PER_MDT
    """Lowest cost of registering a subnet (burned)."""
    lock_reduction_interval: int = 14_400
    """Blocks over which a doubled lock cost decays linearly back (about a day at 6 s)."""

    def validate(self) -> None:
        """Raises:
        InvalidGenesis: max_subnets outside [1, 65535] or a zero lock_reduction_interval.
        """
        super().validate()
        if not 1 <= self.max_subnets <= U16_MAX:
            raise InvalidGenesis("subnets.params.max_subnets must be in [1, 65535]")
        if self.lock_reduction_interval < 1:
            raise InvalidGenesis("subnets.params.lock_reduction_interval must be at least 1")


@dataclass(frozen=True)
class Hyperparams(IntParams):
    """One subnet's hyperparameters. Owners change them with set_subnet_hyperparams; every
    change is validated as a whole (:meth:`validate`) before it is stored."""

    SECTION = "hyperparams"

    tempo: int = 360
    """An epoch runs every tempo + 1 blocks."""
    kappa: int = 32_767
    """u16 stake fraction backing a consensus weight (65535 = 1.0; 32767 ~ 0.5)."""
    bonds_moving_average: int = 900_000
    """Of 10^6: weight of the previous bonds in the bonds EMA."""
    immunity_period: int = 4_096
    """Blocks after registration during which a neuron cannot be pruned."""
    max_allowed_uids: int = 256
    max_allowed_validators: int = 64
    activity_cutoff: int = 5_000
    """Blocks without a weights update after which a validator's stake stops counting."""
    weights_rate_limit: int = 100
    """Blocks between two weight updates (set or commit) of one validator."""
    commit_reveal: int = 1
    """1: weights are committed as a hash and revealed in the next epoch; 0: set directly."""
    weights_version: int = 0
    """Minimum version_key validators must send with weights."""
    min_burn: int = BASE_UNITS_PER_MDT // 2
    max_burn: int = 100 * BASE_UNITS_PER_MDT
    adjustment_interval: int = 100
    """Blocks between adjustments of the registration burn."""
    target_registrations_per_interval: int = 2
    """Registrations per adjustment interval the burn steers toward; at most 3x this many are
    accepted in one interval (subtensor ``TargetRegistrationsPerInterval`` x 3)."""
    max_registrations_per_block: int = 1
    """Registrations accepted in one block (subtensor ``MaxRegistrationsPerBlock``): one block
    cannot replace a whole subnet."""

    _RANGES: ClassVar[dict[str, tuple[int, int]]] = {
        "tempo": (1, U16_MAX),
        "kappa": (0, U16_MAX),
        "bonds_moving_average": (0, BONDS_MA_ONE),
        "max_allowed_uids": (1, MAX_UIDS_LIMIT),
        "max_allowed_validators": (1, MAX_UIDS_LIMIT),
        "activity_cutoff": (1, 2**32),
        "commit_reveal": (0, 1),
        "adjustment_interval": (1, 2**32),
        "target_registrations_per_interval": (1, U16_MAX),
        "immunity_period": (0, 2**32),
        "weights_rate_limit": (0, 2**32),
        "max_registrations_per_block": (1, MAX_UIDS_LIMIT),
    }

    def validate(self) -> None:
        """The whole set of hyperparameters (ranges and their relations).

        Raises:
            InvalidHyperparams: naming the value out of range or the relation broken.
        """
        try:
            super().validate()
        except InvalidGenesis as e:
            raise InvalidHyperparams(e.message) from None
        for name, (lo, hi) in sorted(self._RANGES.items()):
            if not lo <= getattr(self, name) <= hi:
                raise InvalidHyperparams(f"{name} must be in [{lo}, {hi}]")
        if self.max_allowed_validators > self.max_allowed_uids:
            raise InvalidHyperparams("max_allowed_validators must not exceed max_allowed_uids")
        if not 0 < self.min_burn <= self.max_burn:
            raise InvalidHyperparams("need 0 < min_burn <= max_burn")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every hyperparameter name, in declaration order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def epoch_params(self) -> EpochParams:
        """The hyperparameters the epoch function reads."""
        return EpochParams(
            kappa=self.kappa,
            bonds_moving_average=self.bonds_moving_average,
            activity_cutoff=self.activity_cutoff,
            max_allowed_validators=self.max_allowed_validators,
        )
