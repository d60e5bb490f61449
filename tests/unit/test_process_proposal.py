"""ProcessProposal verifies (issue 13): a byzantine proposer's block with a tx failing the
stateless checks or the ante, or too many txs, is rejected; whatever PrepareProposal builds
from any mempool is accepted. In-process (the attack needs a byzantine proposer). On main every
proposal was accepted: 200,000 one-byte txs took seconds to execute and answered 26 MiB."""

from __future__ import annotations

import json
from pathlib import Path

from chain_driver import Driver, genesis_app_state, signed, transfer
from harness import CHAIN_ID, addr_of, seeded_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.execution import MAX_PROPOSAL_TXS
from abci_app.metrics import AppMetrics
from abci_app.modules.bank.messages import MsgTransfer

ACCEPT = abci.ResponseProcessProposal.ACCEPT
REJECT = abci.ResponseProcessProposal.REJECT
N = 4


def fresh(tmp: Path, max_gas: int = 0) -> Driver:
    """A chain of N funded accounts; with ``max_gas``, CometBFT's block.max_gas as InitChain
    receives it (0: no consensus params, as in tests without CometBFT)."""
    tmp.mkdir(parents=True, exist_ok=True)
    d = Driver.open(tmp / "s.sqlite")
    d.app.metrics = AppMetrics()
    if max_gas:
        req = abci.RequestInitChain(
            chain_id=CHAIN_ID,
            app_state_bytes=json.dumps(genesis_app_state(N, balance=10**6)).encode(),
            initial_height=1,
        )
        req.consensus_params.block.max_gas = max_gas
        d.app.init_chain(req)
    else:
        d.init_chain(genesis_app_state(N, balance=10**6))
    d.block([])
    return d


def process(d: Driver, txs: list[bytes]) -> int:
    req = abci.RequestProcessProposal(txs=txs, height=d.height + 1, proposer_address=b"\x01" * 20)
    return int(d.app.process_proposal(req).status)


def prepare(d: Driver, txs: list[bytes], max_bytes: int = 10**7) -> list[bytes]:
    req = abci.RequestPrepareProposal(txs=txs, max_tx_bytes=max_bytes, height=d.height + 1)
    return list(d.app.prepare_proposal(req).txs)


def test_byzantine_proposals_are_rejected(tmp_path: Path) -> None:
    d = fresh(tmp_path)
    good = [transfer(0, 1, 5, 0), transfer(0, 2, 5, 1), transfer(1, 0, 5, 0)]
    unfunded = signed(999, [MsgTransfer(to=addr_of(seeded_key(1)), amount=1)], 0)
    cases = {
        "one garbage byte": [*good, b"\x01"],
        "200,000 one-byte txs": [b"\x00"] * 200_000,
        "too many valid-looking txs": [good[0]] * (MAX_PROPOSAL_TXS + 1),
        "an unfunded sender (free for the proposer on main)": [*good, unfunded],
        "a nonce gap": [transfer(0, 1, 5, 0), transfer(0, 1, 5, 2)],
        "a replayed nonce": [transfer(0, 1, 5, 0), transfer(0, 1, 5, 0)],
        "a fee the balance cannot pay": [transfer(2, 1, 10**6 - 1_000, 0), transfer(2, 1, 1, 1)],
        "a bad signature": [signed(0, [MsgTransfer(to=bytes(20), amount=1)], 0)[:-1] + b"x"],
    }
    for name, txs in cases.items():
        assert process(d, txs) == REJECT, name
    assert d.app.metrics is not None
    rejected = d.app.metrics.registry.get_sample_value("moderntensor_rejected_proposals_total")
    assert rejected == len(cases)
    # a failing message still pays: such a tx is a valid part of a block
    overspend = transfer(3, 1, 10**9, 0)
    assert process(d, [*good, overspend]) == ACCEPT
    assert process(d, []) == ACCEPT
    assert d.check(good[0]).code == 0  # nothing was written: the check-state is untouched
    d.close()


def _mempool() -> st.SearchStrategy[list[bytes]]:
    tx = st.one_of(
        st.builds(
            lambda s, r, a, n: transfer(s, r, a, n),
            st.integers(0, N - 1),
            st.integers(0, N + 2),
            st.integers(1, 2 * 10**6),
            st.integers(0, 4),
        ),
        st.builds(
            lambda k, n: signed(k, [MsgTransfer(to=bytes(20), amount=1)], n),
            st.integers(500, 503),
            st.integers(0, 1),
        ),
        st.builds(  # several messages (heavier txs), some overspending
            lambda s, n, k, a: signed(s, [MsgTransfer(to=bytes(20), amount=a)] * k, n),
            st.integers(0, N - 1),
            st.integers(0, 4),
            st.integers(2, 32),
            st.integers(1, 10**5),
        ),
        st.binary(max_size=60),
    )
    return st.lists(tx, max_size=25)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mempool=_mempool(),
    max_bytes=st.sampled_from([10**7, 600, 150]),
    max_gas=st.sampled_from([0, 200, 700, 10**6]),
)
def test_whatever_prepare_builds_process_accepts(
    tmp_path_factory, mempool: list[bytes], max_bytes: int, max_gas: int
) -> None:  # type: ignore[no-untyped-def]
    """Any mempool (valid, overspending, gapped, replayed, unfunded, garbage, multi-message
    txs; one sender's nonce sequences among several payers; any byte limit and block.max_gas,
    one tx's weight or a few): our PrepareProposal's block is accepted by ProcessProposal,
    also on another node that did not build it (no shortcut there), and finalizes with every
    tx paying its fee within the block's weight."""
    tmp = tmp_path_factory.mktemp("p")
    builder, voter = fresh(tmp / "a", max_gas), fresh(tmp / "b", max_gas)
    block = prepare(builder, mempool, max_bytes)
    assert process(builder, block) == ACCEPT
    assert process(voter, block) == ACCEPT
    resp = voter.finalize(block)
    assert all(r.code not in range(2, 30) for r in resp.tx_results)  # none failed its ante
    if max_gas:
        assert sum(r.gas_used for r in resp.tx_results) <= max_gas
    builder.close()
    voter.close()
