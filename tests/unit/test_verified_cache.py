"""Txs are decoded and verified once per node: CheckTx's work is reused by the rechecks,
PrepareProposal and FinalizeBlock through a bounded cache keyed by tx hash, without changing any
result."""

from __future__ import annotations

from pathlib import Path

import pytest
from chain_driver import Driver, genesis_app_state, transfer
from harness import CHAIN_ID
from nacl.signing import VerifyKey

from abci_app import tx as tx_module
from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.errors import FeeTooLow, InvalidSignature, ModernTensorError, TxTooLarge, WrongChainId
from abci_app.params import AppParams
from abci_app.tx import VerifiedTxs, decode_tx, tx_hash
from abci_app.types import DiscardEvents, EventLog


def count_verifies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = VerifyKey.verify

    def counting(self: VerifyKey, *args: object, **kw: object) -> object:
        calls[0] += 1
        return real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(VerifyKey, "verify", counting)
    return calls


def test_a_verified_tx_is_not_decoded_or_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_verifies(monkeypatch)
    parses = [0]
    real_parse = tx_module._parse_canonical

    def counting_parse(*args: object) -> object:
        parses[0] += 1
        return real_parse(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(tx_module, "_parse_canonical", counting_parse)
    cache = VerifiedTxs()
    raw = transfer(0, 1, 5, 0)
    first = decode_tx(raw, AppParams(), CHAIN_ID, cache)
    again = decode_tx(raw, AppParams(), CHAIN_ID, cache)
    assert first is again and calls[0] == 1 and parses[0] == 2 and tx_hash(raw) in cache
    assert decode_tx(raw, AppParams(), CHAIN_ID) == first  # without the cache: decoded, verified
    assert calls[0] == 2 and parses[0] == 4


@pytest.mark.parametrize(
    ("params", "chain_id", "error"),
    [
        (AppParams(min_fee=10**6), CHAIN_ID, FeeTooLow),
        (AppParams(max_tx_bytes=100), CHAIN_ID, TxTooLarge),
        (AppParams(), "another-chain", WrongChainId),
    ],
)
def test_a_cached_tx_meets_the_current_params(
    params: AppParams, chain_id: str, error: type[ModernTensorError]
) -> None:
    """Parameters are checked on every use: a cached tx fails as an uncached one does."""
    cache = VerifiedTxs()
    raw = transfer(0, 1, 5, 0)
    decode_tx(raw, AppParams(), CHAIN_ID, cache)
    with pytest.raises(error) as cached:
        decode_tx(raw, params, chain_id, cache)
    with pytest.raises(error) as fresh:
        decode_tx(raw, params, chain_id)
    assert cached.value.code == fresh.value.code and str(cached.value) == str(fresh.value)


def test_a_bad_signature_is_never_cached() -> None:
    cache = VerifiedTxs()
    raw = bytearray(transfer(0, 1, 5, 0))
    raw[-1] ^= 1  # the signature is the envelope's last field
    for _ in range(2):
        with pytest.raises(InvalidSignature):
            decode_tx(bytes(raw), AppParams(), CHAIN_ID, cache)
    assert len(cache) == 0


def test_the_cache_is_bounded() -> None:
    cache = VerifiedTxs(capacity=2)
    raws = [transfer(0, 1, 5, n) for n in range(3)]
    for raw in raws:
        decode_tx(raw, AppParams(), CHAIN_ID, cache)
    assert len(cache) == 2 and tx_hash(raws[0]) not in cache and tx_hash(raws[2]) in cache


def test_warm_and_cold_nodes_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One node saw every tx in CheckTx (warm cache), the other sees them first in the block."""
    warm = Driver.open(tmp_path / "warm.sqlite")
    cold = Driver.open(tmp_path / "cold.sqlite")
    state = genesis_app_state(6)
    assert warm.init_chain(state) == cold.init_chain(state)
    calls = count_verifies(monkeypatch)
    for height in range(5):
        txs = [transfer(i, (i + 1) % 6, 10 + height, height) for i in range(6)]
        for raw in txs:
            assert warm.check(raw).code == 0
        checked = calls[0]
        assert warm.block(txs) == cold.block(txs)
        assert calls[0] - checked == len(txs)  # only the cold node verified the block's txs
        # the whole FinalizeBlock answer, events included (CheckTx built none), is the same
        warm_resp, cold_resp = warm.last_response(), cold.last_response()
        assert warm_resp is not None and warm_resp == cold_resp
        assert any(e.type == "transfer" for r in warm_resp.tx_results for e in r.events)
    warm.close()
    cold.close()


def test_the_event_sinks_keep_or_drop_the_tx_path_events() -> None:
    log = EventLog()
    log.emit("fee", amount=1)
    mark = log.mark()
    log.emit("transfer", amount=5, sender="a")
    log.emit("message", action="x")
    log.truncate(mark + 1)  # a failed message's events go, the ones before it stay
    assert [(e.type, [(a.key, a.value) for a in e.attributes]) for e in log.take(0)] == [
        ("fee", [("amount", "1")]),
        ("transfer", [("amount", "5"), ("sender", "a")]),
    ]
    assert log.take(0) == [] and log.mark() == 0
    drop = DiscardEvents()
    drop.emit("transfer", amount=5)
    assert drop.mark() == 0 and drop.take(0) == []


def test_check_tx_and_prepare_proposal_build_no_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their contexts carry the discarding sink: not one event is built for them, while
    FinalizeBlock builds every one."""
    built = [0]
    real_emit = EventLog.emit

    def counting(self: EventLog, type_: str, **attrs: str | int) -> None:
        built[0] += 1
        real_emit(self, type_, **attrs)

    monkeypatch.setattr(EventLog, "emit", counting)
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(3))
    txs = [transfer(i, (i + 1) % 3, 10, 0) for i in range(3)]
    assert [d.check(raw).code for raw in txs] == [0, 0, 0]
    request = abci.RequestPrepareProposal(txs=txs, height=1, max_tx_bytes=10**6)
    prepared = d.app.prepare_proposal(request)
    assert list(prepared.txs) == txs and built[0] == 0
    d.block(txs)
    assert built[0] == 3 * 3  # fee, message, transfer per tx
    d.close()
