"""``moderntensor``: node, keys, tx, query and status commands."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from ..address import from_bech32, module_address, to_bech32
from ..modules.bank.messages import MsgTransfer
from ..node.cometbft import CometBFTError, parse_override
from ..node.home import NodeConfig, NodeHome
from ..node.init import DEFAULT_DEV_BALANCE, init_node
from ..node.supervisor import run_node
from .bench import bench
from .common import Ctx, default_home, emit, format_mdt, parse_amount, user_errors
from .subnet import subnet
from .txsend import TxOpts, address_arg, explain, keyring_of, query_json, send_tx, tx_options


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
    "--app-metrics-port",
    type=int,
    default=26661,
    show_default=True,
    help="The app's own Prometheus /metrics port (0: off).",
)
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
    type=int,
    default=None,
    help="Port of the app's Prometheus /metrics (default: node.json, 26661; 0 turns it off).",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@click.pass_obj
def node_app(
    obj: Ctx, abci: str | None, log_level: str, metrics_port: int | None, metrics_host: str
) -> None:
    """Run only the ABCI app; cometbft runs separately and dials it (example: moderntensor
    --home .data node app --metrics-port 26661)."""
    from ..app import Application
    from ..runtime import RuntimeRefused, check_abci_address, check_protobuf_backend
    from ..server import run_server
    from ..state.db import StateDB

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from ..metrics import AppMetrics

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
    db = StateDB(home.state_db)
    try:
        code = asyncio.run(run_server(Application(db, metrics=metrics), address))
    finally:
        db.close()
    sys.exit(code)


@node.command("start")
@click.pass_obj
def node_start(obj: Ctx) -> None:
    """Start the app and cometbft for --home and wait; Ctrl-C stops both (example:
    moderntensor --home .data node start)."""
    with user_errors():
        sys.exit(run_node(NodeHome(obj.home)))


# --- genesis ---------------------------------------------------------------------------------
@cli.group()
def genesis() -> None:
    """Build, check and export genesis files (coordinator and validators)."""


def _kv_pairs(items: tuple[str, ...], what: str) -> dict[str, int]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value.isdigit():
            raise click.BadParameter(f"{item!r}: use NAME=INTEGER", param_hint=what)
        out[name] = int(value)
    return out


@genesis.command("init")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--chain-id", required=True)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="App param, e.g. min_fee=1000 (see README).",
)
@click.option(
    "--staking-param",
    "staking_params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Staking param, e.g. max_validators=50.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_obj
def genesis_init(
    obj: Ctx,
    file: Path,
    chain_id: str,
    params: tuple[str, ...],
    staking_params: tuple[str, ...],
    force: bool,
) -> None:
    """Start a new genesis (example: moderntensor genesis init g.json --chain-id mt-test-1)."""
    from ..node import genesis_file

    if file.exists() and not force:
        raise click.ClickException(f"{file} exists (use --force to overwrite)")
    with user_errors():
        g = genesis_file.new_genesis(
            chain_id, _kv_pairs(params, "--param"), _kv_pairs(staking_params, "--staking-param")
        )
        genesis_file.save(file, g)
    emit(obj, {"file": str(file), "chain_id": chain_id}, f"wrote {file} for chain {chain_id}")


@genesis.command("add-account")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("address")
@click.argument("amount")
@click.pass_obj
def genesis_add_account(obj: Ctx, file: Path, address: str, amount: str) -> None:
    """Fund an address (example: moderntensor genesis add-account g.json mt1… 1000mdt)."""
    from ..node import genesis_file

    value = parse_amount(amount)
    with user_errors():
        g = genesis_file.load(file)
        genesis_file.add_account(g, address, value)
        genesis_file.save(file, g)
    emit(obj, {"address": address, "balance": str(value)}, f"added {address}: {format_mdt(value)}")


@genesis.command("gentx")
@click.option("--from", "from_", required=True, help="Operator key name in the keyring.")
@click.option(
    "--pv-key",
    type=click.Path(path_type=Path),
    default=None,
    help="priv_validator_key.json (default: <home>/cometbft/config/…).",
)
@click.option("--amount", required=True, help="Self-bond, e.g. 10000mdt.")
@click.option("--moniker", required=True)
@click.option("--chain-id", required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.pass_obj
def genesis_gentx(
    obj: Ctx, from_: str, pv_key: Path | None, amount: str, moniker: str, chain_id: str, out: Path
) -> None:
    """Sign your validator's genesis entry (example: … genesis gentx --from val0 --amount 10000mdt
    --moniker val0 --chain-id mt-test-1 --out val0.gentx.json)."""
    from ..node import genesis_file

    value = parse_amount(amount)
    with user_errors():
        key = keyring_of(obj).get(from_)
        pv = pv_key or NodeHome(obj.home).cometbft / "config" / "priv_validator_key.json"
        doc = genesis_file.gentx(key.signing_key, pv, value, moniker, chain_id).to_dict()
    out.write_text(json.dumps(doc, indent=2) + "\n")
    emit(obj, doc, f"wrote {out}: {moniker} self-bonds {format_mdt(value)}")


@genesis.command("add-validator")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("gentx_file", type=click.Path(path_type=Path))
@click.pass_obj
def genesis_add_validator(obj: Ctx, file: Path, gentx_file: Path) -> None:
    """Collect a signed gentx (example: … genesis add-validator g.json val0.gentx.json)."""
    from ..node import genesis_file

    with user_errors():
        g = genesis_file.load(file)
        doc = genesis_file.load(gentx_file)
        genesis_file.add_validator(g, doc)
        genesis_file.save(file, g)
    emit(obj, {"added": doc.get("moniker")}, f"added validator {doc.get('moniker')} to {file}")


@genesis.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_obj
def genesis_validate(obj: Ctx, file: Path) -> None:
    """Check a genesis against every rule InitChain enforces (example: … validate g.json)."""
    from ..node import genesis_file

    with user_errors():
        state = genesis_file.validate(genesis_file.load(file))
    data = {
        "valid": True,
        "accounts": len(state.accounts),
        "supply": str(state.total_supply),
        "validators": len(state.validators) + len(state.gen_txs),
    }
    emit(
        obj,
        data,
        f"{file} is valid: {data['accounts']} accounts, {data['validators']} "
        f"validators, supply {format_mdt(state.total_supply)}",
    )


@genesis.command("export")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.pass_obj
def genesis_export(obj: Ctx, out: Path) -> None:
    """Write the state of the stopped node in --home as a new genesis (example: moderntensor
    --home .data genesis export --out exported.json)."""
    from ..node import genesis_file
    from ..state.db import StateDB

    home = NodeHome(obj.home)
    if not home.state_db.exists():
        raise click.ClickException(f"no app state in {home.root} (is --home right?)")
    with user_errors():
        db = StateDB(home.state_db)
        try:
            g = genesis_file.export(db, genesis_file.load(home.genesis_file))
        finally:
            db.close()
        genesis_file.save(out, g)
    emit(
        obj,
        {"file": str(out), "initial_height": g["initial_height"]},
        f"exported height {int(g['initial_height']) - 1} to {out}",
    )


# --- localnet --------------------------------------------------------------------------------
@cli.group()
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    default=Path(".localnet"),
    show_default=True,
    help="Folder holding every node of the localnet.",
)
@click.pass_context
def localnet(ctx: click.Context, root: Path) -> None:
    """A multi-validator network on this machine's loopback."""
    ctx.obj.localnet_root = root


