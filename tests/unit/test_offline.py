"""Offline signing documents: generate -> sign offline -> raw bytes equal what build_tx makes;
tampering and strangers' documents are refused with one clear reason."""

from __future__ import annotations

import json

import pytest
from nacl.signing import SigningKey

from abci_app.client.offline import (
    OfflineTxError,
    parse_doc,
    raw_of,
    sign_doc,
    signed_doc,
    unsigned_doc,
)
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.subnets.messages import MsgSetWeights
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
