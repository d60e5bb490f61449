"""``moderntensor``: node, keys, tx, query and status commands."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import click

from ..address import from_bech32, module_address, to_bech32
from ..errors import ERRORS_BY_CODE
from ..modules.bank.messages import MsgTransfer
from ..node.cometbft import CometBFTError, parse_override
from ..node.home import NodeConfig, NodeHome
from ..node.init import DEFAULT_DEV_BALANCE, init_node
from ..node.supervisor import run_node
from ..tx import build_tx
from .common import Ctx, default_home, emit, format_mdt, parse_amount, user_errors


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


# --- node ------------------------------------------------------------------------------------
@cli.group()
def node() -> None:
    """Create and run a node (cometbft + the app)."""


@node.command("init")
@click.option("--chain-id", default="moderntensor-local-1", show_default=True)
@click.option("--moniker", default="moderntensor-node", show_default=True)
@click.option("--rpc-port", type=int, default=26657, show_default=True)
@click.option("--p2p-port", type=int, default=26656, show_default=True)
@click.option("--abci-port", type=int, default=26658, show_default=True)
@click.option("--prometheus-port", type=int, default=26660, show_default=True)
@click.option(
    "--dev-balance",
    type=int,
    default=DEFAULT_DEV_BALANCE,
    show_default=True,
    help="Base units given to the generated dev key.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="Extra config.toml setting, e.g. consensus.timeout_commit=200ms.",
)
@click.pass_obj
def node_init(
    obj: Ctx,
    chain_id: str,
    moniker: str,
    rpc_port: int,
    p2p_port: int,
    abci_port: int,
    prometheus_port: int,
    dev_balance: int,
    overrides: tuple[str, ...],
) -> None:
    """Initialise a single-node chain in --home (example: moderntensor --home .data node init)."""
    with user_errors():
        cfg = NodeConfig(chain_id, moniker, rpc_port, p2p_port, abci_port, prometheus_port)
        parsed = [parse_override(o) for o in overrides]
        address = init_node(NodeHome(obj.home), cfg, parsed, dev_balance)
    emit(
        obj,
        {"home": str(obj.home), "chain_id": chain_id, "dev_address": address},
        f"initialised {obj.home} (chain {chain_id}); dev key address {address}",
    )


@node.command("app")
@click.option(
    "--abci",
    default=None,
    help="Listen address, tcp://host:port or unix:///path (default: the ABCI port from node.json).",
)
@click.option("--log-level", default="INFO", show_default=True)
@click.pass_obj
def node_app(obj: Ctx, abci: str | None, log_level: str) -> None:
    """Run only the ABCI app (cometbft runs separately and dials it)."""
    from ..app import Application
    from ..server import run_server
    from ..state.db import StateDB

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    home = NodeHome(obj.home)
    with user_errors():
        address = abci or home.load_config().abci_address
    db = StateDB(home.state_db)
    try:
        code = asyncio.run(run_server(Application(db), address))
    finally:
        db.close()
    sys.exit(code)


@node.command("start")
@click.pass_obj
def node_start(obj: Ctx) -> None:
    """Start the app and cometbft for --home and wait (Ctrl-C stops both)."""
    with user_errors():
        sys.exit(run_node(NodeHome(obj.home)))


# --- keys ------------------------------------------------------------------------------------
def _keyring(obj: Ctx) -> Any:
    from ..client.keyring import Keyring

    return Keyring(NodeHome(obj.home).keyring)


@cli.group()
def keys() -> None:
    """Manage local keys (stored with 0600 permissions in <home>/keyring)."""


@keys.command("add")
@click.argument("name")
@click.pass_obj
def keys_add(obj: Ctx, name: str) -> None:
    """Create a new key (example: moderntensor keys add alice)."""
    with user_errors():
        key = _keyring(obj).add(name)
    emit(obj, key.public_info(), f"created key {name}: {key.address}")


@keys.command("show")
@click.argument("name")
@click.pass_obj
def keys_show(obj: Ctx, name: str) -> None:
    """Show a key's address and public key (example: moderntensor keys show dev)."""
    with user_errors():
        key = _keyring(obj).get(name)
    emit(obj, key.public_info(), key.address)


@keys.command("list")
@click.pass_obj
def keys_list(obj: Ctx) -> None:
    """List every key (example: moderntensor keys list)."""
    with user_errors():
        found = _keyring(obj).list()
    emit(
        obj,
        [k.public_info() for k in found],
        lambda: "\n".join(f"{k.name}\t{k.address}" for k in found) or "(no keys)",
    )


# --- tx --------------------------------------------------------------------------------------
@cli.group()
def tx() -> None:
    """Sign and broadcast transactions."""


def _explain(code: int, log: str) -> str:
    err = ERRORS_BY_CODE.get(code)
    name = err.__name__ if err else "error"
    return f"rejected with code {code} ({name}): {log}"


