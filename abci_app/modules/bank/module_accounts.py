"""Module accounts: addresses with no private key that hold tokens on behalf of a module.

Each module declares its own with :func:`module_account` when it is imported; bank keeps the
one registry, with what each may do to the supply (Cosmos SDK: the ``maccPerms`` of app.go,
checked by x/bank's keeper on MintCoins/BurnCoins):

* a **minter** may receive newly minted tokens (:func:`..keeper.mint`);
* a **burner** may have its tokens burned (:func:`..keeper.burn`).

User accounts burn only their own tokens, paying a burn-priced message (subnet registration).
The registry is complete once every module is imported (``abci_app.chain_modules`` imports
them all).

No message may send tokens to a module account (Cosmos SDK x/bank ``BlockedAddrs``): the tokens
would either break the invariant of the pool that holds them (every checking node halts) or be
owned by nobody. A handler that sends tokens to an address the message names (``transfer``)
refuses every address in :data:`MODULE_ACCOUNTS` (code 104); the other messages send only to
their sender or to a registered hotkey or validator, which no module account can be.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...address import module_address


@dataclass(frozen=True)
class ModuleAccount:
    """A module account and what it may do to the supply."""

    name: str
    address: bytes
    minter: bool = False
    burner: bool = False


MODULE_ACCOUNTS: dict[bytes, ModuleAccount] = {}
"""Every declared module account by address, in declaration order."""


def module_account(name: str, *, minter: bool = False, burner: bool = False) -> bytes:
    """Declare the module account ``name`` and return its 20-byte address
    (sha256("module/" + name)[:20]). A name declared twice is a programming error (ValueError)."""
    acct = ModuleAccount(name, module_address(name), minter, burner)
    if acct.address in MODULE_ACCOUNTS:
        raise ValueError(f"module account {name!r} is declared twice")
    MODULE_ACCOUNTS[acct.address] = acct
    return acct.address


FEE_COLLECTOR = module_account("fee_collector", burner=True)
"""The ante credits every fee here; distribution collects it each block (burning
``fee_burn_rate`` of it) and pays the rest to the validators."""
COMMUNITY_POOL = module_account("community_pool")
"""The owner of every base unit no one else is owed (Cosmos SDK x/distribution's community
pool): block rewards nobody signed for, the floor-division dust of reward splits and of subnet
epochs, and what is left of a validator's outstanding rewards once its last delegator leaves.
Any module may pay into it; nothing spends from it yet."""
