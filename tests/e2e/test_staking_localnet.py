"""Proof of stake on a live 4-validator localnet: a fifth node becomes a validator through
create_validator and signs blocks; a validator that undelegates everything leaves the set at
H+2; the chain never stops and app hashes agree throughout."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import free_base, height, run_cli, wait_until

from abci_app.client.keyring import Keyring
from abci_app.client.rpc import RPCClient
from abci_app.node.genesis_file import read_pv_pubkey
from abci_app.node.localnet import (
    LocalnetPlan,
    add_full_node,
    all_nodes,
    init_localnet,
    localnet_status,
    start_localnet,
    stop_localnet,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("pos") / "ln"
    plan = LocalnetPlan(validators=4, seed=True, base_port=free_base(8), timeout_commit="300ms")
    init_localnet(root, plan, staking_params={"unbonding_blocks": 20})
    try:
        start_localnet(root)
        wait_until(lambda: height(all_nodes(root)[0]) >= 2, 120, "first blocks")
        yield root
    finally:
        stop_localnet(root)


def mt(home: Path, node_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, "-o", "json", *args, node=node_url, timeout=120)


def comet_validators(url: str, h: int | None = None) -> dict[str, int]:
    """CometBFT's own view: {base64 pub key: voting power} at height ``h`` (latest if None)."""
    with RPCClient(url, timeout=10) as c:
        params = {"per_page": "100"} if h is None else {"height": str(h), "per_page": "100"}
        res = c.call("validators", **params)
    return {v["pub_key"]["value"]: int(v["voting_power"]) for v in res["validators"]}


def test_a_fifth_node_becomes_a_validator_and_signs(net: Path) -> None:
    node0 = all_nodes(net)[0]
    newbie = add_full_node(net, "node4")
    start_localnet(net, ["node4"])
    wait_until(lambda: height(newbie) >= height(node0) - 1, 180, "node4 to sync")
    op = Keyring(net / "node4" / "keyring").add("validator")
    fund = mt(
        net,
        node0.rpc_url,
        "tx",
        "transfer",
        "--from",
        "dev",
        "--to",
        op.address,
        "--amount",
        "30000mdt",
    )
    assert fund.returncode == 0, fund.stderr
    res = mt(
        net / "node4",
        newbie.rpc_url,
        "tx",
        "staking",
        "create-validator",
        "--from",
        "validator",
        "--amount",
        "20000mdt",
        "--moniker",
        "node4",
    )
    assert res.returncode == 0, res.stderr
    h = json.loads(res.stdout)["height"]
    pub = base64.b64encode(read_pv_pubkey(net / "node4/cometbft/config/priv_validator_key.json"))
    key = pub.decode()
    wait_until(lambda: height(node0) >= h + 3, 60, "two more blocks")
    assert key not in comet_validators(node0.rpc_url, h + 1)
    assert comet_validators(node0.rpc_url, h + 2)[key] == 20_000
    # it signs: its address is in a later block's commit signatures
    with RPCClient(node0.rpc_url) as c:
        addr = c.call("validators", height=str(h + 2), per_page="100")["validators"]
        cons = next(v["address"] for v in addr if v["pub_key"]["value"] == key)
        target = h + 4
        wait_until(lambda: height(node0) >= target + 1, 60, "the next blocks")
        sigs = c.call("commit", height=str(target))["signed_header"]["commit"]["signatures"]
    assert cons in [s["validator_address"] for s in sigs]
    with RPCClient(newbie.rpc_url) as c:
        assert int(c.status()["validator_info"]["voting_power"]) == 20_000


def test_undelegating_everything_leaves_the_set_at_h_plus_2(net: Path) -> None:
    node0 = all_nodes(net)[0]
    node3 = next(n for n in all_nodes(net) if n.name == "node3")
    op = Keyring(net / "node3" / "keyring").get("validator")
    key = base64.b64encode(
        read_pv_pubkey(net / "node3/cometbft/config/priv_validator_key.json")
    ).decode()
    assert comet_validators(node0.rpc_url)[key] == 10_000
    res = mt(
        net / "node3",
        node3.rpc_url,
        "tx",
        "staking",
        "undelegate",
        "--from",
        "validator",
        "--validator",
        op.address,
        "--amount",
        "10000mdt",
    )
    assert res.returncode == 0, res.stderr
    h = json.loads(res.stdout)["height"]
    wait_until(lambda: height(node0) >= h + 3, 60, "two more blocks")
    assert comet_validators(node0.rpc_url, h + 1)[key] == 10_000
    assert key not in comet_validators(node0.rpc_url, h + 2)
    unbonding = json.loads(
        mt(net, node0.rpc_url, "query", "staking", "unbonding", op.address).stdout
    )["unbonding"]
    assert [u["amount"] for u in unbonding] == [str(10_000 * 10**9)]
    assert unbonding[0]["completion_height"] == h + 20
    with RPCClient(node0.rpc_url) as c:  # staking events are indexed for tx_search
        found = c.call("tx_search", query=f"unbond.delegator='{op.address}'")
        assert int(found["total_count"]) == 1
        assert int(c.call("tx_search", query="create_validator.amount>0")["total_count"]) >= 1
    # the chain keeps going and every node agrees
    h_now = height(node0)
    wait_until(lambda: height(node0) >= h_now + 3, 60, "more blocks")
    st = localnet_status(net)
    assert st["app_hashes_agree"] is True
    wait_until(lambda: height(node0) >= h + 21, 90, "the unbonding to mature")
    with RPCClient(node0.rpc_url) as c:
        assert c.abci_query(f"/unbonding/{op.address}").json()["unbonding"] == []
        bal = int(c.abci_query(f"/account/{op.address}").json()["balance"])
    assert bal >= 10_000 * 10**9