def _plan_options(f: Any) -> Any:
    f = click.option("--validators", "-n", type=int, default=4, show_default=True)(f)
    f = click.option(
        "--seed/--no-seed",
        default=True,
        show_default=True,
        help="Also run a seed node that late joiners bootstrap from.",
    )(f)
    f = click.option(
        "--base-port",
        type=int,
        default=27000,
        show_default=True,
        help="Node i uses base+10i (+0 p2p, +1 rpc, +2 abci, +3 cometbft metrics, +4 app metrics).",
    )(f)
    return click.option("--chain-id", default="moderntensor-localnet-1", show_default=True)(f)


@localnet.command("init")
@_plan_options
@click.option("--docker", is_flag=True, help="Write configs for deploy/compose.yaml instead.")
@click.pass_obj
def localnet_init(
    obj: Ctx, validators: int, seed: bool, base_port: int, chain_id: str, docker: bool
) -> None:
    """Create the nodes without starting them (example: moderntensor localnet init -n 4)."""
    from ..node.localnet import LocalnetError, LocalnetPlan, init_localnet

    root = obj.localnet_root
    try:
        with user_errors():
            init_localnet(root, LocalnetPlan(validators, seed, base_port, chain_id), docker)
    except LocalnetError as e:
        raise click.ClickException(str(e)) from None
    emit(
        obj,
        {"root": str(root), "validators": validators},
        f"created a {validators}-validator localnet in {root}",
    )


