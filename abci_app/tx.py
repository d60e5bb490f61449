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
from typing import Any, TypeVar

from google.protobuf.message import DecodeError
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ._proto.moderntensor.tx.v1 import tx_pb2
from .address import address_from_pubkey
from .chain_modules import MSG_BY_NAME, MSG_BY_TYPE
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
from .modules.spec import Msg
from .params import AppParams

SIGN_DOMAIN = b"moderntensor/tx/v1"

Message = Msg
"""Any typed message of the table in :mod:`abci_app.chain_modules`."""


CACHE_BYTES = 128 * 1024 * 1024
"""Memory the verified-tx cache may hold, as estimated by :func:`footprint`: ~58,000 plain
transfers, more than twice what CometBFT's mempool holds in our templates (20,000 txs), so the
txs of the next blocks are never evicted under normal load (an evicted tx is decoded and
verified again on the block path: make bench fell by a third with a cache of half the
mempool)."""


def footprint(tx: DecodedTx) -> int:
    """Estimated bytes a decoded tx holds in memory, an upper bound for every shape of tx:
    768 + 8 per byte of the raw tx + 320 per message + 40 per list entry (a message is a
    Python object of a few hundred bytes for as little as 2 bytes on the wire; a list entry
    is an int object and a pointer for as little as 1 byte). Measured with tracemalloc
    (tests/unit/test_verified_cache.py): a transfer (151 bytes) holds 1.8 KiB (estimate
    2.3 KiB), 32 empty withdraw_rewards (248 bytes) 10.8 KiB (12.7 KiB), three 4,096-entry
    set_weights of 2-byte varints (49 KB) 868 KiB (1.3 MiB)."""
    entries = 0
    for msg in tx.messages:
        for name in _FIELDS[MSG_BY_TYPE[type(msg)].name]:
            value = getattr(msg, name)
            if isinstance(value, tuple):
                entries += len(value)
    return 768 + 8 * tx.size + 320 * len(tx.messages) + 40 * entries


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
        self._txs: OrderedDict[bytes, tuple[DecodedTx, int]] = OrderedDict()
        """By tx hash: the decoded tx and its footprint (computed once)."""
        self._tentative: list[bytes] | None = None
        """Hashes added since :meth:`begin` (None: not recording)."""

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self._txs

    def __len__(self) -> int:
        return len(self._txs)

    def get(self, tx_hash: bytes) -> DecodedTx | None:
        """The decoded tx with hash ``tx_hash``, if this node verified it already."""
        entry = self._txs.get(tx_hash)
        return None if entry is None else entry[0]

    def add(self, tx: DecodedTx) -> None:
        """Remember a tx that passed the ante (again: it becomes the newest)."""
        txs = self._txs
        old = txs.pop(tx.hash, None)
        if old is not None:
            self.bytes -= old[1]
        cost = footprint(tx)
        if cost > self.capacity_bytes:
            return
        txs[tx.hash] = (tx, cost)
        self.bytes += cost
        if old is None and self._tentative is not None:
            self._tentative.append(tx.hash)
        while self.bytes > self.capacity_bytes:
            _, (_, oldest) = txs.popitem(last=False)
            self.bytes -= oldest

    def begin(self) -> None:
        """Start a tentative use: the txs added from now on (and not known before) are
        forgotten by :meth:`end` unless it keeps them. CheckTx and ProcessProposal run a tx's
        ante on a branch they may throw away: a tx CheckTx refuses, or a rejected proposal's
        txs, were charged nothing and must not take room in the cache (issue 13 attack: a
        funded key filled it for free with txs whose message fails)."""
        self._tentative = []

    def end(self, keep: bool) -> None:
        """End the tentative use begun by :meth:`begin`: keep what it added, or forget it."""
        added, self._tentative = self._tentative, None
        if not keep and added:
            self.drop(added)

    def drop(self, hashes: Iterable[bytes]) -> None:
        """Forget these txs (a committed block's: they will not be checked again)."""
        txs = self._txs
        for h in hashes:
            entry = txs.pop(h, None)
            if entry is not None:
                self.bytes -= entry[1]


