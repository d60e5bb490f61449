"""Subnet parameters: chain-wide ones (genesis ``app_state.subnets.params``) and each subnet's
hyperparameters (set by its owner). Defaults follow DESIGN.md section 6 (Bittensor's values).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from ...errors import InvalidGenesis, InvalidHyperparams
from ...params import BASE_UNITS_PER_MDT
from ...schema import IntParams, check_duration
from .epoch import BONDS_MA_ONE, U16_MAX, EpochParams

MAX_UIDS_LIMIT = 4_096
"""Absolute ceiling of max_allowed_uids (and of the chain's ``max_uids_cap``)."""


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
    # --- chain-level bounds on every subnet's hyperparameters (issue 13): an owner cannot set
    # a value past them, so the worst epoch an owner can configure is bounded. Measured with
    # bench/epoch_bench.py (2 cores): an epoch as the chain runs it takes ~64 ms at 256 uids x
    # 64 validators, ~100 ms at 1,024 x 16, ~150 ms at 1,024 x 32 and ~200 ms at 4,096 x 4
    # (neuron records dominate there); these caps keep it near 100 ms, under the 200 ms target.
    max_uids_cap: int = 1_024
    """Most uids a subnet may have (max_allowed_uids <= this; at most MAX_UIDS_LIMIT)."""
    max_validators_cap: int = 64
    """Most validator permits a subnet may grant (max_allowed_validators <= this)."""
    max_weights_per_epoch: int = 16_384
    """max_allowed_uids x max_allowed_validators <= this: the weight entries one epoch reads
    (256 x 64 by default)."""
    min_tempo: int = 4
    """Shortest tempo an owner may set: epochs at most every min_tempo + 1 blocks (Bittensor's
    default tempo is 360; short tempos are for test networks)."""
    min_burn_floor: int = BASE_UNITS_PER_MDT // 10
    """Lowest registration burn an owner may set (min_burn >= this): registering a neuron
    always costs something (0.1 MDT)."""
    max_registrations_per_block_cap: int = 16
    """Most registrations an owner may let into one block (max_registrations_per_block <=
    this). In subtensor only root sets ``MaxRegistrationsPerBlock``: here the owner chooses
    within this cap, so one block replaces at most 16 neurons (1/16 of a default 256-uid
    subnet) whatever the owner sets, and that bounds the sustained registration rate too
    (whatever the adjustment interval)."""
    max_target_registrations_cap: int = 32
    """Highest target_registrations_per_interval an owner may set (subtensor: root only,
    ``TargetRegistrationsPerInterval``): at most 3 x 32 = 96 registrations per adjustment
    interval."""

    def validate(self) -> None:
        """Raises:
        InvalidGenesis: a param outside its range (max_subnets in [1, 65535], a
            lock_reduction_interval that is no duration, a cap of 0 or past its absolute
            limit) or caps a new subnet's default hyperparameters break.
        """
        super().validate()
        if not 1 <= self.max_subnets <= U16_MAX:
            raise InvalidGenesis("subnets.params.max_subnets must be in [1, 65535]")
        check_duration(self.lock_reduction_interval, "subnets.params.lock_reduction_interval")
        if self.min_lock_cost < 1:
            raise InvalidGenesis("subnets.params.min_lock_cost must be at least 1")
        if not 1 <= self.max_uids_cap <= MAX_UIDS_LIMIT:
            raise InvalidGenesis(f"subnets.params.max_uids_cap must be in [1, {MAX_UIDS_LIMIT}]")
        if not 1 <= self.max_validators_cap <= self.max_uids_cap:
            raise InvalidGenesis("subnets.params.max_validators_cap must be in [1, max_uids_cap]")
        if self.max_weights_per_epoch < 1:
            raise InvalidGenesis("subnets.params.max_weights_per_epoch must be at least 1")
        if not 1 <= self.min_tempo <= U16_MAX:
            raise InvalidGenesis("subnets.params.min_tempo must be in [1, 65535]")
        if self.min_burn_floor < 1:
            raise InvalidGenesis("subnets.params.min_burn_floor must be at least 1")
        if not 1 <= self.max_registrations_per_block_cap <= MAX_UIDS_LIMIT:
            raise InvalidGenesis(
                f"subnets.params.max_registrations_per_block_cap must be in [1, {MAX_UIDS_LIMIT}]"
            )
        if not 1 <= self.max_target_registrations_cap <= U16_MAX:
            raise InvalidGenesis(
                "subnets.params.max_target_registrations_cap must be in [1, 65535]"
            )
        try:
            Hyperparams().check_bounds(self)
        except InvalidHyperparams as e:
            raise InvalidGenesis(
                f"subnets.params: a new subnet's default hyperparameters break them: {e.message}"
            ) from None


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

    def check_bounds(self, chain: SubnetParams) -> None:
        """The chain-level bounds an owner cannot exceed (SubnetParams, set at genesis).

        Raises:
            InvalidHyperparams: naming the bound and its value.
        """
        if self.max_allowed_uids > chain.max_uids_cap:
            raise InvalidHyperparams(f"max_allowed_uids is capped at {chain.max_uids_cap}")
        if self.max_allowed_validators > chain.max_validators_cap:
            raise InvalidHyperparams(
                f"max_allowed_validators is capped at {chain.max_validators_cap}"
            )
        if self.max_allowed_uids * self.max_allowed_validators > chain.max_weights_per_epoch:
            raise InvalidHyperparams(
                "max_allowed_uids x max_allowed_validators is capped at "
                f"{chain.max_weights_per_epoch}"
            )
        if self.tempo < chain.min_tempo:
            raise InvalidHyperparams(f"tempo must be at least {chain.min_tempo}")
        if self.min_burn < chain.min_burn_floor:
            raise InvalidHyperparams(f"min_burn must be at least {chain.min_burn_floor}")
        if self.max_registrations_per_block > chain.max_registrations_per_block_cap:
            raise InvalidHyperparams(
                f"max_registrations_per_block is capped at {chain.max_registrations_per_block_cap}"
            )
        if self.target_registrations_per_interval > chain.max_target_registrations_cap:
            raise InvalidHyperparams(
                "target_registrations_per_interval is capped at "
                f"{chain.max_target_registrations_cap}"
            )

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
