"""Deterministic weights and exact fees (issue 13): the fee quoted is the fee charged, a fee one
unit short is refused before the ante, the weight is reported as gas, more work weighs more,
and a block is bounded by CometBFT's block.max_gas in PrepareProposal and ProcessProposal. On
main every tx paid a flat min_fee whatever its size or work."""

from __future__ import annotations

import json
from pathlib import Path

from chain_driver import (
    Driver,
    Sender,
    exact_tx,
    fee_of,
    genesis_app_state,
    genesis_document,
    signed,
    transfer,
)
from harness import CHAIN_ID, addr_of, seeded_key

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.errors import FeeTooLow
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.bank.state import get_account
from abci_app.modules.distribution.messages import MsgWithdrawRewards
from abci_app.modules.subnets.messages import MsgRegisterSubnet, MsgSetWeights
from abci_app.params import AppParams
from abci_app.tx import build_tx
from abci_app.weights import WeightBounds, message_weight, required_fee, tx_weight


def test_a_plain_transfer_costs_exactly_min_fee() -> None:
    raw = transfer(0, 1, 10**9, 5)
    bounds = WeightBounds(1024, 32, 64)
    weight = tx_weight(len(raw), (MsgTransfer(addr_of(seeded_key(1)), 10**9),), bounds)
    assert weight * AppParams().gas_price <= AppParams().min_fee
    assert (
        required_fee(weight, AppParams())
        == AppParams().min_fee
        == fee_of(exact_tx(seeded_key(0), [MsgTransfer(addr_of(seeded_key(1)), 10**9)], 5))
    )


def test_more_work_weighs_more() -> None:
    bounds = WeightBounds(1024, 32, 64)
    small = MsgSetWeights(1, (1, 2), (1, 1), 0)
    big = MsgSetWeights(1, tuple(range(1000)), (1,) * 1000, 0)
    assert message_weight(big, bounds) > message_weight(small, bounds) + 400
    assert tx_weight(10_000, (small,), bounds) > tx_weight(100, (small,), bounds)
    assert tx_weight(100, (small, small), bounds) == tx_weight(
        100, (small,), bounds
    ) + message_weight(small, bounds)


def test_the_quoted_fee_is_charged_and_one_less_is_refused(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(3))
    d.block([])
    msgs = [MsgRegisterSubnet(max_cost=10**15)]
    quote = d.app.query(abci.RequestQuery(path="/fee", data=signed(0, msgs, 0, fee=1_000)))
    assert quote.code == 0, quote.log
    quoted = json.loads(quote.value)
    assert int(quoted["fee"]) > AppParams().min_fee  # heavier than a transfer
    exact = build_tx(seeded_key(0), CHAIN_ID, 0, int(quoted["fee"]), msgs)
    short = build_tx(seeded_key(0), CHAIN_ID, 0, int(quoted["fee"]) - 1, msgs)
    refused = d.check(short)
    assert refused.code == FeeTooLow.code and "required" in refused.log
    assert not d.app.check_state.writes
    checked = d.check(exact)
    assert checked.code == 0 and checked.gas_wanted == quoted["weight"] == checked.gas_used
    before = get_account(d.app.db, addr_of(seeded_key(0)))
    resp = d.finalize([exact])
    assert resp.tx_results[0].code == 0
    assert resp.tx_results[0].gas_used == resp.tx_results[0].gas_wanted == quoted["weight"]
    d.app.commit()
    after = get_account(d.app.db, addr_of(seeded_key(0)))
    assert before is not None and after is not None
    lock = int(json.loads(d.query("/subnets").value)[0]["lock"])
    assert before.balance - after.balance == int(quoted["fee"]) + lock
    d.close()


def _chain_with_max_gas(tmp_path: Path, max_gas: int) -> Driver:
    d = Driver.open(tmp_path / "s.sqlite")
    req = abci.RequestInitChain(
        chain_id=CHAIN_ID,
        app_state_bytes=json.dumps(genesis_app_state(4)).encode(),
        initial_height=1,
    )
    req.consensus_params.block.max_gas = max_gas
    d.app.init_chain(req)
    d.block([])
    return d


