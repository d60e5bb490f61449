"""Deployment files, checked as far as a machine without Docker allows: they parse, they are what
the generators produce, and they name the same ports, homes, genesis and cometbft version."""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from harness import REPO

from abci_app.node import genesis_file
from abci_app.node.cometbft import COMETBFT_VERSION
from abci_app.node.deploy_files import alerts_text, compose_text, prometheus_text
from abci_app.node.localnet import init_localnet
from abci_app.node.plan import DOCKER_ABCI_SOCKET, DOCKER_PORTS, LocalnetPlan
from abci_app.runtime import check_abci_address

DEPLOY = REPO / "deploy"
PLAN = LocalnetPlan(validators=4)


def test_committed_files_are_the_generators_output() -> None:
    assert (DEPLOY / "compose.yaml").read_text() == compose_text(PLAN)
    assert (DEPLOY / "prometheus.docker.yml").read_text() == prometheus_text(PLAN, docker=True)
    assert (DEPLOY / "prometheus.yml").read_text() == prometheus_text(PLAN, docker=False)
    assert (DEPLOY / "alerts.yml").read_text() == alerts_text()
    loopback = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = {
        t
        for job in loopback["scrape_configs"]
        for c in job.get("static_configs", [])
        for t in c["targets"]
    }
    assert targets == {f"127.0.0.1:{p}" for n in PLAN.nodes() for p in (n.prom, n.app_metrics)}
    assert loopback["rule_files"] == ["alerts.yml"]


def test_compose_publishes_the_localnet_ports() -> None:
    spec = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = spec["services"]
    for n in PLAN.nodes():
        comet = services[f"cometbft{n.index}"]
        assert comet["depends_on"] == [f"app{n.index}"]
        assert set(comet["ports"]) == {
            f"{n.p2p}:{DOCKER_PORTS['p2p']}",
            f"127.0.0.1:{n.rpc}:{DOCKER_PORTS['rpc']}",
            f"127.0.0.1:{n.prom}:{DOCKER_PORTS['prom']}",
        }
        app = services[f"app{n.index}"]
        assert app["volumes"] == comet["volumes"] == [f"./localnet/{n.name}:/data"]
        cmd = app["command"]
        assert cmd[cmd.index("--abci") + 1] == DOCKER_ABCI_SOCKET
        assert cmd[cmd.index("--metrics-host") + 1] == "0.0.0.0"
        assert app["ports"] == [f"127.0.0.1:{n.app_metrics}:{DOCKER_PORTS['app_metrics']}"]
    assert services["app0"]["build"]["dockerfile"] == "deploy/Dockerfile"
    prom = yaml.safe_load((DEPLOY / "prometheus.docker.yml").read_text())
    jobs = {j["job_name"]: j.get("static_configs", []) for j in prom["scrape_configs"]}
    for job, port in (("cometbft", 26660), ("app", 26661)):
        targets = [t for c in jobs[job] for t in c["targets"]]
        assert targets == [f"{job}{n.index}:{port}" for n in PLAN.nodes()]
        assert all(t.split(":")[0] in services for t in targets)
        assert [c["labels"]["node"] for c in jobs[job]] == [n.name for n in PLAN.nodes()]


def test_docker_localnet_homes_match_the_compose_file(tmp_path: Path, cometbft_bin: Path) -> None:
    root = tmp_path / "localnet"
    init_localnet(root, PLAN, docker=True)
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    genesis_texts = set()
    for n in PLAN.nodes():
        home = root / n.name
        assert f"./localnet/{n.name}:/data" in services[f"app{n.index}"]["volumes"]
        cfg = tomllib.loads((home / "cometbft/config/config.toml").read_text())
        assert cfg["proxy_app"] == DOCKER_ABCI_SOCKET  # in the volume the app shares
        assert cfg["rpc"]["laddr"] == f"tcp://0.0.0.0:{DOCKER_PORTS['rpc']}"
        for peer in filter(
            None, cfg["p2p"]["persistent_peers"].split(",") + cfg["p2p"]["seeds"].split(",")
        ):
            host = re.fullmatch(r"[0-9a-f]{40}@(\w+):26656", peer)
            assert host and host.group(1) in services, peer
        genesis_texts.add((home / "cometbft/config/genesis.json").read_text())
    assert len(genesis_texts) == 1
    genesis_file.validate(json.loads(genesis_texts.pop()))


