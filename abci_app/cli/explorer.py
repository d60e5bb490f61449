"""``moderntensor explorer``: serve the read-only block explorer for --node."""

from __future__ import annotations

import click

from ..explorer.server import ExplorerServer
from .common import PORT, Ctx


@click.command("explorer")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=PORT, default=8080, show_default=True)
@click.pass_obj
def explorer(obj: Ctx, host: str, port: int) -> None:
    """Serve the read-only block explorer for --node (example: moderntensor explorer --port
    8080, then open http://127.0.0.1:8080/)."""
    try:
        server = ExplorerServer(obj.node, host, port)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror}") from None
    click.echo(f"explorer on {server.url}/ reading {obj.node}")
    try:
        server.serve_until_interrupted()
    finally:
        server.http.close()