def sign_bytes(chain_id: str, body: bytes) -> bytes:
    """What a tx's signature covers: ``"moderntensor/tx/v1" || uvarint(len(chain_id)) ||
    chain_id || body`` (body: the exact serialized TxBody).
    """
    cid = chain_id.encode()
    return SIGN_DOMAIN + encode_uvarint(len(cid)) + cid + body


def tx_hash(raw: bytes) -> bytes:
    """CometBFT's tx hash: sha256 of the raw tx bytes (what ``/tx?hash=`` looks up)."""
    return hashlib.sha256(raw).digest()


@dataclass(frozen=True)
class DecodedTx:
    """A tx that passed every stateless check: its hash, size (bytes), sender address
    (from ``pub_key``), chain id, nonce, fee (base units), memo and typed messages.
    """

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


_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in dataclasses.fields(spec.msg_type))
    for name, spec in MSG_BY_NAME.items()
}
"""Each message's dataclass fields; the protobuf message has the same fields by name, so
conversion is by name both ways."""


def _message_from_proto(m: tx_pb2.Msg) -> Message:
    kind = m.WhichOneof("sum")
    spec = None if kind is None else MSG_BY_NAME.get(kind)
    if kind is None or spec is None:
        raise InvalidMessage("message has no known type")
    pm = getattr(m, kind)
    values: dict[str, Any] = {}
    for name in _FIELDS[kind]:
        v = getattr(pm, name)
        values[name] = v if isinstance(v, int | str | bytes) else tuple(v)
    msg: Message = spec.msg_type(**values)
    return msg


def decode_tx(
    raw: bytes, params: AppParams, chain_id: str, verified: VerifiedTxs | None = None
) -> DecodedTx:
    """Run every stateless check; return the typed tx or raise a ModernTensorError.

    With ``verified``, a tx already in it is not decoded or verified again, only checked
    against ``params`` and ``chain_id`` (execution adds a tx once its ante passed). Any
    exception while decoding a stranger's bytes is a TxDecodeError (deterministic: in
    FinalizeBlock it is the tx's result, never an escape that would halt every validator);
    MemoryError, not a function of the bytes, stays fatal."""
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
        return _decode_and_verify(raw, digest, params, chain_id)
    except (ModernTensorError, MemoryError):
        raise
    except Exception as e:  # noqa: BLE001 - stranger's bytes: any other failure is a decode error
        raise TxDecodeError(f"{type(e).__name__} while decoding the tx") from None


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


def _message_to_proto(msg: Message) -> tx_pb2.Msg:
    spec = MSG_BY_TYPE.get(type(msg))
    if spec is None:
        raise TypeError(f"{type(msg).__name__} is not in the message table")
    fields = {name: getattr(msg, name) for name in _FIELDS[spec.name]}
    return tx_pb2.Msg(**{spec.name: spec.proto_type(**fields)})


def tx_fee(raw: bytes) -> int:
    """The fee field of a signed tx built by :func:`build_tx` (clients read back what they
    signed; the node's checks use :func:`decode_tx`)."""
    body = tx_pb2.TxBody.FromString(tx_pb2.Tx.FromString(raw).body)
    return int(body.fee)


def build_tx(
    key: SigningKey,
    chain_id: str,
    nonce: int,
    fee: int,
    messages: list[Message],
    memo: str = "",
) -> bytes:
    """Encode and sign a tx in canonical form (the SDK and tests build every tx with this)."""
    body = build_body(chain_id, nonce, fee, messages, memo).SerializeToString(deterministic=True)
    return sign_body(key, chain_id, body)


def build_body(
    chain_id: str, nonce: int, fee: int, messages: list[Message], memo: str = ""
) -> tx_pb2.TxBody:
    """The unsigned body of a tx (offline signing writes it out as JSON before signing)."""
    return tx_pb2.TxBody(
        chain_id=chain_id,
        nonce=nonce,
        fee=fee,
        memo=memo,
        messages=[_message_to_proto(m) for m in messages],
    )


def sign_body(key: SigningKey, chain_id: str, body: bytes) -> bytes:
    """The canonical signed envelope of ``body`` (canonical TxBody bytes for ``chain_id``)."""
    sig = key.sign(sign_bytes(chain_id, body)).signature
    env = tx_pb2.Tx(body=body, pub_key=bytes(key.verify_key), signature=sig)
    return env.SerializeToString(deterministic=True)
