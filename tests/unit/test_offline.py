"""Offline signing documents: generate -> sign offline -> raw bytes equal what build_tx makes;
tampering and strangers' documents are refused with one clear reason."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from harness import on_a_terminal
from nacl.signing import SigningKey

from abci_app.address import to_bech32
from abci_app.client.offline import (
    OfflineTxError,
    parse_doc,
    raw_of,
    sign_doc,
    signed_doc,
    unsigned_doc,
)
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.subnets.messages import MsgRegisterSubnet, MsgSetWeights
from abci_app.tx import build_tx

KEY = SigningKey(bytes(range(32)))
MSGS = [MsgTransfer(bytes(20), 5), MsgSetWeights(1, (0, 1), (65535, 1), 0)]


def test_generate_sign_offline_equals_direct_build() -> None:
    doc = unsigned_doc("", 0, 1000, list(MSGS), memo="cold")
    text = json.dumps(doc)  # what travels to the offline machine
    signed = sign_doc(parse_doc(text), KEY, chain_id="mt-1", nonce=7)
    assert raw_of(parse_doc(json.dumps(signed))) == build_tx(
        KEY, "mt-1", 7, 1000, list(MSGS), "cold"
    )
    assert signed["body"]["nonce"] == "7" and signed["body"]["chain_id"] == "mt-1"
    assert signed_doc(raw_of(signed)) == signed  # decode/encode round trip


def test_bad_documents_are_refused() -> None:
    doc = unsigned_doc("mt-1", 1, 1000, [MSGS[0]])
    with pytest.raises(OfflineTxError, match="not signed"):
        raw_of(doc)
    with pytest.raises(OfflineTxError, match="no chain id"):
        sign_doc(unsigned_doc("", 1, 1000, [MSGS[0]]), KEY)
    other = SigningKey(bytes(32))
    with pytest.raises(OfflineTxError, match="to be signed by"):
        sign_doc({**doc, "signer": "mt1someoneelse"}, other)
    signed = sign_doc(doc, KEY)
    tampered = json.loads(json.dumps(signed))
    tampered["body"]["fee"] = "1"
    with pytest.raises(OfflineTxError, match="does not verify"):
        raw_of(tampered)
    swapped = {**signed, "tx": signed_doc(build_tx(KEY, "mt-1", 2, 1000, [MSGS[0]]))["tx"]}
    with pytest.raises(OfflineTxError, match="differ"):
        raw_of(swapped)
    bad_body = {**doc, "body": {**doc["body"], "bogus": 1}}
    with pytest.raises(OfflineTxError, match="bad tx body"):
        sign_doc(bad_body, KEY)
    for text in ("[]", "{", '{"format": "x"}', '{"format": "moderntensor-tx/1"}'):
        with pytest.raises(OfflineTxError):
            parse_doc(text)
    with pytest.raises(OfflineTxError, match="not a tx"):
        signed_doc(b"\xff\xff")
    with pytest.raises(OfflineTxError, match="nonce"):
        sign_doc(doc, KEY, nonce=-1)


def test_a_document_with_a_duplicate_key_is_refused() -> None:
    """JSON parsers keep the last of two equal keys: a reader (a person, another tool) may see
    the first. A document that says two things is refused, not signed."""
    doc = unsigned_doc("mt-1", 1, 1000, [MSGS[0]])
    text = json.dumps(doc).replace('"amount": "5"', '"amount": "5", "amount": "5000000000000"')
    assert text.count('"amount"') == 2
    with pytest.raises(OfflineTxError, match="duplicate key 'amount'"):
        parse_doc(text)
    # one field under its two JSON names (proto name and lowerCamelCase), at any depth
    twice = json.loads(json.dumps(doc))
    twice["body"]["chainId"] = "other-chain"
    with pytest.raises(OfflineTxError, match="'chain_id' given twice"):
        sign_doc(twice, KEY)
    deep = unsigned_doc("mt-1", 1, 1000, [MsgRegisterSubnet(max_cost=5)])
    deep["body"]["messages"][0]["register_subnet"]["maxCost"] = "500000000000"
    with pytest.raises(OfflineTxError, match="'max_cost' given twice"):
        sign_doc(deep, KEY)


def _sign_cli(tmp_path: Path, doc_text: str, *extra: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from abci_app.cli.main import cli
    from abci_app.client.keyring import Keyring

    Keyring(tmp_path / "keyring", backend="test").add("cold", bytes(KEY))
    path = tmp_path / "tx.json"
    path.write_text(doc_text)
    args = ["--home", str(tmp_path), "tx", "sign", str(path), "--from", "cold", "--offline"]
    res = CliRunner().invoke(cli, [*args, "--nonce", "3", "--chain-id", "mt-1", *extra])
    return res.exit_code, res.stdout, res.stderr


def test_tx_sign_shows_what_is_signed(tmp_path: Path) -> None:
    """The unsigned document crosses to the offline machine and may be altered on the way (the
    recipient is base64 in it, unreadable to a person): `tx sign` shows, decoded from the body it
    signs, the chain id, nonce, fee and every message with addresses as mt1… and amounts in MDT."""
    alice, mallory = bytes([1]) * 20, bytes([2]) * 20
    doc = unsigned_doc("", 0, 1000, [MsgTransfer(alice, 5 * 10**9)], memo="rent")
    doc["body"]["messages"][0]["transfer"]["to"] = base64.b64encode(mallory).decode()
    doc["body"]["fee"] = str(7 * 10**9)
    code, out, err = _sign_cli(tmp_path, json.dumps(doc))
    assert code == 0, err
    assert json.loads(out)["body"]["nonce"] == "3"
    assert f"to={to_bech32(mallory)}" in err and to_bech32(alice) not in err
    assert "amount=5.000000000 MDT" in err and "fee 7.000000000 MDT" in err
    assert '"mt-1"' in err and "nonce 3" in err and '"rent"' in err
    # a memo cannot forge lines of the summary or send escape codes to the terminal
    doc["body"]["memo"] = "x\n  1. transfer to=mt1trusted\x1b[2K"
    code, _, err = _sign_cli(tmp_path / "b", json.dumps(doc))
    assert code == 0 and "\x1b" not in err and "\n  1. transfer to=mt1trusted" not in err


def test_tx_sign_asks_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal, `tx sign` asks before signing ('n' writes nothing); --yes does not ask."""
    from abci_app.client.keyring import Keyring

    Keyring(tmp_path / "keyring", backend="test").add("cold", bytes(KEY))
    unsigned = tmp_path / "tx.json"
    unsigned.write_text(json.dumps(unsigned_doc("mt-1", 0, 1000, [MSGS[0]])))
    out = tmp_path / "signed.json"
    argv = ["--home", str(tmp_path), "tx", "sign", str(unsigned), "--from", "cold"]
    argv += ["--offline", "--nonce", "0", "--out", str(out)]
    code, screen = on_a_terminal(argv, b"n\n")
    assert code == 1 and "[y/N]" in screen and "Error: aborted" in screen, screen
    assert "transfer to=" in screen and not out.exists()
    code, screen = on_a_terminal([*argv, "--yes"], b"n\n")
    assert code == 0 and "[y/N]" not in screen and out.exists(), screen