@tx.command("transfer")
@click.option("--from", "from_", required=True, help="Key name in the keyring.")
@click.option("--to", required=True, help="Recipient address (mt1…).")
@click.option("--amount", required=True, help="Base units (1000) or MDT (1.5mdt).")
@click.option("--fee", type=int, default=None, help="Fee in base units (default: min_fee).")
@click.option("--memo", default="")
@click.option("--no-wait", is_flag=True, help="Return after broadcast, do not wait for the block.")
@click.option("--wait-timeout", type=float, default=30.0, show_default=True)
@click.pass_obj
def tx_transfer(
    obj: Ctx,
    from_: str,
    to: str,
    amount: str,
    fee: int | None,
    memo: str,
    no_wait: bool,
    wait_timeout: float,
) -> None:
    """Send tokens (example: moderntensor tx transfer --from dev --to mt1… --amount 1.5mdt)."""
    value = parse_amount(amount)
    with user_errors(), obj.rpc() as rpc:
        key = _keyring(obj).get(from_)
        recipient = from_bech32(to)
        params = rpc.abci_query("/params").json()
        acct = rpc.abci_query(f"/account/{key.address}").json()
        the_fee = fee if fee is not None else int(params["params"]["min_fee"])
        raw = build_tx(
            key.signing_key,
            params["chain_id"],
            int(acct["nonce"]),
            the_fee,
            [MsgTransfer(to=recipient, amount=value)],
            memo,
        )
        res = rpc.broadcast_tx_sync(raw)
        if res.code != 0:
            raise click.ClickException(_explain(res.code, res.log))
        if no_wait:
            emit(obj, {"hash": res.hash, "code": 0}, f"broadcast {res.hash}")
            return
        if obj.output == "text":
            click.echo(f"broadcast {res.hash}, waiting for a block…", err=True)
        done = rpc.wait_for_tx(res.hash, timeout=wait_timeout)
        data = {"hash": done.hash, "height": done.height, "code": done.code, "log": done.log}
        if done.code != 0:
            emit(obj, data)
            raise click.ClickException(
                f"included at height {done.height} but " + _explain(done.code, done.log)
            )
        emit(
            obj,
            data,
            f"committed at height {done.height}: sent {format_mdt(value)} to {to} (tx {done.hash})",
        )


# --- query -----------------------------------------------------------------------------------
@cli.group()
def query() -> None:
    """Read chain state (through abci_query)."""


@query.command("account")
@click.argument("address")
@click.option("--prove", is_flag=True, help="Also fetch and verify a Merkle proof.")
@click.pass_obj
def query_account(obj: Ctx, address: str, prove: bool) -> None:
    """Balance and nonce (example: moderntensor query account mt1…)."""
    from ..client.proof import verify_query_proof

    with user_errors(), obj.rpc() as rpc:
        from_bech32(address)
        res = rpc.abci_query(f"/account/{address}", prove=prove)
        if res.code != 0:
            raise click.ClickException(_explain(res.code, res.log))
        data = res.json()
        if prove:
            raw = rpc.abci_query(f"/store/{res.key.hex()}", prove=True)
            app_hash = rpc.block_app_hash(raw.height + 1) if raw.height else b""
            verify_query_proof(app_hash, raw.key, raw.value or None, raw.proof_ops)
            data["proof"] = {"height": raw.height, "app_hash": app_hash.hex(), "verified": True}
    emit(
        obj,
        data,
        lambda: (
            f"{data['address']}\n  balance {format_mdt(int(data['balance']))}"
            f" ({data['balance']} base units)\n  nonce   {data['nonce']}"
            + ("\n  proof   verified" if prove else "")
        ),
    )


@query.command("params")
@click.pass_obj
def query_params(obj: Ctx) -> None:
    """Chain id and parameters."""
    with user_errors(), obj.rpc() as rpc:
        data = rpc.abci_query("/params").json()
    emit(obj, data)


@query.command("supply")
@click.pass_obj
def query_supply(obj: Ctx) -> None:
    """Total supply and the fee collector's balance."""
    with user_errors(), obj.rpc() as rpc:
        total = int(rpc.abci_query("/supply").json()["total"])
        fees = rpc.abci_query(f"/account/{to_bech32(module_address('fee_collector'))}").json()
    data = {"total": str(total), "fee_collector": fees["balance"]}
    emit(
        obj,
        data,
        f"total supply {format_mdt(total)}; fees collected {format_mdt(int(fees['balance']))}",
    )


@cli.command()
@click.pass_obj
def status(obj: Ctx) -> None:
    """Node status: chain, height, app hash, catching up."""
    with user_errors(), obj.rpc() as rpc:
        st = rpc.status()
    si, ni = st["sync_info"], st["node_info"]
    data = {
        "chain_id": ni["network"],
        "moniker": ni["moniker"],
        "latest_block_height": int(si["latest_block_height"]),
        "latest_app_hash": si["latest_app_hash"],
        "latest_block_time": si["latest_block_time"],
        "catching_up": si["catching_up"],
        "node": obj.node,
    }
    emit(obj, data, "\n".join(f"{k:20} {v}" for k, v in data.items()))


def main() -> None:
    try:
        cli(prog_name="moderntensor")
    except CometBFTError as e:  # raised while parsing options, outside a command's handler
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
