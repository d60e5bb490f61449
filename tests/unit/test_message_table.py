"""The message table (each module's MsgSpec rows) and tx.proto's ``Msg`` oneof agree exactly,
and every handler has the one signature."""

from __future__ import annotations

import dataclasses
import inspect
import typing

from google.protobuf.descriptor import FieldDescriptor

from abci_app._proto.moderntensor.tx.v1 import tx_pb2
from abci_app.chain_modules import MESSAGES, MODULES, MSG_BY_NAME, MSG_BY_TYPE
from abci_app.modules.spec import WeightBounds

SCALARS = {
    FieldDescriptor.TYPE_UINT64: int,
    FieldDescriptor.TYPE_UINT32: int,
    FieldDescriptor.TYPE_BYTES: bytes,
    FieldDescriptor.TYPE_STRING: str,
    FieldDescriptor.TYPE_BOOL: bool,
}


def python_type(field: FieldDescriptor) -> object:
    """The dataclass annotation a protobuf field maps to: a scalar, or a tuple of them."""
    scalar = SCALARS[field.type]
    if field.is_repeated:
        return tuple[scalar, ...]  # type: ignore[valid-type]
    return scalar


def test_the_table_names_exactly_the_oneof_fields_in_wire_order() -> None:
    oneof = tx_pb2.Msg.DESCRIPTOR.oneofs_by_name["sum"]
    by_number = sorted(oneof.fields, key=lambda f: f.number)
    assert [spec.name for spec in MESSAGES] == [f.name for f in by_number]
    assert [f.number for f in by_number] == list(range(1, len(by_number) + 1))
    assert len(tx_pb2.Msg.DESCRIPTOR.fields) == len(oneof.fields)  # nothing outside the oneof
    for f in by_number:
        assert MSG_BY_NAME[f.name].proto_type.DESCRIPTOR is f.message_type, f.name


def test_each_dataclass_has_the_proto_fields_by_name_number_and_type() -> None:
    for spec in MESSAGES:
        proto_fields = sorted(spec.proto_type.DESCRIPTOR.fields, key=lambda f: f.number)
        assert [f.number for f in proto_fields] == list(range(1, len(proto_fields) + 1))
        fields = dataclasses.fields(spec.msg_type)
        assert [f.name for f in fields] == [f.name for f in proto_fields], spec.name
        hints = typing.get_type_hints(spec.msg_type)
        for pf in proto_fields:
            assert hints[pf.name] == python_type(pf), f"{spec.name}.{pf.name}"
        assert spec.msg_type.__dataclass_params__.frozen, spec.name  # type: ignore[attr-defined]


def test_each_type_has_one_row_one_handler_signature_and_a_weight() -> None:
    assert len(MSG_BY_TYPE) == len(MSG_BY_NAME) == len(MESSAGES) == 17
    for spec in MESSAGES:
        params = list(inspect.signature(spec.handler).parameters)
        assert params == ["state", "sender", "msg", "ctx"], spec.name
        assert inspect.getdoc(spec.handler), f"{spec.name}'s handler has no docstring"
        doc = inspect.getdoc(spec.handler) or ""
        for part in ("Writes:", "Events:", "Raises:"):
            assert part in doc, f"{spec.name}'s handler does not say {part}"
        fields = {f.name: f.type for f in dataclasses.fields(spec.msg_type)}
        sample = spec.msg_type(**{name: _zero(t) for name, t in fields.items()})
        bounds = WeightBounds(max_uids_cap=1024, max_subnets=32, max_delegations=64)
        assert isinstance(spec.weight(sample, bounds), int) and spec.weight(sample, bounds) > 0
    owners = {spec.name: m.name for m in MODULES for spec in m.messages}
    assert owners["transfer"] == "bank" and owners["unjail"] == "slashing"
    assert owners["withdraw_rewards"] == "distribution" and owners["set_weights"] == "subnets"


def _zero(annotation: object) -> object:
    text = str(annotation)
    if text.startswith("tuple"):
        return ()
    return {"int": 0, "bytes": b"", "str": "", "bool": False}[text]


def test_decoding_and_encoding_use_the_table() -> None:
    """A message type the table does not know cannot be encoded; every known one round-trips."""
    from harness import seeded_key

    from abci_app.params import AppParams
    from abci_app.tx import build_tx, decode_tx

    key = seeded_key(1)
    for spec in MESSAGES:
        fields = {f.name: f.type for f in dataclasses.fields(spec.msg_type)}
        msg = spec.msg_type(**{name: _zero(t) for name, t in fields.items()})
        raw = build_tx(key, "c-1", 0, 1_000, [msg])
        try:
            decoded = decode_tx(raw, AppParams(), "c-1")
        except Exception as e:  # noqa: BLE001 - zero values fail validate(), decoding worked
            assert type(e).__name__ not in {"TxDecodeError", "NonCanonicalEncoding"}, spec.name
        else:
            assert decoded.messages == (msg,)

    @dataclasses.dataclass(frozen=True)
    class MsgUnknown:
        def validate(self) -> None:
            return None

    try:
        build_tx(key, "c-1", 0, 1_000, [MsgUnknown()])
    except TypeError as e:
        assert "not in the message table" in str(e)
    else:  # pragma: no cover
        raise AssertionError("an unknown message type was encoded")