@localnet.command("start")
@_plan_options
@click.option("--node", "only", multiple=True, help="Start only this node (repeatable).")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait until every validator has produced a block.",
)
@click.pass_obj
def localnet_start(
    obj: Ctx,
    validators: int,
    seed: bool,
    base_port: int,
    chain_id: str,
    only: tuple[str, ...],
    wait: bool,
) -> None:
    """Create the localnet if needed and start it (example: moderntensor localnet start -n 4)."""
    from ..node.localnet import (
        LocalnetError,
        LocalnetPlan,
        init_localnet,
        load_plan,
        node_status,
        start_localnet,
    )

    root = obj.localnet_root
    try:
        with user_errors():
            if not (root / "localnet.json").exists():
                init_localnet(root, LocalnetPlan(validators, seed, base_port, chain_id))
            pids = start_localnet(root, list(only) or None)
            plan = load_plan(root)
            if wait:
                import time as _time

                deadline = _time.monotonic() + 120 + 5 * plan.validators
                pending = [n for n in plan.nodes() if n.validator]
                while pending and _time.monotonic() < deadline:
                    pending = [n for n in pending if node_status(n).get("height", 0) < 1]
                    _time.sleep(0.5)
                if pending:
                    raise LocalnetError("no block after waiting: see <root>/nodeN/logs/")
    except LocalnetError as e:
        raise click.ClickException(str(e)) from None
    emit(
        obj,
        {"root": str(root), "pids": pids},
        lambda: (
            "\n".join(
                f"{n.name:6} rpc {n.rpc_url}  metrics http://127.0.0.1:{n.prom}/metrics"
                for n in plan.nodes()
            )
            + f"\nlocalnet running from {root}; "
            "`moderntensor localnet status` shows agreement"
        ),
    )


@localnet.command("add-node")
@click.argument("name")
@click.pass_obj
def localnet_add_node(obj: Ctx, name: str) -> None:
    """Add a full node that joins through the seed node (example: … localnet add-node node4;
    then localnet start --node node4)."""
    from ..node.localnet import LocalnetError, add_full_node

    try:
        with user_errors():
            n = add_full_node(obj.localnet_root, name)
    except LocalnetError as e:
        raise click.ClickException(str(e)) from None
    emit(obj, {"node": n.name, "rpc": n.rpc_url}, f"added {n.name} (rpc {n.rpc_url})")


@localnet.command("stop")
@click.option("--node", "only", multiple=True, help="Stop only this node (repeatable).")
@click.pass_obj
def localnet_stop(obj: Ctx, only: tuple[str, ...]) -> None:
    """Stop the localnet's processes (example: moderntensor localnet stop)."""
    from ..node.localnet import stop_localnet

    stopped = stop_localnet(obj.localnet_root, list(only) or None)
    emit(obj, {"stopped": stopped}, f"stopped {', '.join(stopped) or 'nothing'}")


@localnet.command("status")
@click.pass_obj
def localnet_status_cmd(obj: Ctx) -> None:
    """Height, peers, voting power and app hash of every node (example: … localnet status)."""
    from ..node.localnet import LocalnetError, localnet_status

    try:
        st = localnet_status(obj.localnet_root)
    except LocalnetError as e:
        raise click.ClickException(str(e)) from None

    def text() -> str:
        lines = [f"{'node':6} {'height':>7} {'peers':>5} {'power':>6}  app hash"]
        for n in st["nodes"]:
            if not n.get("up"):
                lines.append(f"{n['node']:6} {'down':>7}")
                continue
            lines.append(
                f"{n['node']:6} {n['height']:>7} {n['peers']:>5} {n['voting_power']:>6}"
                f"  {n['app_hash'][:16]}…"
            )
        verdict = {True: "agree", False: "DISAGREE", None: "n/a"}[st["app_hashes_agree"]]
        lines.append(f"app hashes at height {st['common_height']}: {verdict}")
        return "\n".join(lines)

    emit(obj, st, text)
    if st["app_hashes_agree"] is False:
        sys.exit(1)


