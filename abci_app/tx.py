"""The signed transaction envelope: decoding with stateless validation, sign-bytes, building.

Order of the stateless checks (cheapest first): size, decoding, canonical form, chain id, memo,
fee, messages, public key, signature. The signature is checked last because it is the costliest.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, Union

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
    ModernTensorError,
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
from .modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgCommitWeights,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgRemoveSubnetStake,
    MsgRevealWeights,
    MsgServeAxon,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
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
    MsgRegisterSubnet,
    MsgSetSubnetHyperparams,
    MsgRegisterNeuron,
    MsgServeAxon,
    MsgAddSubnetStake,
    MsgRemoveSubnetStake,
    MsgSetWeights,
    MsgCommitWeights,
    MsgRevealWeights,
]


CACHE_BYTES = 64 * 1024 * 1024
"""Memory the verified-tx cache may hold, as estimated by :func:`footprint` (~20,000 plain
transfers: CometBFT's mempool holds at most 20,000 txs in our templates)."""


def footprint(tx: DecodedTx) -> int:
    """Estimated bytes a decoded tx holds in memory: 1 KiB + 16 per byte of the raw tx.
    Measured with tracemalloc: a transfer (149 bytes) takes 2.1 KiB, 32 transfers (1.1 KB)
    8.8 KiB, three 4,000-entry set_weights (57 KB) 824 KiB; this bound is above each."""
    return 1024 + 16 * tx.size


class VerifiedTxs:
    """Txs this node decoded, verified and saw pass the ante, by tx hash, so a tx is decoded
    and verified once per node (CheckTx), not again in the rechecks after each block,
    PrepareProposal and FinalizeBlock.

    Safe because a tx hash fixes the bytes, and decoding, the message checks and signature
    verification are pure functions of the bytes. Only the checks against parameters (size,
    chain id, memo, fee, message count) are run again on every use, in the same order as a full
    decode, so a cached tx fails exactly as an uncached one would. Not consensus state: each
    node has its own.

    Bounded where a stranger can write (issue 13): only txs whose fee was payable are added
    (execution adds them after the ante), so an unfunded key cannot fill it; the entries'
    estimated memory (:func:`footprint`) stays under ``capacity_bytes``, the oldest forgotten
    first (and simply decoded again if they come back); a block's txs are dropped at Commit
    (the mempool drops them too)."""

    def __init__(self, capacity_bytes: int = CACHE_BYTES) -> None:
        self.capacity_bytes = capacity_bytes
        self.bytes = 0
        self._txs: OrderedDict[bytes, DecodedTx] = OrderedDict()

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self._txs

    def __len__(self) -> int:
        return len(self._txs)

    def get(self, tx_hash: bytes) -> DecodedTx | None:
        return self._txs.get(tx_hash)

    def add(self, tx: DecodedTx) -> None:
        """Remember a tx that passed the ante (again: it becomes the newest)."""
        txs = self._txs
        old = txs.pop(tx.hash, None)
        if old is not None:
            self.bytes -= footprint(old)
        cost = footprint(tx)
        if cost > self.capacity_bytes:
            return
        txs[tx.hash] = tx
        self.bytes += cost
        while self.bytes > self.capacity_bytes:
            _, oldest = txs.popitem(last=False)
            self.bytes -= footprint(oldest)

    def drop(self, hashes: Iterable[bytes]) -> None:
        """Forget these txs (a committed block's: they will not be checked again)."""
        txs = self._txs
        for h in hashes:
            tx = txs.pop(h, None)
            if tx is not None:
                self.bytes -= footprint(tx)


def sign_bytes(chain_id: str, body: bytes) -> bytes:
    cid = chain_id.encode()
    return SIGN_DOMAIN + encode_uvarint(len(cid)) + cid + body


def tx_hash(raw: bytes) -> bytes:
    """CometBFT's tx hash: sha256 of the raw tx bytes (what ``/tx?hash=`` looks up)."""
    return hashlib.sha256(raw).digest()


@dataclass(frozen=True)
class DecodedTx:
    hash: bytes
    size: int
    """Bytes of the raw tx (checked against ``max_tx_bytes`` again when reused from a cache)."""
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


_MESSAGES: dict[str, tuple[type[Message], type[Any]]] = {
    "transfer": (MsgTransfer, tx_pb2.MsgTransfer),
    "create_validator": (MsgCreateValidator, tx_pb2.MsgCreateValidator),
    "edit_validator": (MsgEditValidator, tx_pb2.MsgEditValidator),
    "delegate": (MsgDelegate, tx_pb2.MsgDelegate),
    "undelegate": (MsgUndelegate, tx_pb2.MsgUndelegate),
    "redelegate": (MsgRedelegate, tx_pb2.MsgRedelegate),
    "withdraw_rewards": (MsgWithdrawRewards, tx_pb2.MsgWithdrawRewards),
    "unjail": (MsgUnjail, tx_pb2.MsgUnjail),
    "register_subnet": (MsgRegisterSubnet, tx_pb2.MsgRegisterSubnet),
    "set_subnet_hyperparams": (MsgSetSubnetHyperparams, tx_pb2.MsgSetSubnetHyperparams),
    "register_neuron": (MsgRegisterNeuron, tx_pb2.MsgRegisterNeuron),
    "serve_axon": (MsgServeAxon, tx_pb2.MsgServeAxon),
    "add_subnet_stake": (MsgAddSubnetStake, tx_pb2.MsgAddSubnetStake),
    "remove_subnet_stake": (MsgRemoveSubnetStake, tx_pb2.MsgRemoveSubnetStake),
    "set_weights": (MsgSetWeights, tx_pb2.MsgSetWeights),
    "commit_weights": (MsgCommitWeights, tx_pb2.MsgCommitWeights),
    "reveal_weights": (MsgRevealWeights, tx_pb2.MsgRevealWeights),
}
"""The ``Msg`` oneof name of each message with its dataclass and protobuf class. Dataclass
fields and protobuf fields have the same names, so conversion is by name both ways."""
_KIND_OF = {cls: (kind, proto) for kind, (cls, proto) in _MESSAGES.items()}


def _message_from_proto(m: tx_pb2.Msg) -> Message:
    kind = m.WhichOneof("sum")
    if kind is None or kind not in _MESSAGES:
        raise InvalidMessage("message has no known type")
    cls, _ = _MESSAGES[kind]
    pm = getattr(m, kind)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        v = getattr(pm, f.name)
        values[f.name] = v if isinstance(v, int | str | bytes) else tuple(v)
    return cls(**values)


def decode_tx(
    raw: bytes, params: AppParams, chain_id: str, verified: VerifiedTxs | None = None
) -> DecodedTx:
    """Run every stateless check; return the typed tx or raise a ModernTensorError.

    With ``verified``, a tx already in it is not decoded or verified again, only checked
    against ``params`` and ``chain_id`` (execution adds a tx once its ante passed)."""
    digest = tx_hash(raw)
    if verified is not None:
        known = verified.get(digest)
        if known is not None:
            _check_against_params(known, params, chain_id)
            return known
    if len(raw) > params.max_tx_bytes:
        raise TxTooLarge(f"{len(raw)} bytes > max_tx_bytes {params.max_tx_bytes}")
    if not raw:
        raise TxDecodeError("empty tx")
    try:
        tx = _decode_and_verify(raw, digest, params, chain_id)
    except (ModernTensorError, MemoryError):
        raise
    except Exception as e:  # noqa: BLE001 - stranger's bytes: any other failure is a decode error
        # A deterministic function of the bytes (the same on every node), so in FinalizeBlock
        # it is the tx's result, never an exception that would halt every validator at once.
        # MemoryError is not deterministic: it stays fatal.
        raise TxDecodeError(f"{type(e).__name__} while decoding the tx") from None
    return tx


def _decode_and_verify(raw: bytes, digest: bytes, params: AppParams, chain_id: str) -> DecodedTx:
    """Every stateless check of an uncached tx, in :func:`decode_tx`'s order."""
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
        hash=digest,
        size=len(raw),
        sender=address_from_pubkey(pub_key),
        pub_key=pub_key,
        chain_id=body.chain_id,
        nonce=body.nonce,
        fee=body.fee,
        memo=body.memo,
        messages=messages,
    )


