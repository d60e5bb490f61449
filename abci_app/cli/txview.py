"""What a signer is shown before signing: a tx body decoded into lines a person can check.

A tx document's body is protobuf's JSON mapping, where an address is base64 of its 20 bytes and
an amount is a string of base units: nobody can check ``"to": "WTVTjs2B…"`` by eye. Before
``tx sign`` signs a document (which may have been altered on its way to the offline machine)
and before a value-moving command sends, the CLI shows the body it is about to sign, decoded
from the protobuf message itself (never from fields beside it): chain id, nonce, fee and each
message field by field, 20-byte addresses as ``mt1…``, amounts in MDT with their base units,
strings as escaped JSON (a memo cannot draw lines of its own or send terminal escapes).
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message as ProtoMessage

from .._proto.moderntensor.tx.v1 import tx_pb2
from ..address import ADDRESS_LEN, to_bech32
from .common import format_mdt

AMOUNT_FIELDS = frozenset({"amount", "self_bond", "max_cost"})
"""Message fields in base units (tx.proto), shown in MDT too."""
MAX_LIST_ITEMS = 16
"""Items of a repeated field shown before "… (N more)"."""


def _scalar(field: FieldDescriptor, value: Any) -> str:
    if field.type == FieldDescriptor.TYPE_BYTES:
        raw = bytes(value)
        return to_bech32(raw) if len(raw) == ADDRESS_LEN else (raw.hex() or '""')
    if field.type == FieldDescriptor.TYPE_STRING:
        return json.dumps(value)  # quoted; control and non-ASCII characters escaped
    if field.type == FieldDescriptor.TYPE_BOOL:
        return "true" if value else "false"
    if field.name in AMOUNT_FIELDS:
        return f"{format_mdt(int(value))} ({int(value)} base units)"
    return str(value)


def _field(msg: ProtoMessage, field: FieldDescriptor) -> str:
    value = getattr(msg, field.name)
    if not field.is_repeated:
        return _scalar(field, value)
    items = [_scalar(field, v) for v in list(value)[:MAX_LIST_ITEMS]]
    more = len(value) - len(items)
    return "[" + ", ".join(items) + (f", … ({more} more)" if more else "") + "]"


def message_lines(body: tx_pb2.TxBody) -> list[str]:
    """One line per message: ``N. name field=value …`` (every field, defaults included)."""
    lines = []
    for i, m in enumerate(body.messages, 1):
        kind = m.WhichOneof("sum")
        if kind is None:
            lines.append(f"  {i}. (a message of no known type)")
            continue
        inner = getattr(m, kind)
        fields = " ".join(f"{f.name}={_field(inner, f)}" for f in inner.DESCRIPTOR.fields)
        lines.append(f"  {i}. {kind} {fields}".rstrip())
    return lines


def describe_body(body: tx_pb2.TxBody, signer: str) -> str:
    """The whole body as the signer ``signer`` (``name (mt1…)``) is shown it before signing."""
    head = (
        f"signing as {signer}: chain id {json.dumps(body.chain_id)}, nonce {body.nonce}, "
        f"fee {format_mdt(body.fee)} ({body.fee} base units), memo {json.dumps(body.memo)}"
    )
    return "\n".join([head, *message_lines(body)])