@localnet.command("compose")
@_plan_options
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("deploy/compose.yaml"), show_default=True
)
@click.option(
    "--prometheus-out",
    type=click.Path(path_type=Path),
    default=Path("deploy/prometheus.docker.yml"),
    show_default=True,
)
@click.pass_obj
def localnet_compose(
    obj: Ctx,
    validators: int,
    seed: bool,
    base_port: int,
    chain_id: str,
    out: Path,
    prometheus_out: Path,
) -> None:
    """Write the Docker compose file for the same plan (example: … localnet compose -n 4).

    \b
    Then: moderntensor localnet --root deploy/localnet init --docker -n 4
          MT_UID=$(id -u) MT_GID=$(id -g) docker compose -f deploy/compose.yaml up
    """
    from ..node.deploy_files import alerts_text, compose_text, prometheus_text
    from ..node.localnet import LocalnetError, LocalnetPlan

    try:
        plan = LocalnetPlan(validators, seed, base_port, chain_id)
    except LocalnetError as e:
        raise click.ClickException(str(e)) from None
    out.write_text(compose_text(plan))
    prometheus_out.write_text(prometheus_text(plan, docker=True))
    (prometheus_out.parent / "alerts.yml").write_text(alerts_text())
    loopback = prometheus_out.parent / "prometheus.yml"
    loopback.write_text(prometheus_text(plan, docker=False))
    emit(
        obj,
        {"compose": str(out), "prometheus": str(prometheus_out), "loopback": str(loopback)},
        f"wrote {out}, {prometheus_out}, {loopback} (for `make localnet`) and alerts.yml",
    )


@localnet.command("reset")
@click.pass_obj
def localnet_reset(obj: Ctx) -> None:
    """Stop the localnet and delete its folder, keys included (example: … localnet reset)."""
    import shutil

    from ..node.localnet import stop_localnet

    root = obj.localnet_root
    if (root / "localnet.json").exists():
        stop_localnet(root)
        shutil.rmtree(root)
    emit(obj, {"reset": str(root)}, f"removed {root}")


# --- faucet ----------------------------------------------------------------------------------
@cli.group()
def faucet() -> None:
    """The test-token faucet (HTTP)."""


@faucet.command("serve")
@click.option(
    "--key",
    "key_name",
    default="faucet",
    show_default=True,
    help="Keyring key that pays (in <home>/keyring).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--amount", default="100mdt", show_default=True, help="Sent per grant.")
@click.option(
    "--cooldown",
    type=int,
    default=86_400,
    show_default=True,
    help="Seconds before an address may be funded again.",
)
@click.option(
    "--ip-limit",
    type=int,
    default=5,
    show_default=True,
    help="Grants per client IP per --ip-window.",
)
@click.option("--ip-window", type=int, default=86_400, show_default=True)
@click.option("--daily-cap", default="10000mdt", show_default=True, help="Total given per UTC day.")
@click.option(
    "--ledger",
    type=click.Path(path_type=Path),
    default=None,
    help="Grant ledger file (default: <home>/faucet/ledger.sqlite).",
)
@click.option(
    "--trust-proxy",
    is_flag=True,
    help="Take the client IP from X-Forwarded-For (only behind your own proxy).",
)
@click.option(
    "--metrics-port",
    type=int,
    default=0,
    show_default=True,
    help="Serve Prometheus metrics on this port (0: off; 26662 is the convention).",
)
@click.pass_obj
def faucet_serve(
    obj: Ctx,
    key_name: str,
    host: str,
    port: int,
    amount: str,
    cooldown: int,
    ip_limit: int,
    ip_window: int,
    daily_cap: str,
    ledger: Path | None,
    trust_proxy: bool,
    metrics_port: int,
) -> None:
    """Serve the faucet page and API (example: moderntensor --home .localnet faucet serve
    --node http://127.0.0.1:27001)."""
    from ..faucet.http import FaucetServer
    from ..faucet.ledger import Ledger, Limits
    from ..faucet.metrics import FaucetMetrics
    from ..faucet.service import Faucet

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limits = Limits(parse_amount(amount), cooldown, ip_limit, ip_window, parse_amount(daily_cap))
    with user_errors():
        key = keyring_of(obj).get(key_name)
    metrics = FaucetMetrics() if metrics_port else None
    if metrics is not None:
        try:
            metrics.serve(metrics_port, host)
        except OSError as e:
            raise click.ClickException(
                f"cannot serve metrics on {host}:{metrics_port}: {e}"
            ) from None
    book = Ledger(ledger or NodeHome(obj.home).root / "faucet" / "ledger.sqlite")
    try:
        faucet = Faucet(obj.node, key, limits, book, metrics=metrics)
        server = FaucetServer(faucet, host, port, trust_proxy)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e}") from None
    click.echo(f"faucet on {server.url} paying from {key.address} through {obj.node}")
    try:
        server.serve_until_interrupted()
    finally:
        book.close()


