"""A deterministic exception inside one message handler fails that tx (writes reverted, fee
and nonce kept, code 99, a loud log and a metric) instead of halting every validator at once
(issue 13); two app instances fed the same blocks agree. Begin/end-block steps keep fail-stop.
On main the exception escaped FinalizeBlock and every node stopped."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from chain_driver import Driver, genesis_app_state, transfer
from harness import addr_of, seeded_key

import abci_app.execution as execution
from abci_app.app import Application
from abci_app.chain_modules import MSG_BY_TYPE
from abci_app.errors import InternalError
from abci_app.metrics import AppMetrics
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.bank.state import get_account
from abci_app.state.db import StateDB
from abci_app.state.overlay import Overlay

BAD_AMOUNT = 777


REAL = MSG_BY_TYPE[MsgTransfer]


def buggy_transfer(state: Overlay, sender: bytes, msg: MsgTransfer, ctx: object) -> None:
    """A handler with a bug that one amount triggers, after writing."""
    REAL.handler(state, sender, msg, ctx)
    if msg.amount == BAD_AMOUNT:
        raise ZeroDivisionError("a bug only this amount reaches")


def test_a_handler_exception_fails_only_its_tx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(MSG_BY_TYPE, MsgTransfer, dataclasses.replace(REAL, handler=buggy_transfer))
    metrics = AppMetrics()
    drivers = [
        Driver(Application(StateDB(tmp_path / "a.sqlite"), check_invariants=True, metrics=metrics)),
        Driver.open(tmp_path / "b.sqlite"),
    ]
    state = genesis_app_state(3)
    assert drivers[0].init_chain(state) == drivers[1].init_chain(state)
    for d in drivers:
        d.block([])
    blocks = [
        [transfer(0, 1, 5, 0), transfer(0, 2, BAD_AMOUNT, 1), transfer(0, 1, 6, 2)],
        [transfer(1, 2, BAD_AMOUNT, 0), transfer(1, 2, 8, 1)],
    ]
    before = get_account(drivers[0].app.db, addr_of(seeded_key(0)))
    assert before is not None
    with caplog.at_level(logging.ERROR):
        for txs in blocks:
            results = [d.block(txs) for d in drivers]
            assert results[0] == results[1]  # same app hash, same codes
    assert [d.last_response().tx_results[0].code for d in drivers] == [InternalError.code] * 2  # type: ignore[union-attr]
    after = get_account(drivers[0].app.db, addr_of(seeded_key(0)))
    assert after is not None
    # the failed transfer moved nothing; its fee and nonce were charged
    assert after.nonce == 3 and before.balance - after.balance == 5 + 6 + 3 * 1_000
    assert "a message handler raised unexpectedly" in caplog.text and "Traceback" in caplog.text
    assert (
        metrics.registry.get_sample_value(
            "moderntensor_internal_errors_total", {"method": "msg_handler"}
        )
        == 2
    )
    for d in drivers:
        d.close()


def test_a_block_step_exception_still_stops_the_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Better to halt than to diverge: begin/end-block steps are not caught."""

    def broken(*args: object) -> object:
        raise RuntimeError("an end-block bug")

    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2))
    monkeypatch.setattr(execution, "subnets_end_block", broken)
    with pytest.raises(RuntimeError, match="end-block bug"):
        d.finalize([])
    d.close()
