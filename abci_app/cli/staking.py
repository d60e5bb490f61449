"""``moderntensor tx staking …`` and ``moderntensor query staking …``: validators, delegations,
rewards and jail, as a Cosmos operator knows them.

Two groups, both named ``staking``; ``main.py`` registers them under ``tx`` and ``query``. The
distribution commands (``withdraw-rewards``, ``rewards``) and the slashing ones (``unjail``,
``signing-info``) are here too, in sections of their own, because users look for them under
staking today.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from ..client.rpc import CommittedTx
from ..modules.distribution.messages import MsgWithdrawRewards
from ..modules.slashing.messages import MsgUnjail
from ..modules.staking.messages import (
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from ..node.genesis_file import read_pv_pubkey
from ..node.home import NodeHome
from .common import Ctx, format_mdt, parse_amount, user_errors
from .query_table import Arg, QueryRoute, add_query_commands
from .txsend import TxOpts, address_arg, event_attr, send_tx, tx_options


@click.group("staking")
def tx_staking() -> None:
    """Become a validator, delegate, undelegate, redelegate."""


@click.group("staking")
def query_staking() -> None:
    """Validators, delegations, unbonding entries and staking params."""


def _rate(text: str) -> int:
    """A percentage like 10 or 12.5 as a fixed-point rate (10^9 = 100%)."""
    try:
        value = Decimal(text) * 10**7
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not a percentage") from None
    if value != value.to_integral_value() or not 0 <= value <= 10**9:
        raise click.BadParameter(f"{text!r} must be a percentage in [0, 100] (7 decimals)")
    return int(value)


# --- staking txs -----------------------------------------------------------------------------
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
@click.option(
    "--amount", default=None, help="Tokens to unbond (what the delegation shows closes it)."
)
@click.option(
    "--all", "all_", is_flag=True, help="Unbond the whole delegation, whatever it is worth."
)
@click.pass_obj
def tx_undelegate(
    obj: Ctx,
    validator: str,
    amount: str | None,
    all_: bool,
    tx: TxOpts,
) -> None:
    """Start unbonding (tokens return after unbonding_blocks; example: … tx staking undelegate
    --from alice --validator mt1… --amount 100mdt, or --all)."""
    if all_ == (amount is not None):
        raise click.UsageError("give --amount or --all (one of them)")
    value = 0 if all_ else parse_amount(str(amount))

    def text(done: CommittedTx) -> str:
        out = int(event_attr(done, "unbond", "amount") or 0)
        return f"unbonding {format_mdt(out)} from {validator}"

    send_tx(obj, tx, [MsgUndelegate(address_arg(validator), value, all=all_)], text)


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
    value = parse_amount(amount)
    send_tx(
        obj,
        tx,
        [MsgRedelegate(address_arg(src), address_arg(dst), value)],
        f"moved {format_mdt(value)} from {src} to {dst}",
    )


# --- distribution and slashing txs (under staking for now) ----------------------------------
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
    tx slashing unjail --from op; also `tx staking unjail`)."""
    send_tx(obj, tx, [MsgUnjail()], "validator unjailed")


# --- queries ---------------------------------------------------------------------------------
def _validators_text(data: Any) -> str:
    return (
        "\n".join(
            f"{v['moniker']:20} {v['operator']}  power {v['power']:>8}  "
            f"{format_mdt(int(v['tokens']))}{'  JAILED' if v['jailed'] else ''}"
            for v in data
        )
        or "(no validators)"
    )


def _rewards_text(data: Any) -> str:
    return "\n".join(
        [f"{r['validator']}  {format_mdt(int(r['amount']))}" for r in data["rewards"]]
        + [
            f"commission  {format_mdt(int(data['commission']))}",
            f"total       {format_mdt(int(data['total']))}",
        ]
    )


STAKING_QUERIES = (
    QueryRoute(
        "validators",
        "/validators",
        "Validators with tokens, power and status, those that can be in the set first, by "
        "tokens; a page at a time (example: … query staking validators --limit 20).",
        render=_validators_text,
        paged="validators",
    ),
    QueryRoute(
        "validator",
        "/validator/{operator}",
        "One validator by operator address (example: … query staking validator mt1…).",
        (Arg("operator"),),
    ),
    QueryRoute(
        "delegations",
        "/delegations/{delegator}",
        "Delegations of an address, a page at a time (example: … query staking delegations mt1…).",
        (Arg("delegator"),),
        paged="delegations",
    ),
    QueryRoute(
        "unbonding",
        "/unbonding/{delegator}",
        "Unbonding entries of an address, a page at a time (example: … query staking "
        "unbonding mt1…).",
        (Arg("delegator"),),
        paged="unbonding",
    ),
    QueryRoute(
        "params", "/params/staking", "Staking parameters (example: … query staking params)."
    ),
    # distribution and slashing: also under `query distribution` / `query slashing`
    QueryRoute(
        "rewards",
        "/rewards/{address}",
        "Pending delegation rewards and commission (example: … query staking rewards mt1…).",
        (Arg("address"),),
        _rewards_text,
    ),
    QueryRoute(
        "signing-info",
        "/signing_info/{operator}",
        "Missed blocks, jail time and tombstone of a validator (example: … query staking "
        "signing-info mt1…).",
        (Arg("operator"),),
    ),
)
"""``query staking …``: (command, abci_query route, text renderer)."""

add_query_commands(query_staking, STAKING_QUERIES)