# --- keys ------------------------------------------------------------------------------------
@cli.group()
def keys() -> None:
    """Manage local keys (stored with 0600 permissions in <home>/keyring)."""


@keys.command("add")
@click.argument("name")
@click.pass_obj
def keys_add(obj: Ctx, name: str) -> None:
    """Create a new key (example: moderntensor keys add alice)."""
    with user_errors():
        key = keyring_of(obj).add(name)
    emit(obj, key.public_info(), f"created key {name}: {key.address}")


@keys.command("show")
@click.argument("name")
@click.pass_obj
def keys_show(obj: Ctx, name: str) -> None:
    """Show a key's address and public key (example: moderntensor keys show dev)."""
    with user_errors():
        key = keyring_of(obj).get(name)
    emit(obj, key.public_info(), key.address)


@keys.command("list")
@click.pass_obj
def keys_list(obj: Ctx) -> None:
    """List every key (example: moderntensor keys list)."""
    with user_errors():
        found = keyring_of(obj).list()
    emit(
        obj,
        [k.public_info() for k in found],
        lambda: "\n".join(f"{k.name}\t{k.address}" for k in found) or "(no keys)",
    )


# --- tx --------------------------------------------------------------------------------------
@cli.group()
def tx() -> None:
    """Sign and broadcast transactions."""


@tx.command("transfer")
@tx_options
@click.option("--to", required=True, help="Recipient address (mt1…).")
@click.option("--amount", required=True, help="Base units (1000) or MDT (1.5mdt).")
@click.pass_obj
def tx_transfer(
    obj: Ctx,
    to: str,
    amount: str,
    tx: TxOpts,
) -> None:
    """Send tokens (example: moderntensor tx transfer --from dev --to mt1… --amount 1.5mdt)."""
    value = parse_amount(amount)
    msg = MsgTransfer(to=address_arg(to), amount=value)
    send_tx(obj, tx, [msg], f"sent {format_mdt(value)} to {to}")


@tx.group("staking")
def tx_staking() -> None:
    """Become a validator, delegate, undelegate, redelegate."""


def _rate(text: str) -> int:
    """A percentage like 10 or 12.5 as a fixed-point rate (10^9 = 100%)."""
    try:
        value = Decimal(text) * 10**7
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not a percentage") from None
    if value != value.to_integral_value() or not 0 <= value <= 10**9:
        raise click.BadParameter(f"{text!r} must be a percentage in [0, 100] (7 decimals)")
    return int(value)


@tx_staking.command("create-validator")
@tx_options
@click.option("--amount", required=True, help="Self-bond, e.g. 10000mdt.")
@click.option("--moniker", required=True)
@click.option("--website", default="")
@click.option(
    "--pv-key",
    type=click.Path(path_type=Path),
    default=None,
    help="priv_validator_key.json (default: <home>/cometbft/config/…).",
)
@click.option("--commission", default="10", show_default=True, help="Rate in percent.")
@click.option("--max-commission", default="20", show_default=True, help="Ceiling in percent.")
@click.option(
    "--max-change",
    default="1",
    show_default=True,
    help="Most the rate may move in one edit, in percentage points.",
)
@click.pass_obj
def tx_create_validator(
    obj: Ctx,
    amount: str,
    moniker: str,
    website: str,
    pv_key: Path | None,
    commission: str,
    max_commission: str,
    max_change: str,
    tx: TxOpts,
) -> None:
    """Turn your node's consensus key into a validator (example: moderntensor --home node5
    tx staking create-validator --from op --amount 10000mdt --moniker node5)."""
    from ..modules.staking.messages import MsgCreateValidator
    from ..node.genesis_file import read_pv_pubkey

    value = parse_amount(amount)
    with user_errors():
        pub = read_pv_pubkey(
            pv_key or NodeHome(obj.home).cometbft / "config" / "priv_validator_key.json"
        )
    msg = MsgCreateValidator(
        pub, value, moniker, website, _rate(commission), _rate(max_commission), _rate(max_change)
    )
    send_tx(
        obj,
        tx,
        [msg],
        f"validator {moniker} created with {format_mdt(value)}",
    )


