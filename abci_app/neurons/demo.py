"""``moderntensor subnet demo``: a subnet that scores real models, end to end, on a running node.

Against ``make run``'s node (its ``dev`` key pays): registers a subnet with a short tempo, funds
and registers a validator and three miners of different quality (``digits`` with knn, a
depth-4 tree and a constant answer), stakes the validator, starts the four neurons as
``moderntensor neuron …`` processes, waits until the chain has paid incentive for a few
epochs, measures each miner's accuracy through its axon, prints the metagraph and writes a PNG
chart of accuracy against incentive. Every process it started is stopped at the end, also on
Ctrl-C or an error.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..client.chain import Chain
from ..client.keyring import Key
from ..client.rpc import CommittedTx
from ..client.types import Metagraph
from ..modules.bank.messages import MsgTransfer
from ..modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgSetSubnetHyperparams,
)
from ..node.home import NodeHome
from ..params import BASE_UNITS_PER_MDT
from .dendrite import Dendrite
from .keys import load_hotkey, load_or_create_dev_hotkey
from .metagraph import axon_of
from .tasks.base import Task
from .weights import event_attrs

MDT = BASE_UNITS_PER_MDT
DEV_KEY = "dev"
VALIDATOR_KEY = "demo-validator"
VALIDATOR_STAKE = 1_000 * MDT


@dataclass(frozen=True)
class DemoMiner:
    """A miner of the demo: its key name, the digits model it serves, its role's name."""

    key: str
    model: str
    role: str


MINERS = (
    DemoMiner("demo-miner-good", "knn", "good"),
    DemoMiner("demo-miner-weak", "tree", "weak"),
    DemoMiner("demo-miner-constant", "constant", "constant"),
)


class DemoError(Exception):
    """The demo cannot go on (no dev key, the chain refused a step, no incentive in time)."""


class Processes:
    """The child processes the demo started; :meth:`stop` ends exactly those."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._files: list[IO[bytes]] = []

    def start(self, name: str, args: list[str]) -> None:
        """Start ``python -m abci_app ARGS`` in its own session, output to ``<name>.log``."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed by stop()
        self._files.append(log)
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "abci_app", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the demo only; it stops them itself
        )

    def dead(self) -> list[str]:
        """Names of started processes that have exited."""
        return [n for n, p in self.procs.items() if p.poll() is not None]

    def stop(self) -> int:
        """SIGTERM each, SIGKILL after 10 s; the number of processes that were running."""
        running = [p for p in self.procs.values() if p.poll() is None]
        for p in running:
            p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in running:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(5)
        for f in self._files:
            f.close()
        return len(running)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_subnet(
    chain: Chain,
    dev: Key,
    validator: Key,
    miners: list[Key],
    tempo: int,
    say: Callable[[str], None],
) -> int:
    """Register and configure the subnet, fund and register the neurons; the netuid."""

    def send(key: Key, msgs: list[Any]) -> CommittedTx:
        return chain.send(key, msgs, timeout=60)

    funding = [MsgTransfer(validator.address_bytes, VALIDATOR_STAKE + 200 * MDT)]
    funding += [MsgTransfer(m.address_bytes, 200 * MDT) for m in miners]
    send(dev, funding)
    # a registration burns at most the max_cost it signed: the price shown is the one paid
    lock = int(chain.query("/params/subnets")["lock_cost"])
    say(f"registering a subnet: the lock cost is {lock / MDT:,.9f} MDT (burned)")
    done = send(dev, [MsgRegisterSubnet(max_cost=lock)])
    netuid = int(event_attrs(done, "register_subnet")["netuid"])
    say(f"subnet {netuid} registered by dev")
    names = ("tempo", "weights_rate_limit")
    send(dev, [MsgSetSubnetHyperparams(netuid, names, (tempo, tempo))])
    for key in [validator, *miners]:  # one at a time: a subnet takes one registration a block
        burn = int(chain.query(f"/subnet/{netuid}")["burn"])
        done = send(key, [MsgRegisterNeuron(netuid, max_cost=burn)])
        uid = event_attrs(done, "register_neuron")["uid"]
        say(f"  {key.name}: uid {uid} ({burn / MDT:,.9f} MDT burned)")
    send(validator, [MsgAddSubnetStake(netuid, validator.address_bytes, VALIDATOR_STAKE)])
    say(f"  {VALIDATOR_KEY} staked {VALIDATOR_STAKE // MDT:,} MDT on itself")
    return netuid


async def measure_accuracy(
    validator: Key, task: Task, mg: Metagraph, hotkeys: dict[str, str], samples: int
) -> dict[str, float]:
    """Each miner's accuracy on ``samples`` held-out inputs, asked through its axon."""
    import random

    challenge = task.challenge(random.Random(20260), samples)
    out = {}
    async with Dendrite(validator, timeout=10) as d:
        for n in mg.neurons:
            axon = axon_of(n)
            if n.hotkey in hotkeys and axon is not None:
                ans = await d.forward(axon, mg.netuid, task.name, challenge.inputs)
                out[hotkeys[n.hotkey]] = task.score(challenge, ans.outputs) if ans.ok else 0.0
    return out


