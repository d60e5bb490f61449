"""The app's Prometheus endpoint on a live node: every metric family is exposed under the
``moderntensor`` namespace and follows what the chain did (blocks, txs by type and code,
CheckTx refusals, validators, bonded tokens, subnets, state size)."""

from __future__ import annotations

import httpx
import pytest
from chain_driver import exact_tx
from harness import CHAIN_ID, LocalNode, addr_of, seeded_key, wait_until
from prometheus_client.parser import text_string_to_metric_families

from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.subnets.messages import MsgRegisterNeuron, MsgRegisterSubnet
from abci_app.tx import build_tx

pytestmark = pytest.mark.integration


def scrape(node: LocalNode) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """{sample name: {sorted labels: value}}."""
    text = httpx.get(f"http://127.0.0.1:{node.cfg.app_metrics_port}/metrics", timeout=5).text
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def value(
    m: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str, **labels: str
) -> float:
    return m.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


def test_app_metrics_follow_the_chain(node_factory: type) -> None:
    alice, bob = seeded_key(1), seeded_key(2)
    node: LocalNode = node_factory(accounts=[(addr_of(alice), 10**16), (addr_of(bob), 10**6)])
    node.init().start(min_height=2)
    with node.rpc() as rpc:
        chain = rpc.status()["node_info"]["network"]
        assert chain == CHAIN_ID
        txs = [
            build_tx(alice, chain, 0, 1_000, [MsgTransfer(addr_of(bob), 5)]),
            exact_tx(alice, [MsgRegisterSubnet(max_cost=10**13)], 1),  # weighs over min_fee
            exact_tx(alice, [MsgRegisterNeuron(1, 10**11)], 2),
        ]
        hashes = [rpc.broadcast_tx_sync(t).hash for t in txs]
        for h in hashes:
            assert rpc.wait_for_tx(h, timeout=30).code == 0
        overspend = build_tx(bob, chain, 0, 1_000, [MsgTransfer(addr_of(alice), 10**9)])
        assert rpc.broadcast_tx_sync(overspend).code == 102
        height = rpc.latest_height()

    m = wait_until(
        lambda: (got := scrape(node)) and value(got, "moderntensor_block_height") >= height and got,
        30,
        "the app metrics to reach the node's height",
    )
    assert value(m, "moderntensor_txs_total", type="transfer", code="0") == 1
    assert value(m, "moderntensor_txs_total", type="register_subnet", code="0") == 1
    assert value(m, "moderntensor_check_txs_total", code="102") == 1
    assert value(m, "moderntensor_check_txs_total", code="0") >= 3
    for method in ("finalize_block", "commit", "check_tx", "prepare_proposal", "info"):
        assert value(m, "moderntensor_abci_request_seconds_count", method=method) >= 1, method
    assert value(m, "moderntensor_finalize_block_seconds_count") >= height - 1
    assert value(m, "moderntensor_commit_seconds_count") >= height - 1
    assert value(m, "moderntensor_app_hash_seconds_sum") > 0
    assert value(m, "moderntensor_block_txs_sum") >= 3
    assert value(m, "moderntensor_validators") == 1
    assert value(m, "moderntensor_bonded_tokens") > 0
    assert value(m, "moderntensor_jailed_validators") == 0
    assert value(m, "moderntensor_subnet_neurons", netuid="1") == 1
    assert value(m, "moderntensor_state_keys") > 10
    assert value(m, "moderntensor_state_bytes") > value(m, "moderntensor_state_keys")