@tx_staking.command("edit-validator")
@tx_options
@click.option("--moniker", default="")
@click.option("--website", default="")
@click.option("--commission", default=None, help="New rate in percent.")
@click.pass_obj
def tx_edit_validator(
    obj: Ctx,
    moniker: str,
    website: str,
    commission: str | None,
    tx: TxOpts,
) -> None:
    """Change moniker, website or commission (example: … tx staking edit-validator --from op
    --commission 11)."""
    from ..modules.staking.messages import MsgEditValidator

    msg = MsgEditValidator(
        moniker, website, commission is not None, _rate(commission) if commission is not None else 0
    )
    send_tx(obj, tx, [msg], "validator edited")


@tx_staking.command("delegate")
@tx_options
@click.option("--validator", required=True, help="Operator address (mt1…).")
@click.option("--amount", required=True)
@click.pass_obj
def tx_delegate(
    obj: Ctx,
    validator: str,
    amount: str,
    tx: TxOpts,
) -> None:
    """Bond tokens to a validator (example: … tx staking delegate --from alice --validator mt1…
    --amount 100mdt)."""
    from ..modules.staking.messages import MsgDelegate

    value = parse_amount(amount)
    send_tx(
        obj,
        tx,
        [MsgDelegate(address_arg(validator), value)],
        f"delegated {format_mdt(value)} to {validator}",
    )


@tx_staking.command("undelegate")
@tx_options
@click.option("--validator", required=True, help="Operator address (mt1…).")
@click.option("--amount", required=True)
@click.pass_obj
def tx_undelegate(
    obj: Ctx,
    validator: str,
    amount: str,
    tx: TxOpts,
) -> None:
    """Start unbonding (tokens return after unbonding_blocks; example: … tx staking undelegate
    --from alice --validator mt1… --amount 100mdt)."""
    from ..modules.staking.messages import MsgUndelegate

    value = parse_amount(amount)
    send_tx(
        obj,
        tx,
        [MsgUndelegate(address_arg(validator), value)],
        f"unbonding {format_mdt(value)} from {validator}",
    )


@tx_staking.command("withdraw-rewards")
@tx_options
@click.option("--validator", default="", help="Only from this validator (default: all).")
@click.pass_obj
def tx_withdraw_rewards(
    obj: Ctx,
    validator: str,
    tx: TxOpts,
) -> None:
    """Withdraw delegation rewards and, for an operator, commission (example: … tx staking
    withdraw-rewards --from alice)."""
    from ..modules.distribution.messages import MsgWithdrawRewards

    target = address_arg(validator) if validator else b""
    send_tx(
        obj,
        tx,
        [MsgWithdrawRewards(target)],
        "rewards withdrawn",
    )


@tx_staking.command("unjail")
@tx_options
@click.pass_obj
def tx_unjail(obj: Ctx, tx: TxOpts) -> None:
    """Return your jailed validator to the set after its jail time (example: moderntensor
    tx staking unjail --from op)."""
    from ..modules.slashing.messages import MsgUnjail

    send_tx(obj, tx, [MsgUnjail()], "validator unjailed")


