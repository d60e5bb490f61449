"""Bank's keeper is the one owner of the supply: mint and burn check the module account
permissions; send moves tokens without changing the supply."""

from __future__ import annotations

import pytest

import abci_app.chain_modules  # noqa: F401 - every module declares its module accounts
from abci_app.address import module_address
from abci_app.errors import InsufficientFunds
from abci_app.modules.bank.keeper import burn, mint, send
from abci_app.modules.bank.module_accounts import MODULE_ACCOUNTS, module_account
from abci_app.modules.bank.state import (
    BURN_REASONS,
    Account,
    get_account,
    get_burned,
    get_supply,
    set_account,
    set_supply,
)
from abci_app.modules.distribution.state import DISTRIBUTION_POOL
from abci_app.modules.staking.state import BONDED_POOL
from abci_app.modules.subnets.state import SUBNET_STAKE_POOL
from abci_app.state.overlay import Overlay

USER = bytes(range(20))


class Empty:
    def get(self, key: bytes) -> bytes | None:
        return None

    def iter_prefix(self, prefix: bytes):  # type: ignore[no-untyped-def]
        return iter(())


def fresh() -> Overlay:
    state = Overlay(Empty())
    set_account(state, USER, Account(1_000, 0))
    set_supply(state, 1_000)
    return state


def test_the_registry_names_every_module_account_with_its_permissions() -> None:
    perms = {a.name: (a.minter, a.burner) for a in MODULE_ACCOUNTS.values()}
    assert perms == {
        "fee_collector": (False, True),
        "bonded_pool": (False, True),
        "unbonding_pool": (False, True),
        "distribution": (True, False),
        "subnet_stake": (False, False),
        "subnet_emission": (False, True),  # emission nobody earned is recycled
        "community_pool": (False, False),
    }
    assert all(a.address == module_address(a.name) for a in MODULE_ACCOUNTS.values())
    with pytest.raises(ValueError, match="declared twice"):
        module_account("bonded_pool")


def test_mint_only_into_a_minter_and_burn_only_from_a_burner_or_a_user() -> None:
    state = fresh()
    mint(state, DISTRIBUTION_POOL, 50)
    assert get_supply(state) == 1_050 and get_account(state, DISTRIBUTION_POOL) == Account(50)
    for not_minter in (USER, BONDED_POOL):
        with pytest.raises(RuntimeError, match="not a minter"):
            mint(state, not_minter, 1)
    send(state, USER, SUBNET_STAKE_POOL, 10)
    with pytest.raises(RuntimeError, match="subnet_stake may not burn"):
        burn(state, SUBNET_STAKE_POOL, 1, "slash")
    burn(state, USER, 90, "registration")  # a user pays a burn-priced message with its tokens
    assert get_supply(state) == 960 and get_account(state, USER) == Account(900)
    with pytest.raises(InsufficientFunds):
        burn(state, USER, 901, "registration")
    assert get_supply(state) == 960
    with pytest.raises(RuntimeError, match="unknown burn reason"):
        burn(state, USER, 1, "because")
    # every burn is counted by its reason: the supply invariant (origin + minted - burned)
    assert get_burned(state) == {**dict.fromkeys(BURN_REASONS, 0), "registration": 90}
