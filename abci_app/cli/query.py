"""``moderntensor query …``: accounts (proven on request), supply and params; the
staking queries live in ``staking.py`` and are registered under this group in ``main.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ..address import module_address, to_bech32
from ..client.proven import open_light_client, proven_account
from ..node.home import NodeHome
from .common import U64, Ctx, emit, format_mdt, user_errors
from .query_table import QueryRoute, add_query_commands
from .txsend import address_arg, explain


@click.group()
def query() -> None:
    """Read chain state (through abci_query)."""


@query.command("account")
@click.argument("address")
@click.option(
    "--prove",
    is_flag=True,
    help="Show the balance proven against a header signed by validators you trust.",
)
@click.option(
    "--trust-height", type=U64, default=None, help="Trust anchor: a height (with --trust-hash)."
)
@click.option("--trust-hash", default=None, help="Trust anchor: that header's hash (hex).")
@click.option(
    "--genesis",
    "genesis_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Trust anchor: the chain's genesis file (default: the home's).",
)
@click.pass_obj
def query_account(
    obj: Ctx,
    address: str,
    prove: bool,
    trust_height: int | None,
    trust_hash: str | None,
    genesis_file: Path | None,
) -> None:
    """Balance and nonce; with --prove, decoded from bytes proven against an app hash that
    validators you trust signed (light client; anchor: the genesis, or --trust-height and
    --trust-hash) (example: moderntensor query account mt1… --prove)."""
    raw_address = address_arg(address)
    anchor_hash = None
    if trust_hash is not None:
        try:
            anchor_hash = bytes.fromhex(trust_hash)
        except ValueError:
            raise click.BadParameter("not hex", param_hint="--trust-hash") from None
    with user_errors(), obj.rpc() as rpc:
        if not prove:
            res = rpc.abci_query(f"/account/{address}")
            if res.code != 0:
                raise click.ClickException(explain(res.code, res.log))
            data = res.json()
        else:
            light = open_light_client(
                rpc, NodeHome(obj.home).root, genesis_file, trust_height, anchor_hash
            )
            acct, proven = proven_account(rpc, light, raw_address, timeout=obj.timeout * 3)
            data = {
                "address": to_bech32(raw_address),
                "balance": str(acct.balance),
                "nonce": acct.nonce,
                "exists": proven.value is not None,
                "proof": {
                    "height": proven.height,
                    "header_height": proven.header.height,
                    "header_hash": proven.header.hash.hex().upper(),
                    "app_hash": proven.header.app_hash.hex().upper(),
                    "header_time": _utc(proven.header.time),
                    "chain_id": light.trusted.chain_id,
                    "verified": True,
                },
            }
    emit(
        obj,
        data,
        lambda: (
            f"{data['address']}\n  balance {format_mdt(int(data['balance']))}"
            f" ({data['balance']} base units)\n  nonce   {data['nonce']}"
            + (
                f"\n  proof   verified at height {data['proof']['height']} against header "
                f"{data['proof']['header_height']} ({data['proof']['header_time']}) signed by "
                "trusted validators"
                if prove
                else ""
            )
        ),
    )


def _utc(ns: int) -> str:
    """Unix nanoseconds as an RFC 3339 UTC time to the second: how old a proven value is (a
    node may answer with an old height; its header's time says so)."""
    return datetime.fromtimestamp(ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@query.command("supply")
@click.pass_obj
def query_supply(obj: Ctx) -> None:
    """Total supply, what was minted and burned (by reason), and the fee collector's balance
    (example: moderntensor query supply)."""
    with user_errors(), obj.rpc() as rpc:
        supply = rpc.abci_query("/supply").json()
        fees = rpc.abci_query(f"/account/{to_bech32(module_address('fee_collector'))}").json()
    total = int(supply["total"])
    burned = {k: int(v) for k, v in supply["burned"].items()}
    data = {**supply, "fee_collector": fees["balance"]}
    emit(
        obj,
        data,
        lambda: (
            f"total supply {format_mdt(total)}; fees collected {format_mdt(int(fees['balance']))}"
            f"\n  minted {format_mdt(int(supply['minted']))}, burned "
            f"{format_mdt(sum(burned.values()))}"
            + "".join(f"\n    {k:<13} {format_mdt(v)}" for k, v in burned.items() if v)
        ),
    )


def _module_accounts_text(data: Any) -> str:
    return "\n".join(
        f"{a['name']:<16} {a['address']}  {format_mdt(int(a['balance']))}" for a in data
    )


QUERIES = (
    QueryRoute(
        "params", "/params", "Chain id and parameters (example: moderntensor query params)."
    ),
    QueryRoute(
        "module-accounts",
        "/module_accounts",
        "Every module account (pools, fee collector, community pool) with its address and "
        "balance; none of them accepts transfers (example: moderntensor query module-accounts).",
        render=_module_accounts_text,
    ),
)
"""``query …`` commands that are one route each: (command, abci_query route, text renderer)."""

add_query_commands(query, QUERIES)