@tx_staking.command("redelegate")
@tx_options
@click.option("--src", required=True, help="Operator address to move from.")
@click.option("--dst", required=True, help="Operator address to move to.")
@click.option("--amount", required=True)
@click.pass_obj
def tx_redelegate(
    obj: Ctx,
    src: str,
    dst: str,
    amount: str,
    tx: TxOpts,
) -> None:
    """Move a delegation at once (example: … tx staking redelegate --from alice --src mt1…
    --dst mt1… --amount 100mdt)."""
    from ..modules.staking.messages import MsgRedelegate

    value = parse_amount(amount)
    send_tx(
        obj,
        tx,
        [MsgRedelegate(address_arg(src), address_arg(dst), value)],
        f"moved {format_mdt(value)} from {src} to {dst}",
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
            raise click.ClickException(explain(res.code, res.log))
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


@query.group("staking")
def query_staking() -> None:
    """Validators, delegations, unbonding entries and staking params."""


@query_staking.command("validators")
@click.pass_obj
def query_validators(obj: Ctx) -> None:
    """Every validator with tokens, power and status (example: … query staking validators)."""
    data = query_json(obj, "/validators")
    emit(
        obj,
        data,
        lambda: (
            "\n".join(
                f"{v['moniker']:20} {v['operator']}  power {v['power']:>8}  "
                f"{format_mdt(int(v['tokens']))}{'  JAILED' if v['jailed'] else ''}"
                for v in data
            )
            or "(no validators)"
        ),
    )


@query_staking.command("validator")
@click.argument("operator")
@click.pass_obj
def query_validator(obj: Ctx, operator: str) -> None:
    """One validator by operator address (example: … query staking validator mt1…)."""
    emit(obj, query_json(obj, f"/validator/{operator}"))


@query_staking.command("delegations")
@click.argument("delegator")
@click.pass_obj
def query_delegations(obj: Ctx, delegator: str) -> None:
    """Delegations of an address (example: … query staking delegations mt1…)."""
    emit(obj, query_json(obj, f"/delegations/{delegator}"))


@query_staking.command("unbonding")
@click.argument("delegator")
@click.pass_obj
def query_unbonding(obj: Ctx, delegator: str) -> None:
    """Unbonding entries of an address (example: … query staking unbonding mt1…)."""
    emit(obj, query_json(obj, f"/unbonding/{delegator}"))


@query_staking.command("rewards")
@click.argument("address")
@click.pass_obj
def query_rewards(obj: Ctx, address: str) -> None:
    """Pending delegation rewards and commission (example: … query staking rewards mt1…)."""
    data = query_json(obj, f"/rewards/{address}")
    emit(
        obj,
        data,
        lambda: "\n".join(
            [f"{r['validator']}  {format_mdt(int(r['amount']))}" for r in data["rewards"]]
            + [
                f"commission  {format_mdt(int(data['commission']))}",
                f"total       {format_mdt(int(data['total']))}",
            ]
        ),
    )


@query_staking.command("signing-info")
@click.argument("operator")
@click.pass_obj
def query_signing_info(obj: Ctx, operator: str) -> None:
    """Missed blocks, jail time and tombstone of a validator (example: … query staking
    signing-info mt1…)."""
    emit(obj, query_json(obj, f"/signing_info/{operator}"))


@query_staking.command("params")
@click.pass_obj
def query_staking_params(obj: Ctx) -> None:
    """Staking parameters (example: … query staking params)."""
    emit(obj, query_json(obj, "/params/staking"))


@query.command("params")
@click.pass_obj
def query_params(obj: Ctx) -> None:
    """Chain id and parameters (example: moderntensor query params)."""
    with user_errors(), obj.rpc() as rpc:
        data = rpc.abci_query("/params").json()
    emit(obj, data)


@query.command("supply")
@click.pass_obj
def query_supply(obj: Ctx) -> None:
    """Total supply and the fee collector's balance (example: moderntensor query supply)."""
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
    """Node status: chain, height, app hash, catching up (example: moderntensor status)."""
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


cli.add_command(subnet)
cli.add_command(bench)


@cli.command("explorer")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.pass_obj
def explorer(obj: Ctx, host: str, port: int) -> None:
    """Serve the read-only block explorer for --node (example: moderntensor explorer --port
    8080, then open http://127.0.0.1:8080/)."""
    from ..explorer.server import ExplorerServer

    try:
        server = ExplorerServer(obj.node, host, port)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror}") from None
    click.echo(f"explorer on {server.url}/ reading {obj.node}")
    try:
        server.serve_until_interrupted()
    finally:
        server.http.close()


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script (example: eval "$(moderntensor completion bash)", or
    add that line to ~/.bashrc)."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None  # the three choices are click's built-in shells
    click.echo(cls(cli, {}, "moderntensor", "_MODERNTENSOR_COMPLETE").source())


def main() -> None:
    try:
        cli(prog_name="moderntensor")
    except CometBFTError as e:  # raised while parsing options, outside a command's handler
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
