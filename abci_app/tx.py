"""The signed transaction envelope: decoding with stateless validation, sign-bytes, building.

Order of the stateless checks (cheapest first): size, decoding, canonical form, chain id, memo,
fee, messages, public key, signature. The signature is checked last because it is the costliest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TypeVar, Union

from google.protobuf.message import DecodeError
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ._proto.moderntensor.tx.v1 import tx_pb2
from .address import address_from_pubkey
from .codec import encode_uvarint
from .errors import (
    FeeTooLow,
    InvalidMessage,
    InvalidPubKey,
    InvalidSignature,
    MemoTooLong,
    NonCanonicalEncoding,
    TxDecodeError,
    TxTooLarge,
    WrongChainId,
)
from .modules.bank.messages import MsgTransfer
from .modules.distribution.messages import MsgWithdrawRewards
from .modules.slashing.messages import MsgUnjail
from .modules.staking.messages import (
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from .params import AppParams

SIGN_DOMAIN = b"moderntensor/tx/v1"

Message = Union[  # noqa: UP007 - one alias the modules extend
    MsgTransfer,
    MsgCreateValidator,
    MsgEditValidator,
    MsgDelegate,
    MsgUndelegate,
    MsgRedelegate,
    MsgWithdrawRewards,
    MsgUnjail,
]


def sign_bytes(chain_id: str, body: bytes) -> bytes:
    cid = chain_id.encode()
    return SIGN_DOMAIN + encode_uvarint(len(cid)) + cid + body


def tx_hash(raw: bytes) -> bytes:
    """CometBFT's tx hash: sha256 of the raw tx bytes (what ``/tx?hash=`` looks up)."""
    return hashlib.sha256(raw).digest()


@dataclass(frozen=True)
class DecodedTx:
    hash: bytes
    sender: bytes
    pub_key: bytes
    chain_id: str
    nonce: int
    fee: int
    memo: str
    messages: tuple[Message, ...]


_M = TypeVar("_M", tx_pb2.Tx, tx_pb2.TxBody)


def _parse_canonical(msg_type: type[_M], data: bytes, what: str) -> _M:
    """Parse ``data``; refuse unknown fields and any encoding but the deterministic one, so a
    tx has exactly one byte form (and so one hash)."""
    m = msg_type()
    try:
        m.ParseFromString(data)
    except DecodeError as e:
        raise TxDecodeError(f"{what}: {e}") from None
    m.DiscardUnknownFields()
    if m.SerializeToString(deterministic=True) != data:
        raise NonCanonicalEncoding(f"{what} has unknown fields or a non-canonical encoding")
    return m


def _message_from_proto(m: tx_pb2.Msg) -> Message:
    kind = m.WhichOneof("sum")
    if kind == "transfer":
        return MsgTransfer(to=bytes(m.transfer.to), amount=m.transfer.amount)
    if kind == "create_validator":
        c = m.create_validator
        return MsgCreateValidator(
            bytes(c.pub_key),
            c.self_bond,
            c.moniker,
            c.website,
            c.commission_rate,
            c.max_rate,
            c.max_change_rate,
        )
    if kind == "edit_validator":
        e = m.edit_validator
        return MsgEditValidator(e.moniker, e.website, e.set_commission, e.commission_rate)
    if kind == "delegate":
        return MsgDelegate(bytes(m.delegate.validator), m.delegate.amount)
    if kind == "undelegate":
        return MsgUndelegate(bytes(m.undelegate.validator), m.undelegate.amount)
    if kind == "redelegate":
        r = m.redelegate
        return MsgRedelegate(bytes(r.src_validator), bytes(r.dst_validator), r.amount)
    if kind == "unjail":
        return MsgUnjail()
    if kind == "withdraw_rewards":
        return MsgWithdrawRewards(bytes(m.withdraw_rewards.validator))
    raise InvalidMessage("message has no known type")


