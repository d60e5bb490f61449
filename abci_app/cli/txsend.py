"""Signing and sending txs from the CLI: the options every ``tx`` command shares, the keyring,
and one ``send_tx`` that fetches params and nonce, signs, broadcasts and waits for the block."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from ..address import from_bech32
from ..client.chain import Chain
from ..client.keyring import Keyring
from ..client.offline import unsigned_doc
from ..client.rpc import CommittedTx
from ..errors import ERRORS_BY_CODE, InvalidAddress, ModernTensorError
from ..node.home import NodeHome
from ..tx import build_body, tx_fee
from .common import U64, Ctx, emit, format_mdt, user_errors
from .txview import message_lines


def keyring_of(obj: Ctx) -> Keyring:
    """The keyring of --home (``<home>/keyring``) with --keyring-backend for new keys and the
    passphrase from --passphrase-file (else $MODERNTENSOR_KEYRING_PASSPHRASE, else a prompt)."""
    return Keyring(
        NodeHome(obj.home).keyring,
        backend=obj.keyring_backend,
        passphrase_file=obj.passphrase_file,
    )


HINTS = {
    7: "the key does not match the tx: check --from",
    8: "leave --fee out: the exact fee is quoted by the node (see --dry-run)",
    20: "fund the account first (tx transfer, or the faucet)",
    21: "another tx from this key may still be pending: wait for its block and retry",
    22: "the balance does not cover the fee: fund the account",
    102: "check the balance with `moderntensor query account <address>`",
    104: "module accounts hold tokens for their module only: `moderntensor query module-accounts`",
    112: "list validators with `moderntensor query staking validators`",
    117: "wait for the jail time to end (query staking signing-info), then unjail",
    119: "redelegate this stake once its redelegation completes (the height in the message), "
    "or undelegate it",
    120: "one commission change per commission_change_blocks: retry from the height in the message",
    121: "the validator was slashed to zero: delegate elsewhere (its delegators can leave with "
    "`tx staking undelegate --all`)",
    122: "wait until the first entry completes (the height in the message)",
    130: "list subnets with `moderntensor subnet list`",
    134: "this key already has a uid there: `moderntensor subnet metagraph <netuid>`",
    135: "wait until a neuron's immunity period ends, or ask the owner to raise max_allowed_uids",
    136: "register first: `moderntensor subnet register-neuron <netuid> --from <key>`",
    138: "wait until the height in the message",
    139: "check the subnet's commit_reveal: `moderntensor subnet hyperparams <netuid>`",
    141: "reveal in the window after the commit's (see the commit's reveal heights)",
    147: "stake on the hotkey (`moderntensor subnet add-stake`), then wait for the second epoch "
    "after it: `moderntensor subnet metagraph <netuid>` marks permits with *",
    150: "the price rose above --max-cost: check `subnet lock-cost` or `subnet list` and retry "
    "with a higher --max-cost if you agree",
    151: "the subnet takes few registrations per block and per interval: retry at the height in "
    "the message",
    152: "reveal the pending commit first (`subnet reveal-weights`), then commit again",
}
"""What to do about a rejection, by code (shown after the node's message)."""


def explain(code: int, log: str) -> str:
    """A rejection as one line, ``rejected with code N (ErrorName): log``, plus a hint line
    when ``HINTS`` has one for the code."""
    err = ERRORS_BY_CODE.get(code)
    name = err.__name__ if err else "error"
    hint = HINTS.get(code)
    return f"rejected with code {code} ({name}): {log}" + (f"\n  hint: {hint}" if hint else "")


@dataclass(frozen=True)
class TxOpts:
    """The options every ``tx`` command shares."""

    from_: str
    fee: int | None
    memo: str
    no_wait: bool
    wait_timeout: float
    nonce: int | None = None
    """--nonce: sign with this nonce (default: the node's pending nonce for the key)."""
    generate_only: bool = False
    """--generate-only: print the unsigned tx document instead of signing and sending."""
    dry_run: bool = False
    """--dry-run: sign, print the tx's weight and exact fee, send nothing."""


def tx_options(f: Any) -> Any:
    """Add --from, --fee, --memo, --nonce, --generate-only, --no-wait, --wait-timeout and hand
    them over as ``tx``."""

    @functools.wraps(f)
    def wrapper(
        *args: Any,
        from_: str,
        fee: int | None,
        memo: str,
        no_wait: bool,
        wait_timeout: float,
        nonce: int | None,
        generate_only: bool,
        dry_run: bool,
        **kwargs: Any,
    ) -> Any:
        opts = TxOpts(from_, fee, memo, no_wait, wait_timeout, nonce, generate_only, dry_run)
        return f(*args, tx=opts, **kwargs)

    wrapper = click.option(
        "--wait-timeout", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True
    )(wrapper)
    wrapper = click.option(
        "--no-wait", is_flag=True, help="Return after broadcast, do not wait for the block."
    )(wrapper)
    wrapper = click.option(
        "--dry-run",
        is_flag=True,
        help="Sign, print the tx's weight and the exact fee it pays, send nothing.",
    )(wrapper)
    wrapper = click.option(
        "--generate-only",
        is_flag=True,
        help="Print the unsigned tx as JSON (sign it with `tx sign`, e.g. offline).",
    )(wrapper)
    wrapper = click.option(
        "--nonce", type=U64, default=None, help="Nonce to sign with (default: the next one)."
    )(wrapper)
    wrapper = click.option("--memo", default="", help="Up to the chain's max_memo_bytes.")(wrapper)
    wrapper = click.option(
        "--fee",
        type=U64,
        default=None,
        help="Fee in base units (default: the exact fee the node quotes for this tx).",
    )(wrapper)
    return click.option("--from", "from_", required=True, help="Key name in the keyring.")(wrapper)


def event_attr(done: CommittedTx, event_type: str, key: str) -> str | None:
    """The first value of attribute ``key`` in an event of type ``event_type``, if any."""
    for ev in done.events:
        if ev.get("type") == event_type:
            for attr in ev.get("attributes") or []:
                if attr.get("key") == key:
                    return str(attr.get("value"))
    return None


def _confirm(obj: Ctx, tx: TxOpts, msgs: list[Any], signer: str) -> None:
    """When a person is at a terminal (stdin and stderr are one; stdout may be piped, as in
    ``-o json | jq``), show the messages (decoded, :mod:`.txview`) and ask before signing,
    on stderr (unless --yes)."""
    if obj.yes or not (sys.stdin.isatty() and sys.stderr.isatty()):
        return
    fee = (
        "the exact fee the node quotes"
        if tx.fee is None
        else f"{format_mdt(tx.fee)} ({tx.fee} base units)"
    )
    click.echo(f"from {tx.from_} ({signer}), fee {fee}, memo {json.dumps(tx.memo)}:", err=True)
    click.echo("\n".join(message_lines(build_body("", 0, 0, msgs, tx.memo))), err=True)
    click.confirm("Sign and send?", abort=True, err=True)


def _generate(obj: Ctx, tx: TxOpts, msgs: list[Any]) -> None:
    signer = keyring_of(obj).info(tx.from_).address
    with Chain(obj.node, timeout=obj.timeout) as chain:
        params = chain.params()
        nonce = tx.nonce if tx.nonce is not None else chain.pending_nonce(signer)
        fee = tx.fee if tx.fee is not None else chain.quote_fee(msgs, tx.memo)
    doc = unsigned_doc(str(params["chain_id"]), nonce, fee, msgs, tx.memo, signer)
    click.echo(json.dumps(doc, indent=2, sort_keys=True))


def _dry_run(obj: Ctx, chain: Chain, key: Any, tx: TxOpts, msgs: list[Any]) -> None:
    """Sign as a send would (nonce, exact fee), print the node's quote; send nothing."""
    try:
        raw = chain.build(key, msgs, tx.fee, tx.memo, tx.nonce)
        q = chain.fee_quote(raw)
    except ModernTensorError as e:
        raise click.ClickException(explain(e.code, e.log())) from None
    pays = tx_fee(raw)
    data = {**q, "fee_signed": str(pays), "bytes": len(raw)}
    emit(
        obj,
        data,
        f"weight {q['weight']} x gas_price {q['gas_price']} (min_fee {q['min_fee']}): fee "
        f"{q['fee']}; this tx pays {pays} ({len(raw)} bytes; not sent)",
    )


def send_tx(
    obj: Ctx, tx: TxOpts, msgs: list[Any], done_text: str | Callable[[CommittedTx], str]
) -> CommittedTx | None:
    """Sign ``msgs`` with the keyring key, broadcast, wait for the block, report the result.

    The nonce is ``--nonce`` or the node's pending nonce (a stale one is retried once, see
    :mod:`abci_app.client.nonces`). With ``--generate-only`` the unsigned document is printed
    instead. ``done_text`` may read the committed tx's events (e.g. the netuid a registration
    got). Returns the committed tx (code 0), or None with ``--no-wait``/``--generate-only``."""
    with user_errors():
        if tx.generate_only:
            _generate(obj, tx, msgs)
            return None
        ring = keyring_of(obj)
        _confirm(obj, tx, msgs, ring.info(tx.from_).address)
        key = ring.get(tx.from_)
    with user_errors(), Chain(obj.node, timeout=obj.timeout) as chain:
        if tx.dry_run:
            _dry_run(obj, chain, key, tx, msgs)
            return None
        try:
            res = chain.broadcast(key, msgs, tx.fee, tx.memo, tx.nonce)
        except ModernTensorError as e:
            raise click.ClickException(explain(e.code, e.log())) from None
        rpc = chain.rpc
        if tx.no_wait:
            emit(obj, {"hash": res.hash, "code": 0}, f"broadcast {res.hash}")
            return None
        progress = None
        if obj.output == "text":
            click.echo(f"broadcast {res.hash}, waiting for a block…", err=True)
            progress = _progress(tx.wait_timeout)
        done = rpc.wait_for_tx(res.hash, timeout=tx.wait_timeout, on_wait=progress)
        if progress is not None and sys.stderr.isatty():
            click.echo("", err=True)
        data = {
            "hash": done.hash,
            "height": done.height,
            "code": done.code,
            "log": done.log,
            "events": done.events,
        }
        if done.code != 0:
            emit(obj, data)
            raise click.ClickException(
                f"included at height {done.height} but " + explain(done.code, done.log)
            )
        text = done_text(done) if callable(done_text) else done_text
        emit(obj, data, f"committed at height {done.height}: {text} (tx {done.hash})")
        return done


def _progress(timeout: float) -> Callable[[float], None] | None:
    """An elapsed-time indicator on the terminal while waiting for the block (none when stderr
    is not a terminal, so logs and pipes stay clean)."""
    if not sys.stderr.isatty():
        return None

    def show(left: float) -> None:
        click.echo(
            f"\r  waiting {timeout - left:4.1f}s (gives up after {timeout:.0f}s)",
            nl=False,
            err=True,
        )

    return show


def address_arg(text: str) -> bytes:
    """A bech32 ``mt1…`` argument as its 20 address bytes; a bad one is a usage error (one
    ``Error:`` line, exit 2)."""
    try:
        return from_bech32(text)
    except InvalidAddress as e:
        raise click.BadParameter(e.log()) from None


def query_json(obj: Ctx, path: str) -> Any:
    """``abci_query`` a JSON route; a rejection becomes one error line with its code."""
    with user_errors(), obj.rpc() as rpc:
        res = rpc.abci_query(path)
        if res.code != 0:
            raise click.ClickException(explain(res.code, res.log))
        return res.json()
