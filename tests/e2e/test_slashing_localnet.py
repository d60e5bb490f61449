"""Slashing on a live 5-validator localnet with short windows: a validator stopped for longer
than the window is jailed, slashed and removed, then rejoins with unjail through the CLI; a
validator whose key signed two different prevotes at one height (evidence verified by CometBFT,
see tests/forge.py) is slashed 5% of its power at the infraction (a delegator hopping its stake
away after the infraction is refused and still slashed; one delegating after it pays less),
tombstoned and removed. The chain never stops and app hashes agree."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from forge import submit_double_sign
from harness import free_base, height, run_cli, wait_until

from abci_app.client.keyring import Keyring
from abci_app.client.rpc import RPCClient
from abci_app.node.doctor import check_validator
from abci_app.node.genesis_file import read_pv_pubkey
from abci_app.node.localnet import (
    LocalnetPlan,
    NodePlan,
    _read_pids,
    all_nodes,
    init_localnet,
    localnet_status,
    start_localnet,
    stop_localnet,
)

pytestmark = pytest.mark.e2e

SLASHING = {
    "signed_blocks_window": 20,
    "min_signed_per_window": 500_000_000,
    "downtime_jail_seconds": 5,
    "slash_fraction_downtime": 10_000_000,
}


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("slash") / "ln"
    plan = LocalnetPlan(validators=5, seed=True, base_port=free_base(9), timeout_commit="300ms")
    init_localnet(root, plan)
    genesis = json.loads((root / "genesis.json").read_text())
    genesis["app_state"]["slashing"] = {"params": SLASHING}
    for n in all_nodes(root):
        (root / n.name / "cometbft/config/genesis.json").write_text(json.dumps(genesis))
    (root / "genesis.json").write_text(json.dumps(genesis))
    try:
        start_localnet(root)
        wait_until(lambda: height(all_nodes(root)[0]) >= 3, 120, "first blocks")
        yield root
    finally:
        stop_localnet(root)


def node(root: Path, name: str) -> NodePlan:
    return next(n for n in all_nodes(root) if n.name == name)


def key_of(root: Path, name: str) -> str:
    path = root / name / "cometbft/config/priv_validator_key.json"
    return base64.b64encode(read_pv_pubkey(path)).decode()


def comet_set(url: str) -> dict[str, int]:
    with RPCClient(url, timeout=10) as c:
        res = c.call("validators", per_page="100")
    return {v["pub_key"]["value"]: int(v["voting_power"]) for v in res["validators"]}


def query(url: str, path: str) -> dict:  # type: ignore[type-arg]
    with RPCClient(url, timeout=10) as c:
        res = c.abci_query(path)
        assert res.code == 0, res.log
        return res.json()  # type: ignore[no-any-return]


def test_downtime_jails_slashes_and_unjail_brings_it_back(net: Path) -> None:
    n0, n3 = node(net, "node0"), node(net, "node3")
    op = Keyring(net / "node3" / "keyring").get("validator").address
    for pid in _read_pids(net)["node3"].values():
        os.kill(pid, signal.SIGKILL)
    stop_localnet(net, ["node3"])
    wait_until(lambda: query(n0.rpc_url, f"/validator/{op}")["jailed"], 120, "node3 jailed")
    v = query(n0.rpc_url, f"/validator/{op}")
    assert v["tokens"] == str(10_000 * 10**9 - 10_000 * 10**9 // 100)  # 1% burned
    with RPCClient(n0.rpc_url, timeout=10) as c:  # doctor explains it, with what to do
        jailed = check_validator(c, op)
    assert jailed[0].status == "fail" and "jailed" in jailed[0].detail, jailed
    assert "unjail" in jailed[0].hint
    wait_until(
        lambda: key_of(net, "node3") not in comet_set(n0.rpc_url),
        30,
        "node3 removed from CometBFT's set",
    )
    h = height(n0)
    wait_until(lambda: height(n0) >= h + 3, 60, "the chain to keep going")
    start_localnet(net, ["node3"])
    wait_until(lambda: height(n3) >= height(n0) - 1, 120, "node3 to catch up")
    res = run_cli(
        net / "node3",
        "-o",
        "json",
        "tx",
        "staking",
        "unjail",
        "--from",
        "validator",
        node=n3.rpc_url,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    wait_until(
        lambda: comet_set(n0.rpc_url).get(key_of(net, "node3")) == 9_900,
        30,
        "node3 back in the set with its slashed power",
    )
    with RPCClient(n0.rpc_url, timeout=10) as c:
        assert check_validator(c, op)[0].status == "ok"
    assert localnet_status(net)["app_hashes_agree"] is True


def cli(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(root, "-o", "json", *args, node=url, timeout=120)


def delegation(url: str, delegator: str, validator: str) -> int:
    rows = query(url, f"/delegations/{delegator}")["delegations"]
    return sum(int(r["tokens"]) for r in rows if r["validator"] == validator)  # type: ignore[union-attr]


def test_double_signing_is_slashed_at_infraction_power_tombstoned_and_removed(net: Path) -> None:
    """A delegator of the double signer cannot hop its stake out (Cosmos: no transitive
    redelegation), a delegation made after the infraction does not pay 5% of itself, and the
    validator loses 5% of its power at the infraction: all driven through the CLI."""
    n0 = node(net, "node0")
    op = Keyring(net / "node2" / "keyring").get("validator").address
    hop = Keyring(net / "node1" / "keyring").get("validator").address
    last = Keyring(net / "node0" / "keyring").get("validator").address
    dev = Keyring(net / "keyring").get("dev").address
    faucet = Keyring(net / "keyring").get("faucet").address
    res = cli(
        net,
        n0.rpc_url,
        "tx",
        "staking",
        "delegate",
        "--from",
        "dev",
        "--validator",
        op,
        "--amount",
        "100mdt",
    )
    assert res.returncode == 0, res.stderr
    h = height(n0)
    wait_until(lambda: height(n0) >= h + 3, 60, "the delegation to reach CometBFT's power")
    with RPCClient(n0.rpc_url, timeout=10) as c:
        infraction = c.latest_height() - 1
        at = c.call("validators", height=str(infraction), per_page="100")["validators"]
    power = next(
        int(v["voting_power"]) for v in at if v["pub_key"]["value"] == key_of(net, "node2")
    )
    assert power == 10_100  # its 10,000 MDT self-bond and dev's 100 MDT
    # after the infraction: dev hops node2 -> node1 (allowed), then node1 -> node0 (refused)
    res = cli(
        net,
        n0.rpc_url,
        "tx",
        "staking",
        "redelegate",
        "--from",
        "dev",
        "--src",
        op,
        "--dst",
        hop,
        "--amount",
        "100mdt",
    )
    assert res.returncode == 0, res.stderr
    res = cli(
        net,
        n0.rpc_url,
        "tx",
        "staking",
        "redelegate",
        "--from",
        "dev",
        "--src",
        hop,
        "--dst",
        last,
        "--amount",
        "100mdt",
    )
    assert res.returncode == 1 and "code 119" in res.stderr and "hint:" in res.stderr, res.stderr
    res = cli(
        net,
        n0.rpc_url,
        "tx",
        "staking",
        "delegate",
        "--from",
        "faucet",
        "--validator",
        op,
        "--amount",
        "1000mdt",
    )
    assert res.returncode == 0, res.stderr
    tokens = int(query(n0.rpc_url, f"/validator/{op}")["tokens"])
    assert tokens == 11_000 * 10**9
    with RPCClient(n0.rpc_url, timeout=10) as c:
        res_ev = submit_double_sign(
            c, net / "node2/cometbft/config/priv_validator_key.json", infraction
        )
    assert res_ev["hash"]
    wait_until(
        lambda: query(n0.rpc_url, f"/signing_info/{op}")["tombstoned"],
        60,
        "the evidence to be committed",
    )
    v = query(n0.rpc_url, f"/validator/{op}")
    assert v["jailed"] is True
    slashed = power * 10**9 * 5 // 100  # 505 MDT: 5% of its power at the infraction ...
    hopped = 100 * 10**9 * 5 // 100  # ... of which dev's redelegated 100 MDT pays 5 MDT
    assert int(v["tokens"]) == tokens - (slashed - hopped)
    assert delegation(n0.rpc_url, dev, hop) == 95 * 10**9
    # the late delegator shares the validator's part, not 5% of its own 1,000 MDT
    assert delegation(n0.rpc_url, faucet, op) > 950 * 10**9
    wait_until(
        lambda: key_of(net, "node2") not in comet_set(n0.rpc_url),
        30,
        "node2 removed from CometBFT's set",
    )
    h = height(n0)
    wait_until(lambda: height(n0) >= h + 3, 60, "the chain to keep going")
    res2 = run_cli(
        net / "node2",
        "-o",
        "json",
        "tx",
        "staking",
        "unjail",
        "--from",
        "validator",
        node=n0.rpc_url,
        timeout=120,
    )
    assert res2.returncode == 1 and "code 118" in res2.stderr
    # slash and jail are block events: indexed for block_search and subscriptions
    with RPCClient(n0.rpc_url, timeout=10) as c:
        found = c.call("block_search", query="slash.reason='duplicate_vote'")
        assert int(found["total_count"]) == 1
        found = c.call("block_search", query=f"jail.validator='{op}'")
        assert int(found["total_count"]) >= 1
    assert localnet_status(net)["app_hashes_agree"] is True