def decode_tx(raw: bytes, params: AppParams, chain_id: str) -> DecodedTx:
    """Run every stateless check; return the typed tx or raise a ModernTensorError."""
    if len(raw) > params.max_tx_bytes:
        raise TxTooLarge(f"{len(raw)} bytes > max_tx_bytes {params.max_tx_bytes}")
    if not raw:
        raise TxDecodeError("empty tx")
    env = _parse_canonical(tx_pb2.Tx, raw, "envelope")
    body = _parse_canonical(tx_pb2.TxBody, env.body, "body")
    if body.chain_id != chain_id:
        raise WrongChainId(f"tx is for chain {body.chain_id!r}, this chain is {chain_id!r}")
    if len(body.memo.encode()) > params.max_memo_bytes:
        raise MemoTooLong(f"memo exceeds {params.max_memo_bytes} bytes")
    if body.fee < params.min_fee:
        raise FeeTooLow(f"fee {body.fee} < min_fee {params.min_fee}")
    if not body.messages:
        raise InvalidMessage("tx carries no message")
    if len(body.messages) > params.max_msgs_per_tx:
        raise InvalidMessage(f"tx carries more than {params.max_msgs_per_tx} messages")
    messages = tuple(_message_from_proto(m) for m in body.messages)
    for msg in messages:
        msg.validate()
    pub_key = bytes(env.pub_key)
    if len(pub_key) != 32:
        raise InvalidPubKey(f"ed25519 public keys are 32 bytes, got {len(pub_key)}")
    if len(env.signature) != 64:
        raise InvalidSignature(f"ed25519 signatures are 64 bytes, got {len(env.signature)}")
    try:
        VerifyKey(pub_key).verify(sign_bytes(chain_id, env.body), bytes(env.signature))
    except BadSignatureError:
        raise InvalidSignature("signature does not match the body, chain id and key") from None
    return DecodedTx(
        hash=tx_hash(raw),
        sender=address_from_pubkey(pub_key),
        pub_key=pub_key,
        chain_id=body.chain_id,
        nonce=body.nonce,
        fee=body.fee,
        memo=body.memo,
        messages=messages,
    )


def _message_to_proto(msg: Message) -> tx_pb2.Msg:
    if isinstance(msg, MsgTransfer):
        return tx_pb2.Msg(transfer=tx_pb2.MsgTransfer(to=msg.to, amount=msg.amount))
    if isinstance(msg, MsgCreateValidator):
        return tx_pb2.Msg(
            create_validator=tx_pb2.MsgCreateValidator(
                pub_key=msg.pub_key,
                self_bond=msg.self_bond,
                moniker=msg.moniker,
                website=msg.website,
                commission_rate=msg.commission_rate,
                max_rate=msg.max_rate,
                max_change_rate=msg.max_change_rate,
            )
        )
    if isinstance(msg, MsgEditValidator):
        return tx_pb2.Msg(
            edit_validator=tx_pb2.MsgEditValidator(
                moniker=msg.moniker,
                website=msg.website,
                set_commission=msg.set_commission,
                commission_rate=msg.commission_rate,
            )
        )
    if isinstance(msg, MsgDelegate):
        return tx_pb2.Msg(delegate=tx_pb2.MsgDelegate(validator=msg.validator, amount=msg.amount))
    if isinstance(msg, MsgUndelegate):
        return tx_pb2.Msg(
            undelegate=tx_pb2.MsgUndelegate(validator=msg.validator, amount=msg.amount)
        )
    if isinstance(msg, MsgRedelegate):
        return tx_pb2.Msg(
            redelegate=tx_pb2.MsgRedelegate(
                src_validator=msg.src_validator, dst_validator=msg.dst_validator, amount=msg.amount
            )
        )
    if isinstance(msg, MsgUnjail):
        return tx_pb2.Msg(unjail=tx_pb2.MsgUnjail())
    if isinstance(msg, MsgWithdrawRewards):
        return tx_pb2.Msg(withdraw_rewards=tx_pb2.MsgWithdrawRewards(validator=msg.validator))
    raise TypeError(f"cannot encode {type(msg).__name__}")


def build_tx(
    key: SigningKey,
    chain_id: str,
    nonce: int,
    fee: int,
    messages: list[Message],
    memo: str = "",
) -> bytes:
    """Encode and sign a tx in canonical form (the SDK and tests build every tx with this)."""
    body = tx_pb2.TxBody(
        chain_id=chain_id,
        nonce=nonce,
        fee=fee,
        memo=memo,
        messages=[_message_to_proto(m) for m in messages],
    ).SerializeToString(deterministic=True)
    sig = key.sign(sign_bytes(chain_id, body)).signature
    env = tx_pb2.Tx(body=body, pub_key=bytes(key.verify_key), signature=sig)
    return env.SerializeToString(deterministic=True)
