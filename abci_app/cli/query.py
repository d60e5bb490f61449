"""``moderntensor query …``: accounts (with a Merkle proof on request), supply and params; the
staking queries live in ``staking.py`` and are registered under this group in ``main.py``."""

from __future__ import annotations

from typing import Any

import click

from ..address import from_bech32, module_address, to_bech32
from ..client.proof import verify_query_proof
from .common import Ctx, emit, format_mdt, user_errors
from .query_table import QueryRoute, add_query_commands
from .txsend import explain


@click.group()
def query() -> None:
    """Read chain state (through abci_query)."""


@query.command("account")
@click.argument("address")
@click.option("--prove", is_flag=True, help="Also fetch and verify a Merkle proof.")
@click.pass_obj
def query_account(obj: Ctx, address: str, prove: bool) -> None:
    """Balance and nonce (example: moderntensor query account mt1…)."""
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
