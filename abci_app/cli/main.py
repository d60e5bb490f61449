"""``moderntensor``: the root command, its global options, and where every group is registered.

Each command group lives in a file of its own in this package (``keys.py``, ``tx.py``,
``query.py``, ``staking.py``, ``subnet.py``, ``genesis.py``, ``localnet.py``, ``faucet.py``,
``node.py``, ``bench.py``; ``status.py``, ``explorer.py`` and ``completion.py`` hold one command
each). A new group is a new file plus one ``add_command`` line below.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..node.cometbft import CometBFTError
from .bench import bench
from .common import Ctx, default_home
from .completion import completion
from .explorer import explorer
from .faucet import faucet
from .genesis import genesis
from .keys import keys
from .localnet import localnet
from .node import node
from .query import query
from .staking import query_staking, tx_staking
from .status import status
from .subnet import subnet
from .tx import tx


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(path_type=Path),
    default=None,
    help="Node home folder (default: $MODERNTENSOR_HOME, ./.data, ~/.moderntensor).",
)
@click.option(
    "--node",
    default="http://127.0.0.1:26657",
    show_default=True,
    envvar="MODERNTENSOR_NODE",
    help="CometBFT RPC URL.",
)
@click.option(
    "--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--timeout",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds to wait for each RPC call.",
)
@click.pass_context
def cli(ctx: click.Context, home: Path | None, node: str, output: str, timeout: float) -> None:
    """ModernTensor: a proof-of-stake chain for decentralised AI.

    \b
    Example: moderntensor --home .data tx transfer --from dev --to mt1… --amount 1.5mdt
    """
    ctx.obj = Ctx(home=home or default_home(), node=node, output=output, timeout=timeout)


cli.add_command(node)
cli.add_command(genesis)
cli.add_command(localnet)
cli.add_command(faucet)
cli.add_command(keys)
cli.add_command(tx)
tx.add_command(tx_staking)
cli.add_command(query)
query.add_command(query_staking)
cli.add_command(subnet)
cli.add_command(bench)
cli.add_command(status)
cli.add_command(explorer)
cli.add_command(completion)


def main() -> None:
    """The ``moderntensor`` console script."""
    try:
        cli(prog_name="moderntensor")
    except CometBFTError as e:  # raised while parsing options, outside a command's handler
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
