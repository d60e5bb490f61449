"""``moderntensor node …``: create a node home, run the app alone, or run app and cometbft."""

from __future__ import annotations

import asyncio
import logging
import sys

import click

from ..crashpoints import CrashPointError, crash_plan_from_env
from ..node.cometbft import parse_override
from ..node.home import NodeConfig, NodeHome
from ..node.init import DEFAULT_DEV_BALANCE, init_node
from ..node.processes import stop_node_processes
from ..node.supervisor import run_node
from ..state.db import StateDB
from ..state.snapshot import SnapshotStore
from .common import PORT, U64, Ctx, emit, user_errors


@click.group()
def node() -> None:
    """Create and run a node (cometbft + the app)."""


@node.command("init")
@click.option("--chain-id", default="moderntensor-local-1", show_default=True)
@click.option("--moniker", default="moderntensor-node", show_default=True)
@click.option("--rpc-port", type=PORT, default=26657, show_default=True)
@click.option("--p2p-port", type=PORT, default=26656, show_default=True)
@click.option("--abci-port", type=PORT, default=26658, show_default=True)
@click.option("--prometheus-port", type=PORT, default=26660, show_default=True)
@click.option(
    "--app-metrics-port",
    type=PORT,
    default=26661,
    show_default=True,
    help="The app's own Prometheus /metrics port (0: off).",
)
@click.option(
    "--dev-balance",
    type=U64,
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
@click.option(
    "--template",
    type=click.Choice(["single-node", "production-validator"]),
    default="single-node",
    show_default=True,
    help="Config template from cometbft-config/.",
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
    app_metrics_port: int,
    dev_balance: int,
    overrides: tuple[str, ...],
    template: str,
) -> None:
    """Initialise a single-node chain in --home (example: moderntensor --home .data node init)."""
    with user_errors():
        cfg = NodeConfig(
            chain_id, moniker, rpc_port, p2p_port, abci_port, prometheus_port, app_metrics_port
        )
        parsed = [parse_override(o) for o in overrides]
        address = init_node(NodeHome(obj.home), cfg, parsed, dev_balance, template)
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
@click.option(
    "--metrics-port",
    type=PORT,
    default=None,
    help="Port of the app's Prometheus /metrics (default: node.json, 26661; 0 turns it off).",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@click.option(
    "--halt-height",
    type=click.IntRange(min=0),
    default=0,
    help="Commit this height, then stop cleanly (for coordinated upgrades; 0: never).",
)
@click.option(
    "--snapshot-interval",
    type=click.IntRange(min=0),
    default=None,
    help="Take a state-sync snapshot every N blocks (default: node.json; 0: none).",
)
@click.pass_obj
def node_app(
    obj: Ctx,
    abci: str | None,
    log_level: str,
    metrics_port: int | None,
    metrics_host: str,
    halt_height: int,
    snapshot_interval: int | None,
) -> None:
    """Run only the ABCI app; cometbft runs separately and dials it (example: moderntensor
    --home .data node app --metrics-port 26661)."""
    # Imported here, not at the top: the ABCI app, its server and metrics (the ABCI protobuf
    # descriptors, the whole execution path, prometheus_client) add about 35 ms to the start of
    # every other command (python -X importtime), and only this command runs them.
    from ..app import Application
    from ..metrics import AppMetrics
    from ..runtime import RuntimeRefused, check_abci_address, check_protobuf_backend
    from ..server import run_server

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        check_protobuf_backend()
        home = NodeHome(obj.home)
        if not home.config_file.is_file():
            raise click.ClickException(
                f"{home.config_file} not found: run `moderntensor --home {obj.home} node init`"
            )
        with user_errors():
            cfg = home.load_config()
        address = abci or cfg.abci_address
        check_abci_address(address)
    except RuntimeRefused as e:
        raise click.ClickException(str(e)) from None
    try:
        crash = crash_plan_from_env()
    except CrashPointError as e:
        raise click.ClickException(str(e)) from None
    interval = cfg.snapshot_interval if snapshot_interval is None else snapshot_interval
    try:
        snapshots = SnapshotStore(
            home.snapshots, interval, cfg.snapshot_keep, cfg.snapshot_chunk_bytes
        )
    except ValueError as e:
        raise click.ClickException(f"{home.config_file}: {e}") from None
    port = cfg.app_metrics_port if metrics_port is None else metrics_port
    metrics = AppMetrics() if port else None
    if metrics is not None:
        try:
            metrics.serve(port, metrics_host)
        except OSError as e:
            raise click.ClickException(
                f"cannot serve app metrics on {metrics_host}:{port}: {e.strerror} "
                "(use --metrics-port, or 0 to turn metrics off)"
            ) from None
    app = Application(
        StateDB(home.state_db),
        metrics=metrics,
        snapshot_store=snapshots,
        crash=crash,
        halt_height=halt_height,
    )
    if halt_height and app.db.height > halt_height:
        click.echo(
            f"warning: the state is at height {app.db.height}, past --halt-height {halt_height}: "
            "the app stops at the first block it is asked for",
            err=True,
        )
    try:
        code = asyncio.run(run_server(app, address))
        height = app.db.height
    finally:
        snapshots.wait()
        app.db.close()
    if code == 0 and app.halted:
        click.echo(f"halted after committing height {height} (--halt-height)")
    sys.exit(code)


@node.command("start")
@click.option(
    "--halt-height",
    type=click.IntRange(min=0),
    default=0,
    help="The app commits this height and stops; cometbft is stopped with it (0: never).",
)
@click.pass_obj
def node_start(obj: Ctx, halt_height: int) -> None:
    """Start the app and cometbft for --home and wait; Ctrl-C stops both (example:
    moderntensor --home .data node start)."""
    with user_errors():
        sys.exit(run_node(NodeHome(obj.home), halt_height=halt_height))


@node.command("stop")
@click.option(
    "--timeout",
    "stop_timeout",
    type=click.FloatRange(1, 600),
    default=15.0,
    show_default=True,
    help="Seconds per step before SIGKILL.",
)
@click.pass_obj
def node_stop(obj: Ctx, stop_timeout: float) -> None:
    """Stop the node of --home wherever it was started (`node start`, `localnet start`, or
    `node app` and `cometbft start` run separately); only processes whose command line names
    this home are signalled (example: moderntensor --home .data node stop)."""
    stopped = stop_node_processes(NodeHome(obj.home).root, timeout=stop_timeout)
    data = [{"pid": p.pid, "role": p.role} for p in stopped]
    emit(
        obj,
        data,
        lambda: (
            "\n".join(f"stopped {p.role} (pid {p.pid})" for p in stopped)
            or f"no node of {obj.home} is running"
        ),
    )
