"""``moderntensor bench …``: the load generator (``abci_app/tools/loadgen.py``) from the command
line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..address import address_from_pubkey, to_bech32
from ..client.chain import Chain
from ..client.rpc import RPCClient
from ..modules.bank.messages import MsgTransfer
from ..tools.loadgen import bench_accounts, chart, kvstore_txs, presign_transfers, run_load
from ..tx import build_tx, tx_fee
from ..weights import exact_fee
from .common import Ctx, user_errors


@click.group()
def bench() -> None:
    """Load generation and measurements."""


def _check_funded(obj: Ctx, url: str, keys: list[Any], seed: str) -> None:
    """Refuse at once when the bench accounts hold nothing on this chain (every tx would be
    refused with code 20, and the run would report 0 tx/s without saying why)."""
    with user_errors(), RPCClient(url, timeout=obj.timeout) as rpc:
        for key in keys[: min(len(keys), 3)]:
            address = to_bech32(address_from_pubkey(bytes(key.verify_key)))
            if int(rpc.abci_query(f"/account/{address}").json()["balance"]) == 0:
                raise click.ClickException(
                    f"bench account {address} (seed {seed!r}) holds nothing on this chain: "
                    "`bench load` needs a genesis that funds bench_accounts(seed, n), as "
                    "bench/run_bench.py's nodes have (a `make localnet` genesis does not)"
                )


def _bench_fee(obj: Ctx, url: str, keys: list[Any], chain_id: str, txs: int) -> int:
    """The fee every pre-signed transfer pays: the node's quote for the largest of them (the
    highest nonce; a fee grows with the tx's size only, weights.py), so none pays less than its
    own quote (a plain transfer pays exactly min_fee at the default gas price)."""
    last_nonce = -(-txs // len(keys)) - 1
    to = address_from_pubkey(bytes(keys[-1].verify_key))

    def sign(fee: int) -> bytes:
        return build_tx(keys[0], chain_id, last_nonce, fee, [MsgTransfer(to, 1)])

    with user_errors(), Chain(url, timeout=obj.timeout) as chain:
        return tx_fee(exact_fee(sign, chain.fee_of, int(chain.params()["params"]["min_fee"])))


@bench.command("load")
@click.option(
    "--nodes", default=None, help="Comma-separated RPC URLs to spread over (default: --node)."
)
@click.option(
    "--seed", default="bench", show_default=True, help="Seed of the genesis-funded accounts."
)
@click.option("--accounts", type=click.IntRange(1, 100_000), default=100, show_default=True)
@click.option(
    "--txs",
    type=click.IntRange(1, 10_000_000),
    default=5_000,
    show_default=True,
    help="Signed before sending.",
)
@click.option(
    "--connections",
    type=click.IntRange(1, 1024),
    default=64,
    show_default=True,
    help="Keep-alive HTTP connections, one request in flight on each.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="tx/s in total; 0: max.",
)
@click.option("--max-seconds", type=click.FloatRange(min=0.1), default=60.0, show_default=True)
@click.option(
    "--kvstore", is_flag=True, help="Send key=value txs (for cometbft --proxy_app=kvstore)."
)
@click.option("--png", type=click.Path(path_type=Path), default=None, help="Write a chart.")
@click.pass_obj
def bench_load(
    obj: Ctx,
    nodes: str | None,
    seed: str,
    accounts: int,
    txs: int,
    connections: int,
    rate: float,
    max_seconds: float,
    kvstore: bool,
    png: Path | None,
) -> None:
    """Send pre-signed transfers from accounts funded in genesis (bench_accounts(seed, n)) and
    print committed tx/s and latency as JSON (example: moderntensor bench load --txs 5000
    --connections 64 --png load.png)."""
    urls = [u.strip() for u in (nodes or obj.node).split(",") if u.strip()]
    with user_errors(), RPCClient(urls[0], timeout=obj.timeout) as rpc:
        chain_id = rpc.status()["node_info"]["network"]
    if kvstore:
        streams = kvstore_txs(txs)
    else:
        keys = bench_accounts(seed, accounts)
        _check_funded(obj, urls[0], keys, seed)
        streams = presign_transfers(
            keys, chain_id, txs, _bench_fee(obj, urls[0], keys, chain_id, txs)
        )
    result = run_load(urls, streams, connections=connections, rate=rate, max_seconds=max_seconds)
    out = {"chain_id": chain_id, "nodes": urls, "connections": connections, "rate": rate}
    out.update(result.summary())
    if png is not None:
        try:
            chart(result, str(png), f"{chain_id}: {out['committed_tps']} committed tx/s")
        except ImportError:
            raise click.ClickException(
                "the chart needs matplotlib: pip install -e '.[dev]'"
            ) from None
        out["png"] = str(png)
    click.echo(json.dumps(out, indent=2))
