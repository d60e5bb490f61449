"""Every stateless check of the envelope has its own stable code."""

from __future__ import annotations

import pytest
from harness import CHAIN_ID, seeded_key

from abci_app._proto.moderntensor.tx.v1 import tx_pb2
from abci_app.errors import ModernTensorError
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.params import AppParams
from abci_app.tx import build_tx, decode_tx, sign_bytes

KEY = seeded_key(1)
TO = b"\x11" * 20
P = AppParams()


def code_of(raw: bytes, params: AppParams = P, chain_id: str = CHAIN_ID) -> int:
    with pytest.raises(ModernTensorError) as e:
        decode_tx(raw, params, chain_id)
    assert e.value.log()
    return e.value.code


def signed(body: tx_pb2.TxBody, key=KEY, chain_id: str = CHAIN_ID) -> bytes:  # type: ignore[no-untyped-def]
    b = body.SerializeToString(deterministic=True)
    sig = key.sign(sign_bytes(chain_id, b)).signature
    return tx_pb2.Tx(body=b, pub_key=bytes(key.verify_key), signature=sig).SerializeToString(
        deterministic=True
    )


def body(**kw) -> tx_pb2.TxBody:  # type: ignore[no-untyped-def]
    fields = {"chain_id": CHAIN_ID, "nonce": 0, "fee": 1000}
    fields.update(kw)
    if "messages" not in fields:
        fields["messages"] = [tx_pb2.Msg(transfer=tx_pb2.MsgTransfer(to=TO, amount=5))]
    return tx_pb2.TxBody(**fields)


def test_valid_tx_decodes() -> None:
    tx = decode_tx(signed(body()), P, CHAIN_ID)
    assert tx.messages == (MsgTransfer(TO, 5),)


def test_codes() -> None:
    good = signed(body())
    assert code_of(b"") == 3
    assert code_of(b"\xff\xff\xff") == 3
    assert code_of(b"x" * (P.max_tx_bytes + 1)) == 2
    assert code_of(good + b"\x28\x01") == 4  # an unknown field 5 appended
    assert code_of(good, chain_id="other") == 5
    assert code_of(signed(body(memo="m" * 300))) == 10
    assert code_of(signed(body(fee=999))) == 8
    assert code_of(signed(body(messages=[]))) == 9
    assert code_of(signed(body(messages=[tx_pb2.Msg()]))) == 9
    many = [tx_pb2.Msg(transfer=tx_pb2.MsgTransfer(to=TO, amount=1))] * 33
    assert code_of(signed(body(messages=many))) == 9
    zero = [tx_pb2.Msg(transfer=tx_pb2.MsgTransfer(to=TO, amount=0))]
    assert code_of(signed(body(messages=zero))) == 101
    short = [tx_pb2.Msg(transfer=tx_pb2.MsgTransfer(to=b"\x01" * 19, amount=1))]
    assert code_of(signed(body(messages=short))) == 100
    env = tx_pb2.Tx.FromString(good)
    env.pub_key = env.pub_key[:31]
    assert code_of(env.SerializeToString(deterministic=True)) == 6
    env = tx_pb2.Tx.FromString(good)
    env.pub_key = bytes(seeded_key(2).verify_key)
    assert code_of(env.SerializeToString(deterministic=True)) == 7
    env = tx_pb2.Tx.FromString(good)
    env.signature = env.signature[:63]
    assert code_of(env.SerializeToString(deterministic=True)) == 7
    # signed for another chain id but claiming ours in the body
    assert code_of(signed(body(), chain_id="other")) == 7


def test_build_tx_is_deterministic() -> None:
    a = build_tx(KEY, CHAIN_ID, 3, 1000, [MsgTransfer(TO, 9)], "hi")
    b = build_tx(KEY, CHAIN_ID, 3, 1000, [MsgTransfer(TO, 9)], "hi")
    assert a == b
