"""``moderntensor localnet …``: a multi-validator network on loopback, and its compose file."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

import click

from ..node.deploy_files import alerts_text, compose_text, prometheus_text
from ..node.localnet import (
    PRESETS,
    add_full_node,
    all_nodes,
    init_localnet,
    load_plan,
    localnet_status,
    node_status,
    start_localnet,
    stop_localnet,
)
from ..node.plan import (
    DEFAULT_BASE_PORT,
    DEFAULT_CHAIN_ID,
    DEFAULT_VALIDATORS,
    LocalnetError,
    LocalnetPlan,
)
from .common import Ctx, emit, user_errors

FIRST_BLOCK_WAIT = 120.0
"""Seconds ``localnet start`` waits for every validator's first block, plus 5 per validator."""


@click.group()
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
    f = click.option(
        "--validators",
        "-n",
        type=click.IntRange(1, 200),
        default=DEFAULT_VALIDATORS,
        show_default=True,
    )(f)
    f = click.option(
        "--seed/--no-seed",
        default=True,
        show_default=True,
        help="Also run a seed node that late joiners bootstrap from.",
    )(f)
    f = click.option(
        "--base-port",
        type=click.IntRange(1024, 60000),
        default=DEFAULT_BASE_PORT,
        show_default=True,
        help="Node i uses base+10i (+0 p2p, +1 rpc, +2 abci, +3 cometbft metrics, +4 app metrics).",
    )(f)
    f = click.option(
        "--preset",
        type=click.Choice(sorted(PRESETS)),
        default="default",
        show_default=True,
        help="Genesis params: fast = 100-block unbonding, 20-block slashing window, 30 s jail.",
    )(f)
    return click.option("--chain-id", default=DEFAULT_CHAIN_ID, show_default=True)(f)


@localnet.command("init")
@_plan_options
@click.option("--docker", is_flag=True, help="Write configs for deploy/compose.yaml instead.")
@click.pass_obj
def localnet_init(
    obj: Ctx,
    validators: int,
    seed: bool,
    base_port: int,
    chain_id: str,
    preset: str,
    docker: bool,
) -> None:
    """Create the nodes without starting them (example: moderntensor localnet init -n 4)."""
    root = obj.localnet_root
    try:
        with user_errors():
            plan = LocalnetPlan(validators, seed, base_port, chain_id)
            init_localnet(root, plan, docker, preset=preset)
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
    preset: str,
    only: tuple[str, ...],
    wait: bool,
) -> None:
    """Create the localnet if needed and start it (example: moderntensor localnet start -n 4)."""
    root = obj.localnet_root
    try:
        with user_errors():
            if not (root / "localnet.json").exists():
                plan = LocalnetPlan(validators, seed, base_port, chain_id)
                init_localnet(root, plan, preset=preset)
            pids = start_localnet(root, list(only) or None)
            plan = load_plan(root)
            if wait:
                deadline = time.monotonic() + FIRST_BLOCK_WAIT + 5 * plan.validators
                pending = [n for n in plan.nodes() if n.validator]
                while pending and time.monotonic() < deadline:
                    pending = [n for n in pending if node_status(n).get("height", 0) < 1]
                    time.sleep(0.5)
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
                for n in all_nodes(root)
            )
            + f"\nlocalnet running from {root}; "
            "`moderntensor localnet status` shows agreement"
        ),
    )


@localnet.command("add-node")
@click.argument("name")
@click.option(
    "--state-sync",
    is_flag=True,
    help="Join from a snapshot of the running validators instead of replaying from genesis.",
)
@click.pass_obj
def localnet_add_node(obj: Ctx, name: str, state_sync: bool) -> None:
    """Add a full node that joins through the seed node (example: … localnet add-node node4
    --state-sync; then localnet start --node node4)."""
    try:
        with user_errors():
            n = add_full_node(obj.localnet_root, name, state_sync=state_sync)
    except LocalnetError as e:
        raise click.ClickException(str(e)) from None
    emit(obj, {"node": n.name, "rpc": n.rpc_url}, f"added {n.name} (rpc {n.rpc_url})")


@localnet.command("stop")
@click.option("--node", "only", multiple=True, help="Stop only this node (repeatable).")
@click.pass_obj
def localnet_stop(obj: Ctx, only: tuple[str, ...]) -> None:
    """Stop the localnet's processes (example: moderntensor localnet stop)."""
    stopped = stop_localnet(obj.localnet_root, list(only) or None)
    emit(obj, {"stopped": stopped}, f"stopped {', '.join(stopped) or 'nothing'}")


@localnet.command("status")
@click.pass_obj
def localnet_status_cmd(obj: Ctx) -> None:
    """Height, peers, voting power and app hash of every node (example: … localnet status)."""
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
    root = obj.localnet_root
    if (root / "localnet.json").exists():
        stop_localnet(root)
        shutil.rmtree(root)
    emit(obj, {"reset": str(root)}, f"removed {root}")