def test_dockerfile_pins_the_same_cometbft_and_copies_existing_paths() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert f"ARG COMETBFT_VERSION=v{COMETBFT_VERSION}" in text
    assert re.search(r"^FROM golang:[\w.-]+ AS cometbft$", text, re.M)
    assert re.search(r"^FROM python:3\.11", text, re.M)
    for src in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for path in src.split():
            assert (REPO / path).exists(), path
    assert 'ENTRYPOINT ["moderntensor", "--home", "/data"]' in text


@pytest.mark.parametrize("unit", ["moderntensor-app.service", "cometbft.service"])
def test_systemd_units_parse(unit: str) -> None:
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.read_string((DEPLOY / "systemd" / unit).read_text())
    assert cp["Service"]["ExecStart"]
    assert cp["Service"]["Restart"] == "always"
    assert cp["Install"]["WantedBy"] == "multi-user.target"
    if unit == "cometbft.service":
        assert "moderntensor-app.service" in cp["Unit"]["Requires"]


def test_abci_is_never_published_or_bound_beyond_loopback(tmp_path: Path) -> None:
    """The ABCI socket has no authentication (whoever reaches it writes the node's state): no
    compose service publishes it, no app is told to listen beyond loopback, the image does not
    EXPOSE it, and every cometbft config template dials it on loopback."""
    abci_port = str(DOCKER_PORTS["abci"])
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    for name, svc in services.items():
        for mapping in svc.get("ports", []):
            assert mapping.rsplit(":", 1)[-1] != abci_port, (name, mapping)
        assert "expose" not in svc and "network_mode" not in svc, name
        cmd = svc.get("command", [])
        if "--abci" in cmd:
            check_abci_address(cmd[cmd.index("--abci") + 1])
    text = (DEPLOY / "Dockerfile").read_text()
    exposed = re.search(r"^EXPOSE (.+)$", text, re.M)
    assert exposed and abci_port not in exposed.group(1).split()
    cmd = json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1))  # type: ignore[union-attr]
    check_abci_address(cmd[cmd.index("--abci") + 1])
    for template in sorted((REPO / "cometbft-config").glob("*.toml")):
        proxy = re.search(r'^proxy_app = "(.+)"$', template.read_text(), re.M)
        assert proxy, template.name
        if proxy.group(1) != "{proxy_app}":  # else filled by the localnet (tested with it)
            check_abci_address(proxy.group(1).format(abci_port=1))
    for unit in (DEPLOY / "systemd").glob("*.service"):
        for addr in re.findall(r"--abci\s+(\S+)", unit.read_text()):
            check_abci_address(addr)


def test_production_template_hardens_rpc_and_explains_each_value() -> None:
    from abci_app.node.cometbft import load_template

    fill = {"abci_port": 1, "rpc_port": 2, "p2p_port": 3, "prometheus_port": 4, "moniker": "m"}
    rpc = {
        key: v
        for section, key, v in load_template("production-validator", fill)
        if section == "rpc"
    }
    assert rpc["laddr"].startswith("tcp://127.0.0.1:")
    assert rpc["unsafe"] is False and rpc["cors_allowed_origins"] == []
    assert rpc["grpc_laddr"] == "" and rpc["pprof_laddr"] == ""
    assert 0 < rpc["max_open_connections"] <= 900 and 0 < rpc["max_subscription_clients"] <= 100
    assert 0 < rpc["max_body_bytes"] < 1_000_000 and 0 < rpc["max_header_bytes"] < 1 << 20
    assert rpc["max_request_batch_size"] > 0
    # each value has its reason: a comment right above it
    lines = (REPO / "cometbft-config/production-validator.toml").read_text().splitlines()
    for key in rpc:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = "))
        assert lines[at - 1].startswith("#"), key
