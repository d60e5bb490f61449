"""``moderntensor genesis …``: build a genesis file, sign and collect gentxs, validate, export."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..node import genesis_file
from ..node.cometbft import CometBFTError, parse_go_duration
from ..node.home import NodeHome
from ..state.db import StateDB
from .common import Ctx, emit, format_mdt, parse_amount, user_errors
from .txsend import keyring_of


@click.group()
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


def _block_time(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """--block-time as nanoseconds (a Go duration, like the nodes' timeout_commit)."""
    if value is None:
        return None
    try:
        ns = parse_go_duration(value)
    except CometBFTError as e:
        raise click.BadParameter(str(e)) from None
    if ns <= 0:
        raise click.BadParameter("must be positive, e.g. 1s")
    return ns


BLOCK_TIME = click.option(
    "--block-time",
    "block_time_ns",
    callback=_block_time,
    metavar="DURATION",
    help="The shortest block interval (the validators' timeout_commit, e.g. 1s): the "
    "evidence window is then checked against the unbonding period in time too.",
)


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
@BLOCK_TIME
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_obj
def genesis_init(
    obj: Ctx,
    file: Path,
    chain_id: str,
    params: tuple[str, ...],
    staking_params: tuple[str, ...],
    block_time_ns: int | None,
    force: bool,
) -> None:
    """Start a new genesis; its evidence window is kept below the unbonding period (example:
    moderntensor genesis init g.json --chain-id mt-test-1 --block-time 1s)."""
    if file.exists() and not force:
        raise click.ClickException(f"{file} exists (use --force to overwrite)")
    with user_errors():
        g = genesis_file.new_genesis(
            chain_id,
            _kv_pairs(params, "--param"),
            _kv_pairs(staking_params, "--staking-param"),
            block_time_ns,
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
    with user_errors():
        g = genesis_file.load(file)
        doc = genesis_file.load(gentx_file)
        genesis_file.add_validator(g, doc)
        genesis_file.save(file, g)
    emit(obj, {"added": doc.get("moniker")}, f"added validator {doc.get('moniker')} to {file}")


@genesis.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
@BLOCK_TIME
@click.pass_obj
def genesis_validate(obj: Ctx, file: Path, block_time_ns: int | None) -> None:
    """Check a genesis against every rule InitChain enforces, and its evidence window against
    the unbonding period (example: … validate g.json --block-time 1s)."""
    with user_errors():
        state = genesis_file.validate(genesis_file.load(file), block_time_ns)
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
