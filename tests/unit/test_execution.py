"""Ante and bank semantics: fee and nonce stay charged when a message fails; CheckTx is strict."""

from __future__ import annotations

import json
from pathlib import Path

from chain_driver import Driver, genesis_app_state, transfer
from harness import addr_of, seeded_key

from abci_app.address import module_address, to_bech32

BAL = 10**15


def acct(d: Driver, i: int) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        d.query(f"/account/{to_bech32(addr_of(seeded_key(i)))}").value
    )
    return data


def fresh(tmp_path: Path) -> Driver:
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(3, BAL))
    d.block([])
    return d


def test_failed_message_keeps_fee_and_nonce(tmp_path: Path) -> None:
    d = fresh(tmp_path)
    _, codes = d.block([transfer(0, 1, BAL * 2, 0)])
    assert codes == [102]
    a0, a1 = acct(d, 0), acct(d, 1)
    assert (a0["balance"], a0["nonce"]) == (str(BAL - 1_000), 1)
    assert a1["balance"] == str(BAL)
    fees = json.loads(d.query(f"/account/{to_bech32(module_address('fee_collector'))}").value)
    assert fees["balance"] == "1000"


def test_ante_failures_change_nothing(tmp_path: Path) -> None:
    """A block of txs failing the ante has exactly the effect of an empty block."""
    d = fresh(tmp_path)
    ref = Driver.open(tmp_path / "ref.sqlite")
    ref.init_chain(genesis_app_state(3, BAL))
    ref.block([])
    stranger = seeded_key(99)
    from abci_app.modules.bank.messages import MsgTransfer
    from abci_app.tx import build_tx

    unknown = build_tx(stranger, "mt-test-1", 0, 1000, [MsgTransfer(addr_of(seeded_key(0)), 1)])
    app_hash, codes = d.block([transfer(0, 1, 5, 3), unknown, transfer(1, 0, 5, 0, fee=BAL + 1)])
    assert codes == [21, 20, 22]
    assert app_hash == ref.block([])[0]


def test_sequential_nonces_in_one_block_and_in_the_mempool(tmp_path: Path) -> None:
    d = fresh(tmp_path)
    txs = [transfer(0, 1, 10, n) for n in range(5)]
    assert [d.check(t).code for t in txs] == [0] * 5
    assert d.check(transfer(0, 1, 10, 7)).code == 21  # a gap is refused
    _, codes = d.block(txs)
    assert codes == [0] * 5
    assert acct(d, 0)["nonce"] == 5
    # check-state was reset by Commit: the old nonces are now stale
    assert d.check(txs[0]).code == 21
    assert d.check(transfer(0, 1, 10, 5)).code == 0


def test_check_tx_refuses_an_overspend_without_touching_check_state(tmp_path: Path) -> None:
    d = fresh(tmp_path)
    res = d.check(transfer(2, 1, BAL, 0))  # amount + fee > balance
    assert res.code == 102
    assert "insufficient funds" in res.log
    assert not d.app.check_state.writes
    assert d.check(transfer(2, 1, BAL - 1_000, 0)).code == 0


def test_prepare_proposal_drops_unpayable_and_keeps_order(tmp_path: Path) -> None:
    from abci_app._proto.tendermint.abci import types_pb2 as abci

    d = fresh(tmp_path)
    good = [transfer(0, 1, 10, 0), transfer(0, 1, 10, 1)]
    bad = [transfer(0, 1, 10, 0), b"junk"]  # duplicate nonce, garbage
    failing_msg = transfer(1, 0, BAL * 5, 0)  # pays its fee, message fails: kept
    req = abci.RequestPrepareProposal
    resp = d.app.prepare_proposal(
        req(txs=[good[0], bad[0], good[1], bad[1], failing_msg], max_tx_bytes=10**6)
    )
    assert list(resp.txs) == [good[0], good[1], failing_msg]
    small = d.app.prepare_proposal(req(txs=good, max_tx_bytes=len(good[0]) + 3))
    assert list(small.txs) == [good[0]]


def test_self_transfer_and_supply(tmp_path: Path) -> None:
    d = fresh(tmp_path)
    _, codes = d.block([transfer(0, 0, 123, 0)])
    assert codes == [0]
    assert acct(d, 0)["balance"] == str(BAL - 1_000)
    # genesis accounts + the validator operator + two block rewards of 0.24 MDT
    assert json.loads(d.query("/supply").value)["total"] == str(3 * BAL + 10**13 + 2 * 240_000_000)
