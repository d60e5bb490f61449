"""Offline signing: a tx as a JSON document that moves between machines.

A validator's cold key never touches an online machine: the online machine writes the unsigned
tx (``tx … --generate-only``), the offline one signs it (``tx sign --offline --nonce N
--chain-id C``), the online one broadcasts the signed file (``tx broadcast``). The document:

    {"format": "moderntensor-tx/1",
     "body": {"chain_id": "…", "nonce": "7", "fee": "1000", "memo": "", "messages": [{…}]},
     "signer": "mt1…",                                  # who is expected to sign (optional)
     "pub_key": "<hex>", "signature": "<hex>",          # once signed
     "tx": "<base64 of the signed tx bytes>", "hash": "<HEX tx hash>"}

``body`` is the tx body in protobuf's JSON mapping with the .proto field names (64-bit numbers
as strings, bytes as base64), so every message type round-trips without a table of its own;
the bytes signed are the canonical (deterministic) encoding of that body. A document is input
from another machine: it is parsed strictly (unknown fields refused), and a signed one is
checked (signature over the body, ``tx`` equal to the envelope rebuilt from its parts) before it
is broadcast.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from .._proto.moderntensor.tx.v1 import tx_pb2
from ..address import address_from_pubkey, to_bech32
from ..tx import Message, build_body, sign_body, sign_bytes, tx_hash

FORMAT = "moderntensor-tx/1"
MAX_DOC_BYTES = 1 << 20


class OfflineTxError(Exception):
    """A tx document is malformed, unsigned where it must be signed, or does not verify."""


def _body_json(body: tx_pb2.TxBody) -> dict[str, Any]:
    out: dict[str, Any] = json_format.MessageToDict(
        body, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return out


def unsigned_doc(
    chain_id: str,
    nonce: int,
    fee: int,
    messages: list[Message],
    memo: str = "",
    signer: str | None = None,
) -> dict[str, Any]:
    """The unsigned document of a tx (``--generate-only``)."""
    doc: dict[str, Any] = {
        "format": FORMAT,
        "body": _body_json(build_body(chain_id, nonce, fee, messages, memo)),
    }
    if signer is not None:
        doc["signer"] = signer
    return doc


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members; two members with one name are refused: a parser keeps the
    last, a person (or another tool) reading the file may take the first (RFC 8259 §4 leaves
    it open), so such a document does not say one thing."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise OfflineTxError(f"duplicate key {key!r} in the tx document: refused")
        out[key] = value
    return out


def parse_doc(text: str | bytes) -> dict[str, Any]:
    """A tx document from JSON text; raises OfflineTxError (too large, not JSON, a duplicate
    key anywhere, not a tx document)."""
    if len(text) > MAX_DOC_BYTES:
        raise OfflineTxError(f"tx document over {MAX_DOC_BYTES} bytes")
    try:
        doc = json.loads(text, object_pairs_hook=_unique_keys)
    except ValueError as e:
        raise OfflineTxError(f"not JSON: {e}") from None
    except RecursionError:
        raise OfflineTxError("not a tx document: nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise OfflineTxError(f'not a tx document (expected "format": "{FORMAT}")')
    if not isinstance(doc.get("body"), dict):
        raise OfflineTxError("the document has no body")
    return doc


def _one_name_per_field(obj: Any, desc: Any, where: str) -> None:
    """Refuse a JSON object naming one field of ``desc`` (a protobuf Descriptor) twice:
    protobuf's JSON mapping accepts both the field's name and its lowerCamelCase name
    (``chain_id`` and ``chainId``) and keeps one of them, while a reader may see the other."""
    if not isinstance(obj, dict):
        return
    names = {n: f for f in desc.fields for n in (f.name, f.json_name)}
    seen: dict[str, str] = {}
    for key, value in obj.items():
        field = names.get(key)
        if field is None:
            continue  # an unknown name: ParseDict refuses it
        if field.name in seen:
            raise OfflineTxError(
                f"{where}: field {field.name!r} given twice ({seen[field.name]!r} and {key!r})"
            )
        seen[field.name] = key
        if field.message_type is not None:
            items = value if isinstance(value, list) else [value]
            for item in items:
                _one_name_per_field(item, field.message_type, f"{where}.{field.name}")


def body_of(doc: dict[str, Any]) -> tx_pb2.TxBody:
    """The document's body as a protobuf message (strict: unknown fields are refused, and so
    is a field given under two names)."""
    _one_name_per_field(doc.get("body"), tx_pb2.TxBody.DESCRIPTOR, "body")
    try:
        return json_format.ParseDict(doc["body"], tx_pb2.TxBody())
    except (json_format.ParseError, KeyError, TypeError, ValueError) as e:
        raise OfflineTxError(f"bad tx body: {e}") from None


def body_to_sign(
    doc: dict[str, Any],
    signer: str,
    chain_id: str | None = None,
    nonce: int | None = None,
) -> tx_pb2.TxBody:
    """The body ``signer`` (an ``mt1…`` address) would sign: the document's, with ``chain_id``
    and ``nonce`` set if given (offline signing gives both; online they come from the node).
    Show it to the signer before signing (``cli/txview.py``). Raises OfflineTxError if the body
    is malformed or has no chain id, or the document names another signer."""
    body = body_of(doc)
    if chain_id is not None:
        body.chain_id = chain_id
    if nonce is not None:
        if not 0 <= nonce < 1 << 64:
            raise OfflineTxError("the nonce must be 0..2^64-1")
        body.nonce = nonce
    if not body.chain_id:
        raise OfflineTxError("the tx has no chain id: give --chain-id")
    if doc.get("signer") not in (None, signer):
        raise OfflineTxError(f"the tx is to be signed by {doc['signer']}, not by {signer}")
    return body


def sign_body_doc(body: tx_pb2.TxBody, key: SigningKey) -> dict[str, Any]:
    """The signed document of ``body`` (canonical bytes) signed by ``key``."""
    body_bytes = body.SerializeToString(deterministic=True)
    return signed_doc(sign_body(key, body.chain_id, body_bytes))


def sign_doc(
    doc: dict[str, Any],
    key: SigningKey,
    chain_id: str | None = None,
    nonce: int | None = None,
) -> dict[str, Any]:
    """Sign ``doc`` as :func:`body_to_sign` prepares it (``chain_id``, ``nonce``). Raises
    OfflineTxError (see there)."""
    signer = to_bech32(address_from_pubkey(bytes(key.verify_key)))
    return sign_body_doc(body_to_sign(doc, signer, chain_id, nonce), key)


def signed_doc(raw: bytes) -> dict[str, Any]:
    """The document of a signed tx's bytes (``tx decode``): body, key, signature, bytes, hash.

    Raises OfflineTxError if the bytes are not a tx or the signature does not verify."""
    try:
        env = tx_pb2.Tx.FromString(raw)
        body = tx_pb2.TxBody.FromString(env.body)
    except DecodeError as e:
        raise OfflineTxError(f"not a tx: {e}") from None
    pub, sig = bytes(env.pub_key), bytes(env.signature)
    try:
        VerifyKey(pub).verify(sign_bytes(body.chain_id, bytes(env.body)), sig)
    except (BadSignatureError, ValueError, TypeError):
        raise OfflineTxError("the signature does not verify over the body") from None
    return {
        "format": FORMAT,
        "body": _body_json(body),
        "signer": to_bech32(address_from_pubkey(pub)),
        "pub_key": pub.hex(),
        "signature": sig.hex(),
        "tx": base64.b64encode(raw).decode(),
        "hash": tx_hash(raw).hex().upper(),
    }


def raw_of(doc: dict[str, Any]) -> bytes:
    """The signed tx bytes of a signed document, checked: the envelope rebuilt from body,
    pub_key and signature must verify and equal the document's ``tx``."""
    if "signature" not in doc or "pub_key" not in doc:
        raise OfflineTxError("the tx is not signed: `moderntensor tx sign FILE --from KEY`")
    body = body_of(doc)
    try:
        pub, sig = bytes.fromhex(doc["pub_key"]), bytes.fromhex(doc["signature"])
        given = base64.b64decode(doc["tx"], validate=True) if "tx" in doc else None
    except (ValueError, TypeError, binascii.Error) as e:
        raise OfflineTxError(f"bad signature fields: {e}") from None
    env = tx_pb2.Tx(body=body.SerializeToString(deterministic=True), pub_key=pub, signature=sig)
    raw = env.SerializeToString(deterministic=True)
    signed_doc(raw)  # verifies the signature
    if given is not None and given != raw:
        raise OfflineTxError("the document's tx bytes differ from its body and signature")
    return raw
