"""``moderntensor``: the root command, its global options, and where every group is registered.

Each command group lives in a file of its own in this package (``keys.py``, ``tx.py``,
``query.py``, ``staking.py``, ``subnet.py``, ``neuron.py``, ``genesis.py``, ``localnet.py``,
``faucet.py``, ``node.py``, ``bench.py``; ``status.py``, ``explorer.py``, ``doctor.py`` and
``completion.py`` hold one command each; ``tx_offline.py`` the offline-signing commands of
``tx``). A new group is a new file plus one ``add_command`` line below. ``grammar.py`` makes
the global options work after the command too and every error one line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..node.cometbft import CometBFTError
from .bench import bench
from .common import Ctx, default_home
from .completion import completion
from .distribution import query_distribution, query_slashing, tx_distribution, tx_slashing
from .doctor import doctor
from .e2e import e2e
from .explorer import explorer
from .faucet import faucet
from .genesis import genesis
from .grammar import OneLineGroup, add_global_options
from .keys import keys
from .localnet import localnet
from .neuron import neuron
from .node import node
from .query import query
from .staking import query_staking, tx_staking
from .status import status
from .subnet import subnet
from .tx import tx
from .tx_offline import tx_broadcast, tx_decode, tx_encode, tx_sign


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    type=click.FloatRange(0.1, 3600),
    default=10.0,
    show_default=True,
    help="Seconds to wait for each RPC call.",
)
@click.option(
    "--keyring-backend",
    type=click.Choice(["file", "test", "os"]),
    default=None,
    help="Backend for new keys (default: the keyring's own, else file).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(path_type=Path),
    default=None,
    help="Read the keyring passphrase from this 0600 file (or $MODERNTENSOR_KEYRING_PASSPHRASE).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def cli(
    ctx: click.Context,
    home: Path | None,
    node: str,
    output: str,
    timeout: float,
    keyring_backend: str | None,
    passphrase_file: Path | None,
    yes: bool,
) -> None:
    """ModernTensor: a proof-of-stake chain for decentralised AI.

    Global options work before or after the command (`moderntensor keys list -o json`).

    \b
    Example: moderntensor --home .data tx transfer --from dev --to mt1… --amount 1.5mdt
    """
    ctx.obj = Ctx(
        home=home or default_home(),
        node=node,
        output=output,
        timeout=timeout,
        keyring_backend=keyring_backend,
        passphrase_file=passphrase_file,
        yes=yes,
    )


cli.add_command(node)
cli.add_command(genesis)
cli.add_command(localnet)
cli.add_command(faucet)
cli.add_command(keys)
cli.add_command(tx)
tx.add_command(tx_staking)
tx.add_command(tx_distribution)
tx.add_command(tx_slashing)
cli.add_command(query)
query.add_command(query_staking)
query.add_command(query_distribution)
query.add_command(query_slashing)
cli.add_command(subnet)
cli.add_command(neuron)
cli.add_command(bench)
cli.add_command(status)
cli.add_command(explorer)
cli.add_command(completion)
cli.add_command(e2e)
cli.add_command(doctor)
for offline_command in (tx_sign, tx_broadcast, tx_encode, tx_decode):
    tx.add_command(offline_command)
add_global_options(cli)  # last: every command registered above gets them


def main() -> None:
    """The ``moderntensor`` console script (errors are one line: :mod:`.grammar`)."""
    try:
        cli(prog_name="moderntensor")
    except CometBFTError as e:  # raised while parsing options, outside a command's handler
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
