"""Offline signing commands under ``moderntensor tx``: ``sign``, ``broadcast``, ``encode``,
``decode`` (the document format is :mod:`abci_app.client.offline`).

    online   moderntensor tx transfer --from op --to mt1… --amount 5mdt --generate-only > tx.json
    offline  moderntensor tx sign tx.json --from op --offline --nonce 7 --chain-id C > signed.json
    online   moderntensor tx broadcast signed.json
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..client.local_files import LocalFileError, read_text_file
from ..client.offline import (
    MAX_DOC_BYTES,
    OfflineTxError,
    body_to_sign,
    parse_doc,
    raw_of,
    sign_body_doc,
    signed_doc,
)
from .common import Ctx, emit, user_errors
from .txsend import explain, keyring_of
from .txview import describe_body


def _read(path: str) -> str:
    """A document from a file, or from stdin for ``-``."""
    if path == "-":
        try:
            return sys.stdin.read(MAX_DOC_BYTES + 1)
        except (OSError, UnicodeDecodeError) as e:
            raise click.ClickException(f"cannot read stdin: {e}") from None
    try:
        return read_text_file(Path(path), MAX_DOC_BYTES, "tx document")
    except LocalFileError as e:
        raise click.ClickException(str(e)) from None


def _write(doc: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text)
    except OSError as e:
        raise click.ClickException(f"cannot write {out}: {e.strerror}") from None
    click.echo(f"wrote {out}", err=True)


@contextmanager
def _offline_errors() -> Iterator[None]:
    """A bad tx document is one error line (exit 1)."""
    try:
        yield
    except OfflineTxError as e:
        raise click.ClickException(str(e)) from None


@click.command("sign")
@click.argument("file")
@click.option("--from", "from_", required=True, help="Key that signs.")
@click.option("--offline", is_flag=True, help="Do not contact a node: give --nonce, --chain-id.")
@click.option("--nonce", type=click.IntRange(0, 2**64 - 1), default=None)
@click.option("--chain-id", default=None)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default: stdout.")
@click.pass_obj
def tx_sign(
    obj: Ctx,
    file: str,
    from_: str,
    offline: bool,
    nonce: int | None,
    chain_id: str | None,
    out: Path | None,
) -> None:
    """Sign an unsigned tx document after showing what it says, decoded (on a terminal it asks
    first; --yes does not) (example, on the offline machine: moderntensor tx sign tx.json
    --from op --offline --nonce 7 --chain-id moderntensor-1 --out signed.json)."""
    with _offline_errors(), user_errors():
        doc = parse_doc(_read(file))
        ring = keyring_of(obj)
        signer = ring.info(from_).address
        if not offline:
            with obj.rpc() as rpc:
                if chain_id is None:
                    chain_id = str(rpc.abci_query("/params").json()["chain_id"])
                if nonce is None:
                    res = rpc.abci_query(f"/pending/account/{signer}")
                    if res.code != 0:
                        res = rpc.abci_query(f"/account/{signer}")
                    nonce = int(res.json()["nonce"])
        elif chain_id is None and not doc["body"].get("chain_id"):
            raise click.UsageError("--offline needs --chain-id (the document has none)")
        elif nonce is None:
            raise click.UsageError(
                "--offline needs --nonce (see `query account` on an online machine)"
            )
        body = body_to_sign(doc, signer, chain_id=chain_id, nonce=nonce)
        # what is signed, decoded from the body itself: the document may have been altered
        click.echo(describe_body(body, f"{from_} ({signer})"), err=True)
        if not obj.yes and sys.stdin.isatty() and sys.stderr.isatty():
            click.confirm("Sign this tx?", abort=True, err=True)
        signed = sign_body_doc(body, ring.get(from_).signing_key)
    _write(signed, out)


@click.command("broadcast")
@click.argument("file")
@click.option("--no-wait", is_flag=True, help="Return after CheckTx.")
@click.option("--wait-timeout", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True)
@click.pass_obj
def tx_broadcast(obj: Ctx, file: str, no_wait: bool, wait_timeout: float) -> None:
    """Broadcast a signed tx document and wait for its block (example: moderntensor tx
    broadcast signed.json)."""
    with _offline_errors():
        raw = raw_of(parse_doc(_read(file)))
    with user_errors(), obj.rpc() as rpc:
        res = rpc.broadcast_tx_sync(raw)
        if res.code != 0:
            raise click.ClickException(explain(res.code, res.log))
        if no_wait:
            emit(obj, {"hash": res.hash, "code": 0}, f"broadcast {res.hash}")
            return
        done = rpc.wait_for_tx(res.hash, timeout=wait_timeout)
    data = {"hash": done.hash, "height": done.height, "code": done.code, "log": done.log}
    if done.code != 0:
        emit(obj, data)
        raise click.ClickException(
            f"included at height {done.height} but " + explain(done.code, done.log)
        )
    emit(obj, data, f"committed at height {done.height} (tx {done.hash})")


@click.command("encode")
@click.argument("file")
def tx_encode(file: str) -> None:
    """Print a signed tx document's bytes as base64, as broadcast_tx_sync takes them (example:
    moderntensor tx encode signed.json)."""
    with _offline_errors():
        raw = raw_of(parse_doc(_read(file)))
    click.echo(base64.b64encode(raw).decode())


@click.command("decode")
@click.argument("tx_base64")
def tx_decode(tx_base64: str) -> None:
    """Show a tx given as base64 (as in a block) as a document: body, signer, signature checked
    (example: moderntensor tx decode CpQBCo…)."""
    try:
        raw = base64.b64decode(tx_base64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise click.BadParameter("not base64", param_hint="TX_BASE64") from None
    with _offline_errors():
        doc = signed_doc(raw)
    _write(doc, None)