def _check_against_params(tx: DecodedTx, params: AppParams, chain_id: str) -> None:
    """The checks of :func:`decode_tx` that depend on parameters, in the same order."""
    if tx.size > params.max_tx_bytes:
        raise TxTooLarge(f"{tx.size} bytes > max_tx_bytes {params.max_tx_bytes}")
    if tx.chain_id != chain_id:
        raise WrongChainId(f"tx is for chain {tx.chain_id!r}, this chain is {chain_id!r}")
    if len(tx.memo.encode()) > params.max_memo_bytes:
        raise MemoTooLong(f"memo exceeds {params.max_memo_bytes} bytes")
    if tx.fee < params.min_fee:
        raise FeeTooLow(f"fee {tx.fee} < min_fee {params.min_fee}")
    if len(tx.messages) > params.max_msgs_per_tx:
        raise InvalidMessage(f"tx carries more than {params.max_msgs_per_tx} messages")


def tx_fee(raw: bytes) -> int:
    """The fee field of a signed tx built by :func:`build_tx` (clients read back what they
    signed; the node's checks use :func:`decode_tx`)."""
    body = tx_pb2.TxBody.FromString(tx_pb2.Tx.FromString(raw).body)
    return int(body.fee)


def _message_to_proto(msg: Message) -> tx_pb2.Msg:
    kind, proto = _KIND_OF[type(msg)]
    fields = {f.name: getattr(msg, f.name) for f in dataclasses.fields(msg)}
    return tx_pb2.Msg(**{kind: proto(**fields)})


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
