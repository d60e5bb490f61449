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
from abci_app.tx import VerifiedTxs, decode_tx, footprint, tx_hash
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
    assert tx_hash(raw) not in cache  # decoding alone adds nothing: execution adds after the ante
    cache.add(first)
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
    cache.add(decode_tx(raw, AppParams(), CHAIN_ID, cache))
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


def test_the_cache_is_bounded_in_bytes() -> None:
    raws = [transfer(0, 1, 5, n) for n in (1, 2, 3)]  # (equal sizes: nonce 0 is omitted)
    one = footprint(decode_tx(raws[0], AppParams(), CHAIN_ID))
    cache = VerifiedTxs(capacity_bytes=2 * one)
    for raw in raws:
        cache.add(decode_tx(raw, AppParams(), CHAIN_ID, cache))
    assert len(cache) == 2 and tx_hash(raws[0]) not in cache and tx_hash(raws[2]) in cache
    assert cache.bytes == 2 * one
    cache.drop([tx_hash(raws[2]), b"unknown"])
    assert len(cache) == 1 and cache.bytes == one


def test_the_footprint_bounds_the_memory_a_decoded_tx_holds() -> None:
    import tracemalloc

    for raw in (transfer(0, 1, 5, 0), big_weights_tx(999, 4_000)):
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        tx = decode_tx(raw, AppParams(max_tx_bytes=10**6), CHAIN_ID)
        held = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
        tracemalloc.stop()
        assert 0 < held <= footprint(tx), (len(raw), held, footprint(tx))


def big_weights_tx(key: int, entries: int) -> bytes:
    """Three set_weights of ``entries`` each (the issue's 43 KB tx had three of ~3,000)."""
    import random

    from harness import seeded_key

    from abci_app.modules.subnets.messages import MsgSetWeights
    from abci_app.tx import build_tx

    rng = random.Random(key)
    uids = tuple(range(entries))
    msg = MsgSetWeights(1, uids, tuple(rng.randrange(1, 65536) for _ in uids), 0)
    return build_tx(seeded_key(key), CHAIN_ID, 0, 10**9, [msg, msg, msg])


def test_an_unfunded_sender_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    """The issue's attack: validly signed large txs from never-funded keys were refused (code
    20) yet each held ~760 KiB in the cache on main, up to 100,000 of them."""
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2))
    d.block([])
    for key in range(900, 905):
        raw = big_weights_tx(key, 3_000)
        assert 40_000 < len(raw) <= AppParams().max_tx_bytes
        assert d.check(raw).code == 20
    assert len(d.app.verified) == 0 and d.app.verified.bytes == 0
    ok = transfer(0, 1, 5, 0)
    assert d.check(ok).code == 0 and tx_hash(ok) in d.app.verified  # a payable tx is kept
    d.block([ok])
    assert len(d.app.verified) == 0  # and dropped once committed
    d.close()


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


def test_the_footprint_bounds_hostile_shapes() -> None:
    """The shapes that hold most memory per raw byte: many tiny messages (each a Python object
    of a few hundred bytes for 2-8 bytes on the wire) and lists of 2-byte varints (each a
    28-byte int object plus a pointer). On main the estimate was 2.5x below the memory held by
    32 empty withdraw_rewards and 1.2x below a set_weights of 2-byte uids and weights, so the
    cache's 128 MiB bound held up to ~300 MiB."""
    import tracemalloc

    from harness import seeded_key

    from abci_app.modules.distribution.messages import MsgWithdrawRewards
    from abci_app.modules.subnets.messages import MsgRegisterSubnet, MsgSetWeights
    from abci_app.tx import build_tx

    two_byte = tuple(range(300, 300 + 4_096))
    shapes = {
        "32 empty withdraw_rewards": [MsgWithdrawRewards(validator=b"") for _ in range(32)],
        "32 register_subnet": [MsgRegisterSubnet(max_cost=1) for _ in range(32)],
        "32 one-entry set_weights": [MsgSetWeights(n, (300,), (300,), 0) for n in range(1, 33)],
        "3 set_weights of 2-byte varints": [
            MsgSetWeights(n, two_byte, two_byte, 0) for n in (1, 2, 3)
        ],
    }
    for name, msgs in shapes.items():
        raw = build_tx(seeded_key(1), CHAIN_ID, 0, 10**9, msgs)
        assert len(raw) <= AppParams().max_tx_bytes, name
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        tx = decode_tx(raw, AppParams(), CHAIN_ID)
        held = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
        tracemalloc.stop()
        assert 0 < held <= footprint(tx), (name, len(raw), held, footprint(tx))


def test_a_tx_check_tx_refuses_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    """A funded key's txs that pass the ante but fail a message (or weigh more than a block)
    are refused by CheckTx and charged nothing: on main each stayed in the cache all the same,
    so one funded account filled it for free (distinct txs, the same nonce), evicting the
    mempool's txs, which the block path then decoded and verified again."""
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2, balance=10**6))
    d.block([])
    for amount in range(10**7, 10**7 + 50):  # overspends: the transfer fails after the ante
        assert d.check(transfer(0, 1, amount, 0)).code != 0
    assert len(d.app.verified) == 0 and d.app.verified.bytes == 0
    ok = transfer(0, 1, 5, 0)
    assert d.check(ok).code == 0 and tx_hash(ok) in d.app.verified  # an admitted tx is kept
    assert d.check(ok).code != 0 and tx_hash(ok) in d.app.verified  # (a resend: still kept)
    d.close()


def test_a_rejected_proposal_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    """A byzantine proposer's funded txs followed by one bad tx: the proposal is rejected and
    its txs never charged, so none of them may stay in the cache (on main they did)."""
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2))
    d.block([])
    txs = [transfer(0, 1, 5, n) for n in range(20)] + [b"\x01"]
    req = abci.RequestProcessProposal(txs=txs, height=2, proposer_address=b"\x01" * 20)
    assert d.app.process_proposal(req).status == abci.ResponseProcessProposal.REJECT
    assert len(d.app.verified) == 0 and d.app.verified.bytes == 0
    req = abci.RequestProcessProposal(txs=txs[:-1], height=2, proposer_address=b"\x01" * 20)
    assert d.app.process_proposal(req).status == abci.ResponseProcessProposal.ACCEPT
    assert len(d.app.verified) == 20  # an accepted proposal's txs are kept for FinalizeBlock
    d.close()
