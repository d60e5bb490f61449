"""Queries and CheckTx never stop a node (issue 13): every query argument is range-checked, a
query before the first Commit answers from genesis, and an unexpected exception in Query or
CheckTx is logged with its traceback, counted and answered with InternalError (code 99).
In-process; the same attacks go through a real node's RPC in tests/adversarial/."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chain_driver import Driver, genesis_app_state, transfer
from harness import CHAIN_ID, REPO

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.app import Application
from abci_app.errors import (
    ERRORS_BY_CODE,
    HeightNotAvailable,
    InternalError,
    InvalidAddress,
    InvalidQuery,
    TxDecodeError,
    UnknownQueryPath,
)
from abci_app.metrics import AppMetrics
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.subnets import queries as subnet_queries
from abci_app.runtime import RuntimeRefused, check_abci_address, check_protobuf_backend
from abci_app.state.db import StateDB

HOSTILE_PATHS: list[tuple[str, int]] = [
    ("/subnet/70000", InvalidQuery.code),  # the example: stopped the node on main
    ("/subnet/65536", InvalidQuery.code),
    ("/subnet/99999/metagraph", InvalidQuery.code),
    ("/subnet/1/weights/70000", InvalidQuery.code),
    ("/subnet/-1", InvalidQuery.code),
    ("/subnet/1e3", InvalidQuery.code),
    ("/subnet/\u0661", InvalidQuery.code),  # an Arabic-Indic digit: isdigit() but not ASCII
    ("/subnet/" + "9" * 5000, InvalidQuery.code),
    ("/subnet/", InvalidQuery.code),
    ("/subnet/1/weights/", InvalidQuery.code),
    ("/account/" + "x" * 3000, InvalidQuery.code),  # over the path limit
    ("/account/mt1\u00e9\u00e9", InvalidAddress.code),
    ("/account/\x00", InvalidAddress.code),
    ("/validator/mt1qqqq", InvalidAddress.code),
    ("/store/" + "ab" * 300, InvalidQuery.code),  # key over 256 bytes
    ("/store/zz", InvalidQuery.code),
    ("/store/", InvalidQuery.code),
    ("/\U0001f600/\u202e", UnknownQueryPath.code),  # an emoji, a right-to-left override
    ("/account/" + "q" * 95, InvalidAddress.code),  # longer than any bech32 string
    ("", UnknownQueryPath.code),
    ("/" * 1024, UnknownQueryPath.code),
]


def _driver(tmp_path: Path, metrics: AppMetrics | None = None) -> Driver:
    db = StateDB(tmp_path / "s.sqlite")
    d = Driver(Application(db, check_invariants=True, metrics=metrics), db.height)
    d.init_chain(genesis_app_state(3))
    return d


@pytest.mark.parametrize(("path", "code"), HOSTILE_PATHS)
def test_hostile_query_paths_answer_an_error_code(tmp_path: Path, path: str, code: int) -> None:
    d = _driver(tmp_path)
    d.block([])
    resp = d.query(path)
    assert resp.code == code, (resp.code, resp.log)
    assert len(resp.log) < 600 and "\n" not in resp.log  # one line, not an echo of the input
    assert d.block([transfer(0, 1, 5, 0)])[1] == [0]  # the node goes on
    d.close()


@pytest.mark.parametrize("height", [-1, 2, 10**18, -(2**63)])
def test_odd_heights_answer_height_not_available(tmp_path: Path, height: int) -> None:
    d = _driver(tmp_path)
    d.block([])
    for prove in (False, True):
        resp = d.app.query(abci.RequestQuery(path="/params", height=height, prove=prove))
        assert resp.code == HeightNotAvailable.code and resp.height == 1
    d.close()


def test_queries_before_the_first_commit_answer_from_genesis(tmp_path: Path) -> None:
    """On main, /params before block 1 raised RuntimeError and the node stopped."""
    db = StateDB(tmp_path / "s.sqlite")
    app = Application(db, check_invariants=True)
    before = app.query(abci.RequestQuery(path="/params"))
    assert before.code == HeightNotAvailable.code and "InitChain" in before.log
    d = Driver(app, 0)
    d.init_chain(genesis_app_state(3))
    params = d.query("/params")
    assert params.code == 0 and params.height == 0
    assert json.loads(params.value)["chain_id"] == CHAIN_ID
    assert json.loads(d.query("/supply").value)["total"] != "0"
    assert d.query("/validators").code == 0
    proved = app.query(abci.RequestQuery(path="/params", prove=True))
    assert proved.code == InvalidQuery.code and "first block" in proved.log
    d.block([])
    assert d.query("/params").height == 1
    d.close()


def test_an_unexpected_exception_in_a_query_is_code_99_logged_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = AppMetrics()
    d = _driver(tmp_path, metrics)
    d.block([])

    def bug(*args: object) -> object:
        raise ZeroDivisionError("a bug in a query route")

    monkeypatch.setattr(subnet_queries, "get_subnet", bug)
    with caplog.at_level(logging.ERROR, logger="moderntensor.app"):
        resp = d.query("/subnet/1")
    assert resp.code == InternalError.code and resp.codespace == "moderntensor"
    assert "ZeroDivisionError" in caplog.text and "Traceback" in caplog.text
    assert (
        metrics.registry.get_sample_value("moderntensor_internal_errors_total", {"method": "query"})
        == 1
    )
    assert d.block([transfer(0, 1, 5, 0)])[1] == [0]
    d.close()


def test_an_unexpected_exception_in_check_tx_is_code_99_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = AppMetrics()
    d = _driver(tmp_path, metrics)
    d.block([])
    good = transfer(0, 1, 5, 0)

    def bug(*args: object) -> object:
        raise KeyError("a bug in a handler")

    import dataclasses

    from abci_app.chain_modules import MSG_BY_TYPE

    spec = MSG_BY_TYPE[MsgTransfer]
    monkeypatch.setitem(MSG_BY_TYPE, MsgTransfer, dataclasses.replace(spec, handler=bug))
    with caplog.at_level(logging.ERROR, logger="moderntensor.app"):
        resp = d.check(good)
    assert resp.code == InternalError.code
    assert "Traceback" in caplog.text
    assert not d.app.check_state.writes
    assert (
        metrics.registry.get_sample_value(
            "moderntensor_check_txs_total", {"code": str(InternalError.code)}
        )
        == 1
    )
    monkeypatch.undo()
    assert d.check(good).code == 0  # the same node, the same tx, once the bug is gone
    d.close()


def test_any_exception_while_decoding_a_tx_is_a_decode_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only protobuf's DecodeError: whatever a decoding step raises is code 3, in CheckTx
    and in FinalizeBlock (where an escape would halt every validator at once)."""
    d = _driver(tmp_path)
    d.block([])
    raw = transfer(0, 1, 5, 0)

    def odd(self: MsgTransfer) -> None:
        raise ValueError("an edge case the checks did not foresee")

    monkeypatch.setattr(MsgTransfer, "validate", odd)
    assert d.check(raw).code == TxDecodeError.code
    _, codes = d.block([raw])
    assert codes == [TxDecodeError.code]
    d.close()


