"""The monitoring stack against a live localnet: a real Prometheus (Debian's, unpacked by
`make test`) loads the generated prometheus.yml and alert rules, scrapes every node's cometbft
and app endpoints, and every PromQL query of the Grafana dashboards and of the alert rules
returns data. A subnet with a short tempo runs epochs so the subnet panels have data too."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import REPO, free_base, free_ports, height, wait_until

from abci_app.client.chain import Chain
from abci_app.client.keyring import Keyring
from abci_app.client.rpc import RPCClient
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
)
from abci_app.node.localnet import (
    LocalnetPlan,
    all_nodes,
    init_localnet,
    start_localnet,
    stop_localnet,
)
from abci_app.node.monitoring import ALERT_RULES
from abci_app.tx import Message

sys.path.insert(0, str(REPO / "scripts"))
from make_dashboards import DASHBOARDS, queries

pytestmark = pytest.mark.e2e
DASHBOARD_DIR = REPO / "deploy" / "grafana" / "dashboards"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("mon") / "ln"
    plan = LocalnetPlan(validators=4, seed=False, base_port=free_base(5), timeout_commit="300ms")
    init_localnet(root, plan)
    try:
        start_localnet(root)
        wait_until(lambda: height(all_nodes(root)[0]) >= 2, 120, "first blocks")
        yield root
    finally:
        stop_localnet(root)


@pytest.fixture(scope="module")
def prometheus(net: Path, prometheus_bin: Path) -> Iterator[str]:
    (port,) = free_ports(1)
    log = open(net / "prometheus.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [
            str(prometheus_bin),
            f"--config.file={net / 'prometheus.yml'}",
            f"--storage.tsdb.path={net / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/-/ready", timeout=2).status_code == 200, 60, "prom")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def send(url: str, key: Any, msgs: list[Message]) -> None:
    """Send with the exact fee the node quotes (the SDK's default) and wait for the block."""
    with Chain(url, timeout=10) as chain:
        chain.send(key, msgs, timeout=30)


def has_permit(url: str, uid: int) -> bool:
    with RPCClient(url, timeout=10) as c:
        return bool(c.abci_query("/subnet/1/metagraph").json()["neurons"][uid]["validator_permit"])


def query(prom: str, expr: str) -> list[dict[str, Any]]:
    res = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert res["status"] == "success", (expr, res)
    return list(res["data"]["result"])


def test_dashboards_are_what_the_generator_writes() -> None:
    """The committed JSON is exactly what grafanalib renders from scripts/make_dashboards.py."""
    from make_dashboards import render

    for name, make in DASHBOARDS.items():
        assert (DASHBOARD_DIR / name).read_text() == render(make), name
        doc = json.loads((DASHBOARD_DIR / name).read_text())
        ids = [p["id"] for p in doc["panels"]]
        assert len(ids) == len(set(ids)) and doc["uid"].startswith("mt-")
        assert all(p["datasource"]["uid"] == "prometheus" for p in doc["panels"])


def test_alert_rules_pass_promtool(net: Path, prometheus_bin: Path) -> None:
    promtool = prometheus_bin.with_name("promtool")
    res = subprocess.run(
        [str(promtool), "check", "rules", str(net / "alerts.yml")], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"SUCCESS: {len(ALERT_RULES)} rules found" in res.stdout


def test_every_target_is_up_and_every_query_returns_data(net: Path, prometheus: str) -> None:
    nodes = all_nodes(net)
    url = nodes[0].rpc_url
    dev = Keyring(net / "keyring").get("dev")
    miner = Keyring(net / "keyring").add("miner")
    send(url, dev, [MsgTransfer(miner.address_bytes, 10**12)])
    names = ("tempo", "commit_reveal", "weights_rate_limit")
    send(
        url, dev, [MsgRegisterSubnet(max_cost=10**13), MsgSetSubnetHyperparams(1, names, (4, 0, 0))]
    )
    send(url, dev, [MsgRegisterNeuron(1, 10**11)])
    send(url, miner, [MsgRegisterNeuron(1, 10**11)])
    send(url, dev, [MsgAddSubnetStake(1, dev.address_bytes, 10**12)])
    # the first epoch after the stake starts its stake floor, the second grants the permit
    wait_until(lambda: has_permit(url, 0), 90, "the validator permit of an epoch", poll=1)
    send(url, dev, [MsgSetWeights(1, (1,), (1,))])

    def targets_up() -> bool:
        res = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]
        active = res["activeTargets"]
        return len(active) == 2 * len(nodes) and all(t["health"] == "up" for t in active)

    wait_until(targets_up, 60, "every cometbft and app target up", poll=1)
    jobs = {
        (t["labels"]["job"], t["labels"]["node"])
        for t in httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"][
            "activeTargets"
        ]
    }
    assert jobs == {(j, n.name) for j in ("cometbft", "app") for n in nodes}

    exprs = [e for n in DASHBOARDS for e in queries(json.loads((DASHBOARD_DIR / n).read_text()))]
    # (rules on the validator neuron's metrics are checked where a validator runs:
    # tests/integration/test_neurons_node.py)
    exprs += [r.expr for r in ALERT_RULES if 'job="neuron"' not in r.expr]
    assert len(exprs) > 25
    missing: list[str] = list(exprs)

    def all_have_data() -> bool:
        missing[:] = [e for e in missing if not query(prometheus, e)]
        return not missing

    try:
        wait_until(all_have_data, 150, "data for every dashboard and alert query", poll=3)
    except TimeoutError:
        pytest.fail(f"queries without data: {missing}")
    # the rules loaded and evaluate without errors; nothing critical fires on a healthy net
    groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert {r["name"] for r in rules} == {r.name for r in ALERT_RULES}
    assert all(r["health"] == "ok" for r in rules), [r for r in rules if r["health"] != "ok"]
    firing = {a["labels"]["alertname"] for a in query(prometheus, "ALERTS")}
    assert not firing & {"ChainHalted", "AppHashMismatch"}, firing
