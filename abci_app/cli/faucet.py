"""``moderntensor faucet …``: serve the test-token faucet (page, API, optional metrics)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..faucet.http import FaucetServer
from ..faucet.ledger import Ledger, Limits
from ..faucet.metrics import FaucetMetrics
from ..faucet.service import Faucet
from ..node.home import NodeHome
from .common import PORT, SECONDS, Ctx, parse_amount, user_errors
from .txsend import keyring_of


@click.group()
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
@click.option("--port", type=PORT, default=8000, show_default=True)
@click.option("--amount", default="100mdt", show_default=True, help="Sent per grant.")
@click.option(
    "--cooldown",
    type=SECONDS,
    default=86_400,
    show_default=True,
    help="Seconds before an address may be funded again.",
)
@click.option(
    "--ip-limit",
    type=click.IntRange(1, 10**6),
    default=5,
    show_default=True,
    help="Grants per client IP per --ip-window.",
)
@click.option("--ip-window", type=SECONDS, default=86_400, show_default=True)
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
    type=PORT,
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
        service = Faucet(obj.node, key, limits, book, metrics=metrics)
        server = FaucetServer(service, host, port, trust_proxy)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e}") from None
    click.echo(f"faucet on {server.url} paying from {key.address} through {obj.node}")
    try:
        server.serve_until_interrupted()
    finally:
        book.close()
