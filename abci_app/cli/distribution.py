"""``moderntensor tx distribution …``, ``query distribution …``, ``tx slashing …`` and
``query slashing …``: the distribution and slashing modules' commands under their own names,
as Cosmos CLIs have them. The same commands stay reachable under ``staking`` (aliases: the
command objects are shared, so both names behave identically).
"""

from __future__ import annotations

import click

from .query_table import QueryRoute, add_query_commands
from .staking import query_staking, tx_staking


@click.group("distribution")
def tx_distribution() -> None:
    """Withdraw delegation rewards and commission."""


@click.group("distribution")
def query_distribution() -> None:
    """Pending rewards and distribution params."""


@click.group("slashing")
def tx_slashing() -> None:
    """Unjail a validator."""


@click.group("slashing")
def query_slashing() -> None:
    """Signing info (missed blocks, jail, tombstone) and slashing params."""


tx_distribution.add_command(tx_staking.commands["withdraw-rewards"])
tx_slashing.add_command(tx_staking.commands["unjail"])
query_distribution.add_command(query_staking.commands["rewards"])
query_slashing.add_command(query_staking.commands["signing-info"])
add_query_commands(
    query_distribution,
    (
        QueryRoute(
            "params",
            "/params/distribution",
            "Distribution parameters (example: … query distribution params).",
        ),
    ),
)
add_query_commands(
    query_slashing,
    (
        QueryRoute(
            "params",
            "/params/slashing",
            "Slashing parameters: window, threshold, jail time, slash fractions (example: … "
            "query slashing params).",
        ),
    ),
)