def test_every_answer_code_is_a_documented_one() -> None:
    assert all(code in ERRORS_BY_CODE for _, code in HOSTILE_PATHS)
    assert ERRORS_BY_CODE[99] is InternalError


def test_only_the_tested_protobuf_backend_is_accepted() -> None:
    check_protobuf_backend()  # this test run uses it
    for other in ("python", "cpp"):
        with pytest.raises(RuntimeRefused, match="tested only on 'upb'"):
            check_protobuf_backend(other)


def test_node_app_refuses_another_protobuf_backend_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": "python"}
    out = subprocess.run(
        [sys.executable, "-m", "abci_app", "--home", str(tmp_path), "node", "app"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "'python' backend" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "address",
    ["tcp://127.0.0.1:26658", "tcp://localhost:1", "tcp://[::1]:2", "unix:///tmp/a.sock", ":3"],
)
def test_loopback_and_unix_abci_addresses_are_accepted(address: str) -> None:
    check_abci_address(address)


@pytest.mark.parametrize(
    "address", ["tcp://0.0.0.0:26658", "tcp://[::]:1", "tcp://10.0.0.7:1", "tcp://app0:26658"]
)
def test_abci_beyond_loopback_is_refused(address: str) -> None:
    with pytest.raises(RuntimeRefused, match="not loopback"):
        check_abci_address(address)


def test_queries_do_not_fill_the_read_cache(tmp_path: Path) -> None:
    """Any RPC caller picks the keys of /store and /account queries: they read through the
    committed-value cache but never into it (on main, each new key stayed cached)."""
    d = _driver(tmp_path)
    d.block([transfer(0, 1, 5, 0)])
    before = len(d.app.db._cache)
    for i in range(500):
        assert d.query(f"/store/{i:0200x}").code == 0
        for prove in (False, True):
            r = d.app.query(abci.RequestQuery(path=f"/store/{i:0100x}ff", prove=prove))
            assert r.code == 0
    assert len(d.app.db._cache) == before
    d.close()


def test_check_tx_before_the_node_has_state_is_a_clear_refusal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before InitChain (or while a state sync restores), any RPC caller's tx was answered
    with code 99 and a traceback in the log, for every tx: now a one-line refusal (code 23),
    nothing logged, nothing counted as a bug."""
    from abci_app.errors import NoStateYet

    metrics = AppMetrics()
    d = Driver.open(tmp_path / "s.sqlite")
    d.app.metrics = metrics
    with caplog.at_level(logging.ERROR, logger="moderntensor.app"):
        codes = {d.check(raw).code for raw in (transfer(0, 1, 5, 0), b"\x01garbage")}
    assert codes == {NoStateYet.code} and "Traceback" not in caplog.text
    assert (
        metrics.registry.get_sample_value(
            "moderntensor_internal_errors_total", {"method": "check_tx"}
        )
        is None
    )
    d.init_chain(genesis_app_state(2))
    assert d.check(transfer(0, 1, 5, 0)).code == 0  # from genesis on, as before
    d.close()