def test_blocks_stay_under_max_gas(tmp_path: Path) -> None:
    one = tx_weight(len(transfer(0, 1, 5, 0)), (MsgTransfer(bytes(20), 5),), WeightBounds(1, 1, 1))
    d = _chain_with_max_gas(tmp_path, 3 * one + one // 2)  # room for three transfers
    s = Sender()
    txs = [s.tx(i % 4, MsgTransfer(addr_of(seeded_key(1)), 5)) for i in range(6)]
    req = abci.RequestPrepareProposal(txs=txs, max_tx_bytes=10**6, height=d.height + 1)
    prepared = list(d.app.prepare_proposal(req).txs)
    assert prepared == txs[:3]
    process = abci.RequestProcessProposal(txs=txs[:4], height=d.height + 1)
    assert d.app.process_proposal(process).status == abci.ResponseProcessProposal.REJECT
    process = abci.RequestProcessProposal(txs=txs[:3], height=d.height + 1)
    assert d.app.process_proposal(process).status == abci.ResponseProcessProposal.ACCEPT
    d.close()


def test_a_tx_heavier_than_a_block_never_enters_the_mempool(tmp_path: Path) -> None:
    d = _chain_with_max_gas(tmp_path, 5_000)
    heavy = signed(0, [MsgWithdrawRewards(b"")] * 4, 0)  # 4 x 1,630 units: all delegations
    r = d.check(heavy)
    assert r.code == 2 and "block.max_gas" in r.log and not d.app.check_state.writes
    d.close()


def test_a_genesis_without_a_block_weight_bound_is_refused(tmp_path: Path) -> None:
    """Without block.max_gas (CometBFT's default, -1, as `cometbft init` writes it) nothing
    bounds a block's weight: on main such a genesis passed `genesis validate` and InitChain and
    the chain ran with only max_bytes and 50,000 txs as bounds (a block of 32-message
    withdraw_rewards txs: ~50 ms each, 40 minutes a block). Both now refuse it, and a bound
    past MAX_BLOCK_GAS, in one line."""
    import copy

    import pytest

    from abci_app.app import FatalAppError
    from abci_app.errors import InvalidGenesis
    from abci_app.node import genesis_file
    from abci_app.weights import MAX_BLOCK_GAS

    def doc(max_gas: object) -> dict[str, object]:
        consensus = copy.deepcopy(genesis_file.DEFAULT_CONSENSUS_PARAMS)
        if max_gas is None:
            del consensus["block"]["max_gas"]
        else:
            consensus["block"]["max_gas"] = max_gas
        return genesis_document(genesis_app_state(2), consensus)

    genesis_file.validate(doc("1000000"))
    genesis_file.validate(doc(str(MAX_BLOCK_GAS)))
    for bad in ("-1", "0", str(MAX_BLOCK_GAS + 1), "1e6", "", None, 10**30, True, "٣"):
        with pytest.raises(InvalidGenesis) as e:
            genesis_file.validate(doc(bad))
        assert "block.max_gas" in str(e.value) and "\n" not in str(e.value), bad
    # a gas price whose fee for a block-heavy tx is past u64: such a tx could never pay (main:
    # accepted, and with 2^62 every tx of 61 units or more was unpayable)
    pricey = doc("1000000")
    pricey["app_state"] = {**genesis_app_state(2), "params": {"gas_price": 2**62}}
    with pytest.raises(InvalidGenesis, match="gas_price"):
        genesis_file.validate(pricey)
    for bad_gas in (-1, 0, MAX_BLOCK_GAS + 1):
        d = Driver.open(tmp_path / f"s{bad_gas}.sqlite")
        req = abci.RequestInitChain(
            chain_id=CHAIN_ID,
            app_state_bytes=json.dumps(genesis_app_state(2)).encode(),
            initial_height=1,
        )
        req.consensus_params.block.max_gas = bad_gas
        with pytest.raises(FatalAppError, match=r"block\.max_gas"):
            d.app.init_chain(req)
        assert d.app.genesis is None
        d.close()


def test_a_message_reading_a_neuron_per_entry_pays_for_each_read() -> None:
    """reveal_weights reads every revealed uid's neuron (to drop a uid registered since the
    commit), as a registration into a full subnet reads every neuron for the one to prune: per
    neuron read it must weigh at least what register_neuron does. On main a 1,024-entry reveal
    weighed 680 units for 11.5 ms of work (14 us per unit against ~1 for every other type;
    bench/weights_bench.py)."""
    from abci_app.modules.subnets.messages import MsgRegisterNeuron, MsgRevealWeights

    small, big = WeightBounds(1, 1, 1), WeightBounds(1024, 1, 1)
    per_neuron = (
        message_weight(MsgRegisterNeuron(1, 1), big)
        - message_weight(MsgRegisterNeuron(1, 1), small)
    ) // (1024 - 1)
    uids = tuple(range(1024))

    def reveal(n: int) -> MsgRevealWeights:
        return MsgRevealWeights(1, uids[:n], (1,) * n, b"s" * 16, 0)

    per_entry = (message_weight(reveal(1024), small) - message_weight(reveal(0), small)) / 1024
    assert per_entry >= per_neuron, (per_entry, per_neuron)


def test_a_delegation_to_a_new_validator_pays_for_counting_the_sender_s_delegations() -> None:
    """delegate and redelegate to a validator the sender has no delegation with count its
    delegations against max_delegations (~1.4 us each): with 63 of them a delegate took 246 us
    for 133 units on main (1.85 us per unit, 2.1x the fastest type), a redelegate 328 us for
    173. Their weights now grow with max_delegations."""
    from abci_app.modules.staking.messages import MsgDelegate, MsgRedelegate

    one, full = WeightBounds(1, 1, 1), WeightBounds(1, 1, 64)
    for msg in (MsgDelegate(bytes(20), 1), MsgRedelegate(bytes(20), bytes(20), 1)):
        assert message_weight(msg, full) - message_weight(msg, one) >= 63, msg
