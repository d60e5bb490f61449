"""Neurons on a real node (one shared cometbft + app for the module).

First ``moderntensor subnet demo`` runs against the node as a user would after ``make run``.
Then a second subnet with one validator and six miners: good (knn), weak (a small tree) and
constant-answer, as ``moderntensor neuron miner`` processes, plus three hostile miners served
from this test process: one that copies the good miner's answers (asking it first), one that
hangs and one that answers garbage. Checked: incentive follows accuracy after two paid epochs,
the copier earns no more than the original, hanging and garbage miners earn nothing; requests
from a non-validator, a replayed nonce and a stale timestamp are refused by a real miner; the
validator keeps setting weights across a node restart and reveals, after a kill -9 and restart,
the commit it had persisted, though its state folder was damaged and edited meanwhile; a real
Prometheus with the committed deploy/prometheus.yml (the validator named in a
``neurons/*.json`` file) evaluates the "validator stopped setting weights" alert rule on the
validator's metrics.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import REPO, LocalNode, free_ports, run_cli, seeded_key, wait_until

from abci_app.client.chain import Chain
from abci_app.client.keyring import Key, Keyring
from abci_app.errors import NotAValidator, ReplayedNonce, StaleRequest
from abci_app.modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgSetSubnetHyperparams,
)
from abci_app.neurons.dendrite import Dendrite
from abci_app.neurons.metagraph import AxonInfo
from abci_app.neurons.miner import Miner, MinerConfig
from abci_app.neurons.tasks.digits import DigitsTask
from abci_app.neurons.weights import event_attrs
from abci_app.node.deploy_files import alerts_text
from abci_app.node.monitoring import ALERT_RULES

pytestmark = pytest.mark.integration

TEMPO = 15
RATE_LIMIT = 5
NAMES = ["owner", "val", "good", "weak", "constant", "copier", "hanging", "garbage", "stranger"]
KEYS = {name: Key(name, seeded_key(600 + i)) for i, name in enumerate(NAMES)}
CLI_MINERS = {"good": "knn", "weak": "tree", "constant": "constant"}
MDT = 10**9


# --- the shared node -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[LocalNode]:
    root = tmp_path_factory.mktemp("neurons") / "node"
    accounts = [(k.address_bytes, 10**14) for k in KEYS.values()]
    n = LocalNode(root, accounts=accounts, timeout_commit="300ms")
    n.init()
    keyring = Keyring(n.home.keyring)
    for name, key in KEYS.items():
        keyring.add(name, bytes(key.signing_key))
    try:
        yield n.start(min_height=2)
    finally:
        n.stop()


def neuron_processes(home: Path) -> list[int]:
    """Pids of ``moderntensor neuron …`` processes working on this node home (from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"neuron" in cmd and str(home).encode() in cmd:
            pids.append(int(entry.name))
    return pids


def test_subnet_demo_pays_the_better_model_more(node: LocalNode, tmp_path: Path) -> None:
    png = tmp_path / "demo.png"
    res = run_cli(
        node.root,
        "-o",
        "json",
        "subnet",
        "demo",
        "--epochs",
        "1",
        "--png",
        str(png),
        "--max-seconds",
        "150",
        node=node.rpc_url,
        timeout=240,
    )
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    summary = json.loads(res.stdout)
    by_role = {m["role"]: m for m in summary["miners"]}
    assert set(by_role) == {"good", "weak", "constant"}
    good, weak, const = by_role["good"], by_role["weak"], by_role["constant"]
    assert good["accuracy"] > weak["accuracy"] > const["accuracy"]
    assert good["incentive"] > weak["incentive"] > const["incentive"]
    assert abs(sum(m["incentive"] for m in summary["miners"]) - 1.0) < 1e-9
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert neuron_processes(node.root) == []  # every process it started is gone
    # the text form prints the metagraph table and names the chart
    with Chain(node.rpc_url) as chain:
        mg = chain.metagraph(summary["netuid"])
    assert {n.hotkey for n in mg.neurons} >= {m["hotkey"] for m in summary["miners"]}


# --- the e2e subnet ----------------------------------------------------------------------------
class Hostile:
    """The hostile miners, served from an event loop in a thread of this test process."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stop = asyncio.Event()
        self.runs: list[Future[None]] = []
        self.miners: dict[str, Miner] = {}

    def start(self, name: str, miner: Miner) -> None:
        self.miners[name] = miner
        self.runs.append(asyncio.run_coroutine_threadsafe(miner.run(self.stop), self.loop))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        try:
            for name, f in zip(self.miners, self.runs, strict=True):
                try:
                    f.result(timeout=15)
                except TimeoutError:
                    raise AssertionError(f"the {name} miner did not stop within 15 s") from None
        finally:
            for f in self.runs:
                f.cancel()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


class Subnet:
    def __init__(self, node: LocalNode, root: Path) -> None:
        self.node = node
        self.root = root
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}
        self.netuid = 0
        self.uid: dict[str, int] = {}
        self.state_dir = root / "validator-state"
        self.metrics_port = free_ports(1)[0]

    def chain(self) -> Chain:
        return Chain(self.node.rpc_url, timeout=10)

    def spawn(self, name: str, *args: str) -> None:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        cmd = [sys.executable, "-m", "abci_app", "--home", str(self.node.root)]
        cmd += ["--node", self.node.rpc_url, "neuron", *args]
        self.procs[name] = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO
        )
        log.close()

    def start_validator(self) -> None:
        self.spawn(
            "validator",
            "validator",
            "--netuid",
            str(self.netuid),
            "--from",
            "val",
            "--round-seconds",
            "1",
            "--timeout",
            "2",
            "--sample-size",
            "32",
            "--full-sync-every",
            "5",
            "--state-dir",
            str(self.state_dir),
            "--metrics-port",
            str(self.metrics_port),
        )

    def kill(self, name: str, sig: int = signal.SIGTERM) -> None:
        p = self.procs[name]
        if p.poll() is None:
            os.kill(p.pid, sig)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(5)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def metagraph(self) -> dict[str, Any]:
        with self.chain() as c:
            return {n.hotkey: n for n in c.metagraph(self.netuid).neurons}

    def samples(self) -> list[tuple[str, dict[str, str], float]]:
        """The validator's metrics endpoint as (name, labels, value)."""
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        out = []
        for line in text.splitlines():
            m = re.match(r"^(moderntensor_validator_\w+)(?:\{([^}]*)\})? (\S+)$", line)
            if m:
                labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
                out.append((m.group(1), labels, float(m.group(3))))
        return out

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` whose labels include ``labels`` (netuid implied)."""
        want = {"netuid": str(self.netuid), **labels}
        return sum(
            v
            for n, got, v in self.samples()
            if n == name and all(got.get(k) == x for k, x in want.items())
        )


COPIER_RTT = 0.02
"""The copier's round trip to the original, in seconds: a copier elsewhere on the network (20
ms, a same-region RTT). On loopback the hop costs well under a millisecond, less than the
scheduling noise of a loaded 2-core machine, so without it the copier and the original would
tie within noise, round by round (a tie also gains the copier nothing, but cannot be asserted
as "lower")."""


def copier_model(good: AxonInfo, netuid: int) -> Any:
    """A miner that answers by asking the good miner first (with its own signed request)."""
    dendrite: list[Dendrite] = []

    async def copy(inputs: list[Any]) -> list[Any]:
        if not dendrite:
            dendrite.append(Dendrite(KEYS["copier"], timeout=3))
        await asyncio.sleep(COPIER_RTT / 2)  # to the original...
        ans = await dendrite[0].forward(good, netuid, "digits", inputs)
        await asyncio.sleep(COPIER_RTT / 2)  # ...and back
        return list(ans.outputs) if ans.ok else []

    return copy


async def hang(inputs: list[Any]) -> list[Any]:
    await asyncio.sleep(3600)
    return inputs


def garbage(inputs: list[Any]) -> Any:
    return {"labels": "seven"}


@pytest.fixture(scope="module")
def subnet(node: LocalNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Subnet]:
    net = Subnet(node, tmp_path_factory.mktemp("e2e-subnet"))
    hostile = Hostile()
    try:
        with net.chain() as c:
            done = c.send(KEYS["owner"], [MsgRegisterSubnet(max_cost=10**14)])
            net.netuid = int(event_attrs(done, "register_subnet")["netuid"])
            # a rate limit below the tempo: one commit per window, made early in it; 7
            # registrations in one interval (the default allows 3 x 2)
            names = ("tempo", "weights_rate_limit", "target_registrations_per_interval")
            hp = MsgSetSubnetHyperparams(net.netuid, names, (TEMPO, RATE_LIMIT, 4))
            c.send(KEYS["owner"], [hp])
            for name in ["val", *CLI_MINERS, "copier", "hanging", "garbage"]:
                done = c.send(KEYS[name], [MsgRegisterNeuron(net.netuid, max_cost=10**14)])
                net.uid[name] = int(event_attrs(done, "register_neuron")["uid"])
            val, copier = KEYS["val"], KEYS["copier"]
            c.send(val, [MsgAddSubnetStake(net.netuid, val.address_bytes, 1000 * MDT)])
            # the copier holds a little stake: a validator permit lets it ask the good miner
            c.send(copier, [MsgAddSubnetStake(net.netuid, copier.address_bytes, MDT)])
        ports = free_ports(3)
        for (name, model), port in zip(CLI_MINERS.items(), ports, strict=True):
            net.ports[name] = port
            net.spawn(
                name,
                "miner",
                "--netuid",
                str(net.netuid),
                "--from",
                name,
                "--model",
                model,
                "--port",
                str(port),
            )
        task = DigitsTask()
        good = AxonInfo(net.uid["good"], KEYS["good"].address, "127.0.0.1", net.ports["good"])
        for name, model in (
            ("copier", copier_model(good, net.netuid)),
            ("hanging", hang),
            ("garbage", garbage),
        ):
            cfg = MinerConfig(net.netuid, port=0, full_sync_every=3, forward_timeout=30)
            hostile.start(name, Miner(node.rpc_url, KEYS[name], task, model, cfg))
        # every miner serving before the validator starts: all get the same number of rounds
        miners = [KEYS[m].address for m in [*CLI_MINERS, "copier", "hanging", "garbage"]]
        wait_until(
            lambda: all(net.metagraph()[m].axon["port"] for m in miners),
            60,
            "every miner's serve_axon",
            poll=0.5,
        )
        net.start_validator()
        yield net
    finally:
        for name in list(net.procs):
            net.kill(name)
        hostile.close()


def wait_paid_epochs(net: Subnet, count: int, timeout: float = 150) -> dict[str, Any]:
    """Wait until ``count`` epochs (after this call) paid the good miner; the metagraph."""
    with net.chain() as c:
        start = int(c.query(f"/subnet/{net.netuid}")["epochs"])
    paid: set[int] = set()

    def check() -> dict[str, Any] | None:
        for name, p in net.procs.items():
            assert p.poll() is None, f"{name} exited:\n{net.log(name)[-3000:]}"
        with net.chain() as c:
            s = c.query(f"/subnet/{net.netuid}")
        mg = net.metagraph()
        if int(s["epochs"]) > start and mg[KEYS["good"].address].incentive > 0:
            paid.add(int(s["epochs"]))
        return mg if len(paid) >= count else None

    return wait_until(check, timeout, f"{count} paid epochs", poll=0.5)  # type: ignore[no-any-return]


def test_incentive_follows_accuracy_and_the_copier_gains_nothing(subnet: Subnet) -> None:
    mg = wait_paid_epochs(subnet, 2)
    inc = {name: mg[KEYS[name].address].incentive for name in NAMES if KEYS[name].address in mg}
    assert inc["good"] > inc["weak"] > inc["constant"] > 0, inc
    assert inc["hanging"] == 0 and inc["garbage"] == 0, inc
    assert inc["copier"] <= inc["good"], inc
    # the validator's own view: the copier's average below the original's, both measured
    scores = json.loads((subnet.state_dir / "scores.json").read_text())
    by_uid = {int(u): s for u, (_, s) in scores.items()}
    assert by_uid[subnet.uid["copier"]] < by_uid[subnet.uid["good"]], by_uid
    assert by_uid[subnet.uid["hanging"]] == by_uid[subnet.uid["garbage"]] == 0.0
    assert subnet.metric("moderntensor_validator_miners_queried") == 6
    reachable = subnet.metric("moderntensor_validator_miners_reachable")
    assert 4 <= reachable <= 5  # hanging never answers; garbage answers (signed) garbage
    assert subnet.metric("moderntensor_validator_weights_txs_total", outcome="ok") >= 2
    assert subnet.metric("moderntensor_validator_permit") == 1
    since = subnet.metric("moderntensor_validator_blocks_since_weights")
    assert 0 <= since <= subnet.metric("moderntensor_validator_weights_interval_blocks")
    assert "Traceback" not in subnet.log("validator")


def test_a_real_miner_refuses_strangers_replays_and_stale_requests(subnet: Subnet) -> None:
    good = AxonInfo(subnet.uid["good"], KEYS["good"].address, "127.0.0.1", subnet.ports["good"])
    inputs = DigitsTask().challenge(__import__("random").Random(1), 4).inputs

    async def go() -> None:
        async with Dendrite(KEYS["stranger"]) as stranger:
            ans = await stranger.forward(good, subnet.netuid, "digits", inputs)
            assert isinstance(ans.error, NotAValidator), ans
        async with Dendrite(KEYS["val"]) as d:
            body = json.dumps({"netuid": subnet.netuid, "task": "digits", "inputs": inputs})
            headers = d.signed(good, body.encode())
            first = await d.post(good, body.encode(), headers)
            assert first.ok and len(first.outputs) == 4, first
            again = await d.post(good, body.encode(), headers)
            assert isinstance(again.error, ReplayedNonce), again
        async with Dendrite(KEYS["val"], clock=lambda: time.time() - 120) as late:
            ans = await late.forward(good, subnet.netuid, "digits", inputs)
            assert isinstance(ans.error, StaleRequest), ans

    asyncio.run(go())


def test_an_unregistered_miner_is_told_to_register(subnet: Subnet) -> None:
    res = run_cli(
        subnet.node.root,
        "neuron",
        "miner",
        "--netuid",
        str(subnet.netuid),
        "--from",
        "stranger",
        "--model",
        "constant",
        "--port",
        "0",
        node=subnet.node.rpc_url,
    )
    assert res.returncode == 1 and "has no uid on subnet" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_the_validator_survives_a_node_restart(subnet: Subnet) -> None:
    node = subnet.node
    failed_before = subnet.metric("moderntensor_validator_rounds_total", outcome="failed")
    node.stop()
    time.sleep(4)  # a few rounds fail while the node is down
    node.start_app()
    node.start_cometbft()
    restart_height = node.wait_height(node.height() + 1, timeout=60)
    val = KEYS["val"].address
    wait_until(
        lambda: subnet.metagraph()[val].last_update > restart_height,
        120,
        "a reveal by the validator after the node restart",
        poll=1,
    )
    assert subnet.procs["validator"].poll() is None
    failed = subnet.metric("moderntensor_validator_rounds_total", outcome="failed")
    assert failed > failed_before  # it noticed the outage and carried on


def test_a_restarted_validator_reveals_the_commit_it_persisted(subnet: Subnet) -> None:
    commits = subnet.state_dir / "commits"

    def fresh_commit() -> dict[str, Any] | None:
        """A persisted commit not revealable yet whose window closes at least 20 blocks from
        now: the kill surely comes before its reveal, and the restarted validator (a few
        seconds of imports) has time to reveal it."""
        height = subnet.node.height()
        for path in sorted(commits.glob("*.json")):
            record: dict[str, Any] = json.loads(path.read_text())
            if record["reveal_from"] >= height + 2 and record["reveal_until"] >= height + 20:
                return {**record, "commit_hash": path.stem}
        return None

    record = wait_until(fresh_commit, 90, "a persisted commit", poll=0.2)
    subnet.kill("validator", signal.SIGKILL)
    with subnet.chain() as c:
        pending = c.query(f"/subnet/{subnet.netuid}/weights/{subnet.uid['val']}")["commit"]
    assert pending is not None and pending["hash"] == record["commit_hash"]
    # while it is down, its state folder is damaged and edited: the commit's reveal window moved
    # far away (before, the validator waited for it and never revealed, nor committed again),
    # an unreadable entry, one whose salt is not hex (before: every later step raised), and
    # scores that do not parse
    saved = commits / f"{record['commit_hash']}.json"
    on_disk = json.loads(saved.read_text())
    saved.write_text(json.dumps({**on_disk, "reveal_from": 10**9, "reveal_until": 10**9 + 9}))
    (commits / f"{'ee' * 32}.json").write_text("{not json")
    (commits / f"{'ef' * 32}.json").write_text(json.dumps({**on_disk, "salt": "zz"}))
    (subnet.state_dir / "scores.json").write_text("[1, 2")
    restarted_at = subnet.node.height()
    # The chain is paused while the validator starts again: on this test's clock (0.3 s blocks,
    # 16-block windows) a restart under a loaded machine's imports can outlast a whole window,
    # which at a real chain's pace (6 s blocks, 361-block windows) it never does.
    comet = subnet.node.procs["cometbft"]
    os.kill(comet.pid, signal.SIGSTOP)
    try:
        subnet.start_validator()
        wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{subnet.metrics_port}/metrics", timeout=1),
            120,
            "the restarted validator's metrics endpoint",
            poll=0.3,
        )
    finally:
        os.kill(comet.pid, signal.SIGCONT)

    # a reveal by the validator inside that commit's window can only reveal that commit (a
    # commit made after the restart is revealed in a later window)
    query = (
        f"reveal_weights.netuid={subnet.netuid} AND reveal_weights.uid={subnet.uid['val']} "
        f"AND tx.height>={record['reveal_from']} AND tx.height<={record['reveal_until']}"
    )

    def revealed() -> bool:
        with subnet.chain() as c:
            return int(c.rpc.call("tx_search", query=query)["total_count"]) == 1

    wait_until(
        lambda: revealed() or subnet.node.height() > record["reveal_until"] + 2,
        120,
        "the end of the persisted commit's reveal window",
        poll=0.5,
    )
    assert revealed(), (
        f"restarted at height {restarted_at}, window {record['reveal_from']}.."
        f"{record['reveal_until']}, now {subnet.node.height()}:\n" + subnet.log("validator")[-4000:]
    )
    assert "using the chain's" in subnet.log("validator")  # the window it revealed in
    # (the validator forgets the entry once its own wait for the reveal's block returns)
    wait_until(lambda: not saved.exists(), 30, "the revealed commit's entry forgotten")
    wait_until(
        lambda: (
            subnet.metric("moderntensor_validator_weights_txs_total", kind="reveal", outcome="ok")
            >= 1
        ),
        30,
        "the restarted validator's reveal counted",
    )


def test_prometheus_evaluates_the_validator_alert(
    subnet: Subnet, prometheus_bin: Path, tmp_path: Path
) -> None:
    # the committed stack as an operator deploys it, plus one file naming this validator
    for name in ("prometheus.yml", "alerts.yml"):
        (tmp_path / name).write_text((REPO / "deploy" / name).read_text())
    assert (REPO / "deploy" / "alerts.yml").read_text() == alerts_text()
    (tmp_path / "neurons").mkdir()
    target = [{"targets": [f"127.0.0.1:{subnet.metrics_port}"]}]
    (tmp_path / "neurons" / "val.json").write_text(json.dumps(target))
    (port,) = free_ports(1)
    log = open(tmp_path / "prometheus.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            str(prometheus_bin),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    rules = [r for r in ALERT_RULES if r.name == "ValidatorNotSettingWeights"]
    assert len(rules) == 1
    try:

        def has_data() -> bool:
            res = httpx.get(f"{url}/api/v1/query", params={"query": rules[0].expr}, timeout=3)
            return bool(res.json()["data"]["result"])

        wait_until(has_data, 60, "data for the ValidatorNotSettingWeights query", poll=1)

        def rule_health() -> str:
            groups = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
            rule = next(r for g in groups for r in g["rules"] if r["name"] == rules[0].name)
            return str(rule["health"])

        wait_until(lambda: rule_health() == "ok", 30, "the rule evaluated without error", poll=1)
        # the neuron job came from the file discovery of the committed config
        active = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        neuron = [t for t in active if t["labels"]["job"] == "neuron"]
        assert [t["scrapeUrl"] for t in neuron] == [
            f"http://127.0.0.1:{subnet.metrics_port}/metrics"
        ]
        value = httpx.get(f"{url}/api/v1/query", params={"query": rules[0].expr}, timeout=3).json()[
            "data"
        ]["result"][0]["value"][1]
        assert float(value) <= 1.0  # a healthy validator: within its expected interval
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
