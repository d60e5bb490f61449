"""The chain's genesis ``app_state``: parsing and every validation rule InitChain enforces.

Shape (inside CometBFT's genesis.json, key ``app_state``)::

    {"chain_id": "moderntensor-local-1",           # optional; must equal genesis.json's chain_id
     "params": {"min_fee": 1000, ...},             # optional; defaults in params.py
     "accounts": [{"address": "mt1...", "balance": "1000000000000", "nonce": 0}],
     "staking": {"params": {...},                  # optional; defaults in staking/params.py
                 "validators": [...]},             # already bonded (written by genesis export)
     "gen_txs": [...],                             # signed validator entries (genesis gentx)
     "distribution": {...}, "slashing": {...},     # written by genesis export
     "bank": {"burned": {"slash": "...", ...}},    # burns by reason, written by genesis export
     "subnets": {"params": {...}, "records": [...]}}   # subnet params; records from export

Balances are base units as a decimal string (or a JSON integer); ``nonce`` is optional (0). A bad
file is rejected with an :class:`InvalidGenesis` naming the offending field. Each module owns its
section (``modules/<name>/genesis.py``: parse_genesis, init_genesis, export_genesis); this file
only assembles them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from .codec import U64_MAX
from .errors import InvalidGenesis
from .invariants import check_invariants
from .modules.bank import genesis as bank
from .modules.bank.genesis import BankGenesis, GenesisAccount
from .modules.distribution import genesis as distribution
from .modules.distribution.genesis import DistributionGenesis
from .modules.slashing import genesis as slashing
from .modules.slashing.genesis import SlashingGenesis
from .modules.staking import genesis as staking
from .modules.staking.genesis import GenTx, StakingGenesis
from .modules.staking.state import Validator
from .modules.subnets import genesis as subnets
from .modules.subnets.genesis import SubnetsGenesis
from .params import AppParams
from .schema import check_object
from .state.keys import CHAIN_ID, PARAMS
from .state.overlay import KVReader

_TOP_LEVEL = {
    "chain_id",
    "bank",
    "params",
    "accounts",
    "staking",
    "gen_txs",
    "distribution",
    "slashing",
    "subnets",
}


@dataclass(frozen=True)
class GenesisState:
    """A parsed, validated ``app_state``: the app's own params and one section per module."""

    params: AppParams
    bank: BankGenesis = field(default_factory=BankGenesis)
    chain_id: str | None = None
    staking: StakingGenesis = field(default_factory=StakingGenesis)
    distribution: DistributionGenesis = field(default_factory=DistributionGenesis)
    slashing: SlashingGenesis = field(default_factory=SlashingGenesis)
    subnets: SubnetsGenesis = field(default_factory=SubnetsGenesis)

    @property
    def accounts(self) -> tuple[GenesisAccount, ...]:
        """The genesis accounts (bank's section)."""
        return self.bank.accounts

    @property
    def total_supply(self) -> int:
        """Sum of the genesis balances, base units."""
        return self.bank.total_supply

    @property
    def validators(self) -> tuple[Validator, ...]:
        """Already bonded validators (staking's section)."""
        return self.staking.validators

    @property
    def gen_txs(self) -> tuple[GenTx, ...]:
        """Signed genesis validators (staking's section)."""
        return self.staking.gen_txs

    def to_dict(self) -> dict[str, Any]:
        """The ``app_state`` JSON object (what ``genesis export`` writes), sections in order."""
        out: dict[str, Any] = {} if self.chain_id is None else {"chain_id": self.chain_id}
        out.update(
            {
                "params": self.params.to_dict(),
                "accounts": self.bank.to_dict(),
                "staking": self.staking.to_dict(),
                "gen_txs": [g.to_dict() for g in self.staking.gen_txs],
                "distribution": self.distribution.to_dict(),
                "slashing": self.slashing.to_dict(),
                "subnets": self.subnets.to_dict(),
            }
        )
        if self.bank.section():
            out["bank"] = self.bank.section()
        return out


