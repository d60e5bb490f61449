"""``moderntensor neuron …``: run a miner's axon or a validator's loop (README "Run a subnet")."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import click

from ..client.keyring import KeyringError
from ..client.rpc import NodeUnreachable, RPCError, TxTimeout
from ..errors import ModernTensorError
from ..neurons.extras import install_command, missing_ml
from ..neurons.keys import load_hotkey
from ..neurons.tasks.base import Task, TaskLoadError, load_task
from .common import Ctx

START_ERRORS = (KeyringError, TaskLoadError, NodeUnreachable, RPCError, TxTimeout, OSError)


@click.group()
def neuron() -> None:
    """Subnet neurons: a miner serving a model, a validator scoring miners."""


def _task(spec: str) -> Task:
    try:
        return load_task(spec)
    except TaskLoadError as e:
        hint = ""
        if missing_ml():
            hint = f"\n  the [ml] extra is missing: {install_command()}  (or: make ml)"
        raise click.ClickException(f"{e}{hint}") from None


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise


def _serve(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run until SIGINT/SIGTERM; expected failures become one ``Error:`` line."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(stop)

    try:
        asyncio.run(main())
    except ModernTensorError as e:
        raise click.ClickException(e.log()) from None
    except START_ERRORS as e:
        raise click.ClickException(str(e)) from None


_common = [
    click.option("--netuid", type=int, required=True, help="Subnet to work on."),
    click.option("--from", "from_", required=True, help="Hotkey: key name in the keyring."),
    click.option(
        "--task",
        "task_spec",
        default="digits",
        show_default=True,
        help="Built-in task, module:Class or file.py:Class.",
    ),
    click.option("--log-level", default="INFO", show_default=True),
]


def common_options(f: Callable[..., None]) -> Callable[..., None]:
    """--netuid, --from, --task and --log-level, shared by both commands."""
    for option in reversed(_common):
        f = option(f)
    return f


@neuron.command("miner")
@common_options
@click.option("--model", default=None, help="Reference model of the task (default: its first).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8091, show_default=True, help="0: any free port.")
@click.option("--external-ip", default=None, help="IP announced on chain (default: --host).")
@click.option("--external-port", type=int, default=None, help="Port announced (default: --port).")
@click.option(
    "--max-concurrency",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Model calls at once (more: 429).",
)
@click.option(
    "--max-connections-per-ip",
    type=click.IntRange(1),
    default=16,
    show_default=True,
    help="Connections held from one address (raise it behind a reverse proxy).",
)
@click.pass_obj
def neuron_miner(
    obj: Ctx,
    netuid: int,
    from_: str,
    task_spec: str,
    log_level: str,
    model: str | None,
    host: str,
    port: int,
    external_ip: str | None,
    external_port: int | None,
    max_concurrency: int,
    max_connections_per_ip: int,
) -> None:
    """Train the task's model and serve it on an axon; sends serve_axon when needed. The
    hotkey must be registered on the subnet (example: moderntensor neuron miner --netuid 1
    --from miner1 --model logreg --port 8091)."""
    # (aiohttp is imported by the miner only: other commands start faster without it)
    from ..neurons.miner import Miner, MinerConfig

    _logging(log_level)
    try:
        key = load_hotkey(
            obj.home, from_, obj.passphrase_file
        )  # (before the task: loading one can take seconds)
    except KeyringError as e:
        raise click.ClickException(str(e)) from None
    task = _task(task_spec)
    name = model or task.models[0]
    try:
        click.echo(f"training {task.name} model {name!r}…", err=True)
        fn = task.reference_miner(name)
    except (KeyringError, TaskLoadError) as e:
        raise click.ClickException(str(e)) from None
    announce = external_ip or (host if host not in ("0.0.0.0", "::") else "127.0.0.1")
    cfg = MinerConfig(
        netuid=netuid,
        host=host,
        port=port,
        external_ip=announce,
        external_port=external_port,
        max_concurrency=max_concurrency,
        max_connections_per_ip=max_connections_per_ip,
        rpc_timeout=obj.timeout,
    )
    _serve(Miner(obj.node, key, task, fn, cfg).run)


@neuron.command("validator")
@common_options
@click.option("--sample-size", type=int, default=16, show_default=True, help="Inputs per round.")
@click.option(
    "--timeout",
    "answer_timeout",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds a miner has to answer (later scores 0).",
)
@click.option("--round-seconds", type=float, default=6.0, show_default=True)
@click.option("--latency-weight", type=click.FloatRange(0, 1), default=0.2, show_default=True)
@click.option(
    "--ema-alpha", type=click.FloatRange(0, 1, min_open=True), default=0.3, show_default=True
)
@click.option("--version-key", type=int, default=0, show_default=True)
@click.option(
    "--full-sync-every",
    type=int,
    default=20,
    show_default=True,
    help="Blocks between whole-metagraph syncs.",
)
@click.option(
    "--warmup-rounds",
    type=click.IntRange(0),
    default=5,
    show_default=True,
    help="Rounds scored after start before committing weights.",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Scores and pending commits (default: <home>/neurons/validator-NETUID-KEY).",
)
@click.option("--metrics-port", type=int, default=0, show_default=True, help="0: off.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@click.pass_obj
def neuron_validator(
    obj: Ctx,
    netuid: int,
    from_: str,
    task_spec: str,
    log_level: str,
    sample_size: int,
    answer_timeout: float,
    round_seconds: float,
    latency_weight: float,
    ema_alpha: float,
    version_key: int,
    full_sync_every: int,
    warmup_rounds: int,
    state_dir: Path | None,
    metrics_port: int,
    metrics_host: str,
) -> None:
    """Query every miner each round, score quality and latency, keep moving averages and set
    weights (commit-reveal and the rate limit handled); survives restarts (example:
    moderntensor neuron validator --netuid 1 --from val1 --metrics-port 9101)."""
    # (the validator's modules pull in aiohttp and httpx's async stack: imported here only)
    from prometheus_client import start_http_server

    from ..neurons.metrics import ValidatorMetrics
    from ..neurons.validator import Validator, ValidatorConfig

    _logging(log_level)
    try:
        key = load_hotkey(
            obj.home, from_, obj.passphrase_file
        )  # (before the task: loading one can take seconds)
    except KeyringError as e:
        raise click.ClickException(str(e)) from None
    task = _task(task_spec)
    folder = state_dir or obj.home / "neurons" / f"validator-{netuid}-{from_}"
    cfg = ValidatorConfig(
        netuid=netuid,
        state_dir=folder,
        sample_size=sample_size,
        timeout=answer_timeout,
        round_seconds=round_seconds,
        latency_weight=latency_weight,
        ema_alpha=ema_alpha,
        version_key=version_key,
        full_sync_every=full_sync_every,
        rpc_timeout=obj.timeout,
        warmup_rounds=warmup_rounds,
    )
    metrics = ValidatorMetrics()
    if metrics_port:
        try:
            start_http_server(metrics_port, metrics_host, registry=metrics.registry)
        except OSError as e:
            raise click.ClickException(f"metrics port {metrics_port}: {e.strerror}") from None
    click.echo(f"validator {key.address} on subnet {netuid}, state in {folder}", err=True)
    _serve(Validator(obj.node, key, task, cfg, metrics).run)