def write_chart(path: Path, rows: list[dict[str, Any]], netuid: int) -> None:
    """Grouped bars per miner: accuracy and share of incentive (both in %)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['role']}\n({r['model']}, uid {r['uid']})" for r in rows]
    acc = [100 * r["accuracy"] for r in rows]
    inc = [100 * r["incentive"] for r in rows]
    xs = range(len(rows))
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.bar([x - 0.2 for x in xs], acc, 0.4, label="accuracy (held-out digits)", color="#4c72b0")
    ax.bar([x + 0.2 for x in xs], inc, 0.4, label="share of miner incentive", color="#dd8452")
    for x, a, i in zip(xs, acc, inc, strict=True):
        ax.text(x - 0.2, a + 1, f"{a:.0f}%", ha="center", fontsize=8)
        ax.text(x + 0.2, i + 1, f"{i:.0f}%", ha="center", fontsize=8)
    ax.set_xticks(list(xs), labels)
    ax.set_ylim(0, 110)
    ax.set_ylabel("%")
    ax.set_title(f"subnet {netuid}: the chain pays the better model more")
    ax.legend(loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_demo(
    home: Path,
    node: str,
    task: Task,
    epochs: int,
    tempo: int,
    png: Path,
    max_seconds: float,
    say: Callable[[str], None],
    passphrase_file: Path | None = None,
) -> dict[str, Any]:
    """The whole demo (see the module docstring); a JSON-ready summary. Raises DemoError, the
    keyring's errors (the ``dev`` key is unlocked with ``passphrase_file`` if it is sealed) and
    the SDK's."""
    if not (NodeHome(home).keyring / f"{DEV_KEY}.json").exists():
        raise DemoError(f"no '{DEV_KEY}' key in {home} (start the chain with `make run`)")
    dev = load_hotkey(home, DEV_KEY, passphrase_file)
    validator = load_or_create_dev_hotkey(home, VALIDATOR_KEY)
    miners = [load_or_create_dev_hotkey(home, m.key) for m in MINERS]
    role = {k.address: m for k, m in zip(miners, MINERS, strict=True)}
    procs = Processes(NodeHome(home).logs / "demo")
    with Chain(node, timeout=10) as chain:
        netuid = setup_subnet(chain, dev, validator, miners, tempo, say)
        base = ["--home", str(home), "--node", node, "neuron"]
        try:
            for key, m in zip(miners, MINERS, strict=True):
                port = _free_port()
                args = ["miner", "--netuid", str(netuid), "--from", key.name, "--model", m.model]
                procs.start(m.key, [*base, *args, "--port", str(port)])
            procs.start(
                VALIDATOR_KEY,
                [
                    *base,
                    "validator",
                    "--netuid",
                    str(netuid),
                    "--from",
                    VALIDATOR_KEY,
                    "--round-seconds",
                    "2",
                    "--timeout",
                    "3",
                    "--sample-size",
                    "32",
                    "--full-sync-every",
                    "5",
                    "--state-dir",
                    str(NodeHome(home).root / "neurons" / f"demo-{netuid}"),
                ],
            )
            say(f"started 3 miners and a validator (logs in {procs.logs})")
            mg = _wait_for_incentive(chain, netuid, epochs, max_seconds, procs, role, say)
            hotkeys = {k.address: m.role for k, m in zip(miners, MINERS, strict=True)}
            accuracy = asyncio.run(measure_accuracy(validator, task, mg, hotkeys, 256))
        finally:
            stopped = procs.stop()
            say(f"stopped the {stopped} neuron processes the demo started")
    total = sum(n.incentive for n in mg.neurons) or 1
    rows = [
        {
            "role": role[n.hotkey].role,
            "model": role[n.hotkey].model,
            "uid": n.uid,
            "hotkey": n.hotkey,
            "accuracy": accuracy.get(role[n.hotkey].role, 0.0),
            "incentive": n.incentive / total,
            "emission": n.emission,
        }
        for n in mg.neurons
        if n.hotkey in role
    ]
    write_chart(png, rows, netuid)
    return {"netuid": netuid, "height": mg.height, "miners": rows, "chart": str(png)}


def _wait_for_incentive(
    chain: Chain,
    netuid: int,
    epochs: int,
    max_seconds: float,
    procs: Processes,
    role: dict[str, DemoMiner],
    say: Callable[[str], None],
) -> Metagraph:
    """Follow epochs until ``epochs`` of them paid miners incentive; the last metagraph."""
    deadline = time.monotonic() + max_seconds
    seen_epochs = int(chain.query(f"/subnet/{netuid}")["epochs"])
    paid = 0
    while time.monotonic() < deadline:
        dead = procs.dead()
        if dead:
            raise DemoError(f"{', '.join(dead)} exited early: see {procs.logs}")
        subnet = chain.query(f"/subnet/{netuid}")
        if int(subnet["epochs"]) > seen_epochs:
            seen_epochs = int(subnet["epochs"])
            mg = chain.metagraph(netuid)
            shares = {role[n.hotkey].role: n.incentive for n in mg.neurons if n.hotkey in role}
            total = sum(shares.values())
            if total:
                paid += 1
                text = ", ".join(f"{r} {100 * v / total:.0f}%" for r, v in shares.items())
                say(f"epoch at height {subnet['last_epoch']}: miner incentive {text}")
            else:
                say(f"epoch at height {subnet['last_epoch']}: no weights revealed yet")
            if paid >= epochs:
                return mg
        time.sleep(1.0)
    raise DemoError(
        f"no incentive after {max_seconds:.0f}s: see the validator's log in {procs.logs}"
    )


def metagraph_table(summary: dict[str, Any]) -> str:
    """The demo's result as a text table."""
    head = f"{'uid':>4}  {'miner':9} {'model':9} {'accuracy':>8} {'incentive':>9}  hotkey"
    rows = [
        f"{r['uid']:>4}  {r['role']:9} {r['model']:9} {100 * r['accuracy']:>7.1f}% "
        f"{100 * r['incentive']:>8.1f}%  {r['hotkey']}"
        for r in summary["miners"]
    ]
    return "\n".join([f"subnet {summary['netuid']} at height {summary['height']}", head, *rows])