def parse_app_state(raw: bytes | str | dict[str, Any], chain_id: str | None = None) -> GenesisState:
    """Parse and validate an app_state; ``chain_id`` (from genesis.json) must agree if given.

    Each module parses its section; the checks across sections (pools against balances,
    references to validators) run here, in a fixed order, so the first rule broken is the one
    reported.

    Raises:
        InvalidGenesis: naming the field that broke a rule.
    """
    if isinstance(raw, bytes | str):
        if not raw or (isinstance(raw, bytes) and not raw.strip()):
            raw = {}
        else:
            try:
                raw = json.loads(raw)
            except (ValueError, RecursionError) as e:  # JSONDecodeError, bad UTF-8, an
                # integer literal past Python's 4,300 digits, nesting past the recursion limit
                raise InvalidGenesis(f"app_state is not valid JSON: {str(e)[:200]}") from None
    raw = check_object(raw, "app_state", _TOP_LEVEL)

    declared = raw.get("chain_id")
    if declared is not None:
        if not isinstance(declared, str) or not declared:
            raise InvalidGenesis("app_state.chain_id must be a non-empty string")
        if chain_id is not None and declared != chain_id:
            raise InvalidGenesis(
                f"app_state.chain_id {declared!r} differs from genesis chain_id {chain_id!r}"
            )

    params = AppParams.from_dict(raw.get("params", {}))
    bank_state = bank.parse_genesis(raw.get("accounts", []))
    burned = bank.parse_burned(raw.get("bank", {}))
    staking_state = staking.parse_genesis(
        raw.get("staking", {}), raw.get("gen_txs", []), declared or chain_id or ""
    )
    distribution_state = distribution.parse_genesis(raw.get("distribution", {}))
    origin = bank_state.total_supply - distribution_state.minted + sum(a for _, a in burned)
    if not 0 <= origin <= U64_MAX:
        raise InvalidGenesis(
            "accounts, distribution.minted and bank.burned do not add up (supply = origin "
            "supply + minted - burned, origin >= 0)"
        )
    bank_state = replace(bank_state, burned=burned, origin_supply=origin)
    distribution.check_references(distribution_state, staking_state.operators)
    staking.check_genesis(staking_state)
    balances = bank_state.balances()
    staking.check_pools(staking_state, balances)
    distribution.check_pool(distribution_state, balances)
    subnets_state = subnets.parse_genesis(raw.get("subnets", {}))
    subnets.check_pools(subnets_state, balances)
    staking.check_gen_tx_funds(staking_state, balances)
    return GenesisState(
        params=params,
        bank=bank_state,
        chain_id=declared,
        staking=staking_state,
        distribution=distribution_state,
        slashing=slashing.parse_genesis(raw.get("slashing", {})),
        subnets=subnets_state,
    )


def check_genesis_state(genesis: GenesisState, state: KVReader, initial_height: int) -> None:
    """The rules a genesis can only be held to once InitChain has written it (``state``), for a
    chain whose first block is ``initial_height``: every module's invariants hold (a genesis
    breaking one would stop every node checking them at the first block, and what the broken
    books misplace could be taken: tokens no share owns sell 1:1 to the next delegator, a
    module account as delegator or hotkey is paid into a pool), and no unbonding or
    redelegation entry completes before the first block (it would never be released).

    Raises:
        InvalidGenesis: naming the entry, or listing the broken invariants.
    """
    staking.check_completion_heights(genesis.staking, initial_height)
    problems = check_invariants(state)
    if problems:
        raise InvalidGenesis(f"the genesis breaks the chain's invariants: {'; '.join(problems)}")


def export_app_state(state: KVReader) -> GenesisState:
    """The committed state as a genesis: chain id, app params and every module's export.

    Raises:
        InvalidGenesis: the state has no chain id or params (nothing was ever committed).
    """
    raw_chain = state.get(CHAIN_ID)
    raw_params = state.get(PARAMS)
    if raw_chain is None or raw_params is None:
        raise InvalidGenesis("the node has no committed state to export")
    return GenesisState(
        params=AppParams.decode(raw_params),
        bank=bank.export_genesis(state),
        chain_id=raw_chain.decode(),
        staking=staking.export_genesis(state),
        distribution=distribution.export_genesis(state),
        slashing=slashing.export_genesis(state),
        subnets=subnets.export_genesis(state),
    )
