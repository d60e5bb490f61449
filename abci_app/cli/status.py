"""``moderntensor status``: the node's chain, height, app hash and sync state."""

from __future__ import annotations

import click

from .common import Ctx, emit, user_errors


@click.command()
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
