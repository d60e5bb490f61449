"""Every genesis rule has a failing example, and a bad genesis stops InitChain with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chain_driver import Driver

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.address import to_bech32
from abci_app.app import FatalAppError
from abci_app.errors import InvalidGenesis
from abci_app.genesis import parse_app_state

A = to_bech32(b"\x01" * 20)
B = to_bech32(b"\x02" * 20)


def good() -> dict[str, Any]:
    return {
        "chain_id": "c-1",
        "params": {"min_fee": 5},
        "accounts": [{"address": A, "balance": "10"}],
    }


def test_good_genesis() -> None:
    g = parse_app_state(good(), "c-1")
    assert g.total_supply == 10 and g.params.min_fee == 5
    assert parse_app_state(b"", "c-1").accounts == ()


BAD: list[tuple[str, Any, str]] = [
    ("not json", b"{", "not valid JSON"),
    ("not an object", [1], "must be a JSON object"),
    ("unknown top-level field", {**good(), "foo": 1}, "unknown field(s) in app_state: foo"),
    ("chain id mismatch", {**good(), "chain_id": "other"}, "differs from genesis chain_id"),
    ("unknown param", {**good(), "params": {"nope": 1}}, "unknown field(s) in params: nope"),
    ("negative param", {**good(), "params": {"min_fee": -1}}, "params.min_fee"),
    ("tiny max_tx_bytes", {**good(), "params": {"max_tx_bytes": 10}}, "at least 256"),
    ("accounts not a list", {**good(), "accounts": {}}, "must be a list"),
    (
        "unknown account field",
        {**good(), "accounts": [{"address": A, "balance": "1", "x": 1}]},
        "unknown field(s) in accounts[0]: x",
    ),
    ("missing balance", {**good(), "accounts": [{"address": A}]}, "missing balance"),
    (
        "bad address",
        {**good(), "accounts": [{"address": "mt1bad", "balance": "1"}]},
        "accounts[0].address",
    ),
    (
        "negative balance",
        {**good(), "accounts": [{"address": A, "balance": -5}]},
        "must not be negative",
    ),
    (
        "negative balance string",
        {**good(), "accounts": [{"address": A, "balance": "-5"}]},
        "non-negative decimal",
    ),
    (
        "float balance",
        {**good(), "accounts": [{"address": A, "balance": 1.5}]},
        "integer or a decimal",
    ),
    (
        "duplicate account",
        {**good(), "accounts": [{"address": A, "balance": "1"}] * 2},
        "duplicate account",
    ),
    (
        "balance overflow",
        {**good(), "accounts": [{"address": A, "balance": str(2**64)}]},
        "does not fit in 64 bits",
    ),
    (
        "supply overflow",
        {
            **good(),
            "accounts": [
                {"address": A, "balance": str(2**63)},
                {"address": B, "balance": str(2**63)},
            ],
        },
        "total supply",
    ),
]


@pytest.mark.parametrize(("name", "state", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_genesis_is_rejected(name: str, state: Any, message: str) -> None:
    with pytest.raises(InvalidGenesis) as e:
        parse_app_state(state, "c-1")
    assert message in e.value.log(), e.value.log()


def test_init_chain_refuses_a_bad_genesis_and_writes_nothing(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    before = d.app.db.app_hash
    with pytest.raises(FatalAppError, match="duplicate account"):
        d.app.init_chain(
            abci.RequestInitChain(
                chain_id="c-1",
                app_state_bytes=b'{"accounts":[{"address":"%s","balance":"1"},{"address":"%s","balance":"1"}]}'
                % (A.encode(), A.encode()),
                initial_height=1,
            )
        )
    assert d.app.db.app_hash == before and d.app.db.height == 0
    assert d.app.genesis is None
