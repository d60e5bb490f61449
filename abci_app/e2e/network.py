"""An e2e network: a loopback localnet whose every P2P link goes through a proxy, and the
processes of its nodes (started, killed, paused and stopped only by their tracked pids).

Built with the localnet's own code (``init_localnet``, ``add_full_node``), then each node's
``config.toml`` is rewritten for the run: validators have PEX off and dial each other only
through their links; full nodes dial the validators through their own links (and use the seed
with PEX when the manifest has one); state-syncing full nodes get ``[statesync]`` when they
join. Workload accounts are added to the genesis before any node starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from ..address import address_from_pubkey, to_bech32
from ..client.rpc import NodeUnreachable, RPCClient, RPCError
from ..crashpoints import ENV_VAR
from ..node import genesis_file
from ..node.cometbft import find_cometbft, patch_config
from ..node.home import NodeHome
from ..node.init import node_id
from ..node.localnet import add_full_node, all_nodes, init_localnet, state_sync_settings
from ..node.plan import LocalnetPlan, NodePlan
from ..node.processes import bind_to_parent
from ..node.supervisor import port_in_use, wait_for_port
from ..params import BASE_UNITS_PER_MDT
from .manifest import Manifest
from .proxy import ProxyHub

ACCOUNT_BALANCE = 100_000 * BASE_UNITS_PER_MDT
STAKING_PARAMS = {"unbonding_blocks": 20}
SNAPSHOT_KEEP = 4
APP_DEATH_SIGNAL = signal.SIGTERM
"""What an app gets if the runner dies (as under ``node start``): it stops cleanly."""
COMETBFT_DEATH_SIGNAL = signal.SIGKILL
"""What cometbft gets if the runner dies: SIGKILL, its graceful stop can hang."""


def workload_key(seed: int, i: int) -> SigningKey:
    """Workload account ``i`` of a run with ``seed`` (funded in genesis)."""
    return SigningKey(hashlib.sha256(f"moderntensor-e2e-{seed}-{i}".encode()).digest())


def free_base_port(slots: int) -> int:
    """A base port with ``10 * slots`` free ports above it, below the ephemeral range."""
    rng = int.from_bytes(os.urandom(4), "big")
    for attempt in range(200):
        base = 20000 + ((rng + 7919 * attempt) % ((32000 - 20000 - 10 * slots) // 10)) * 10
        if not any(port_in_use(base + p) for p in range(10 * slots)):
            return base
    raise RuntimeError("no free range of loopback ports")


@dataclass
class Node:
    name: str
    plan: NodePlan
    home: NodeHome
    kind: str  # "validator", "full" or "seed"
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    paused: bool = False
    started: bool = False
    max_rss_kib: dict[str, int] = field(default_factory=dict)

    @property
    def rpc_url(self) -> str:
        return self.plan.rpc_url

    def running(self) -> bool:
        return bool(self.procs) and all(p.poll() is None for p in self.procs.values())

    def up(self) -> bool:
        """Running and not paused: expected to follow the chain."""
        return self.running() and not self.paused

    def height(self) -> int | None:
        try:
            with RPCClient(self.rpc_url, timeout=2, retries=0) as rpc:
                return rpc.latest_height()
        except (NodeUnreachable, RPCError):
            return None


class Network:
    """The nodes of one run. ``previous`` is the source tree of the previous app version (the
    network starts on it when the manifest has an upgrade)."""

    def __init__(
        self, manifest: Manifest, root: Path, hub: ProxyHub, previous: Path | None = None
    ) -> None:
        self.m = manifest
        self.root = root
        self.hub = hub
        self.previous = previous
        self.on_previous = previous is not None
        self.nodes: dict[str, Node] = {}
        self.keys = [workload_key(manifest.workload.seed, i) for i in range(self.account_count())]

    def account_count(self) -> int:
        return max(4, self.m.workload.transfers_per_block) + 1 + 4

    # --- building ------------------------------------------------------------------------------
    def build(self) -> None:
        m = self.m
        plan = LocalnetPlan(
            validators=m.validators,
            seed=True,  # always created; started only when the manifest asks for it
            base_port=free_base_port(m.validators + 1 + m.full_nodes),
            chain_id=m.chain_id,
            timeout_commit=m.timeout_commit,
        )
        if self.previous is not None:  # the previous version creates its own chain
            self._previous_cli(
                "localnet",
                "--root",
                str(self.root),
                "init",
                "-n",
                str(m.validators),
                "--base-port",
                str(plan.base_port),
                "--chain-id",
                m.chain_id,
            )
        else:
            init_localnet(self.root, plan, staking_params=STAKING_PARAMS)
        self._fund_workload()
        for j in range(m.full_nodes):
            add_full_node(self.root, f"full{j}")
        for p in all_nodes(self.root):
            name = (
                p.name.replace("node", "validator", 1)
                if p.validator
                else ("seed" if p.name == "seed" else p.name)
            )
            kind = "validator" if p.validator else ("seed" if name == "seed" else "full")
            self.nodes[name] = Node(name, p, NodeHome(self.root / p.name), kind)
        self._wire()

    def _previous_cli(self, *args: str) -> None:
        assert self.previous is not None
        res = subprocess.run(
            [sys.executable, "-m", "abci_app", *args],
            cwd=self.previous,
            env={**os.environ, "PYTHONPATH": str(self.previous)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if res.returncode != 0:
            raise RuntimeError(f"previous version: {' '.join(args)} failed: {res.stderr.strip()}")

    def _fund_workload(self) -> None:
        g = genesis_file.load(self.root / "genesis.json")
        for key in self.keys:
            address = to_bech32(address_from_pubkey(bytes(key.verify_key)))
            genesis_file.add_account(g, address, ACCOUNT_BALANCE)
        if self.previous is None:  # (a previous version's genesis follows that version's
            genesis_file.validate(g)  # rules, which its own InitChain checks)
        genesis_file.save(self.root / "genesis.json", g)
        for home in self.root.iterdir():
            target = home / "cometbft" / "config" / "genesis.json"
            if target.exists():
                genesis_file.save(target, g)

    def validators(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "validator"]

    def fulls(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "full"]

    def _wire(self) -> None:
        """Rewrite every node's P2P settings so that each of its peers is a proxied link."""
        ids = {name: node_id(n.home) for name, n in self.nodes.items()}

        def links(src: str, dsts: list[Node]) -> str:
            return ",".join(
                f"{ids[d.name]}@127.0.0.1:{self.hub.add(src, d.name, d.plan.p2p).port}"
                for d in dsts
                if d.name != src
            )

        vals = self.validators()
        seed = self.nodes["seed"]
        for n in self.nodes.values():
            settings: list[tuple[str, str, Any]] = [
                ("consensus", "timeout_commit", self.m.timeout_commit),
                ("p2p", "max_num_inbound_peers", 40),
            ]
            if n.kind == "validator":
                settings += [
                    ("p2p", "persistent_peers", links(n.name, vals)),
                    ("p2p", "seeds", ""),
                    ("p2p", "pex", False),
                ]
            elif n.kind == "seed":
                settings += [("p2p", "seeds", links(n.name, vals))]
            else:
                settings += [
                    ("p2p", "persistent_peers", links(n.name, vals)),
                    ("p2p", "seeds", links(n.name, [seed]) if self.m.seed else ""),
                    ("p2p", "pex", self.m.seed),
                ]
            self.patch(n, settings)
            cfg = n.home.load_config()
            cfg_data = {
                **cfg.__dict__,
                "snapshot_interval": self.m.snapshot_interval if n.kind != "seed" else 0,
                "snapshot_chunk_bytes": self.m.snapshot_chunk_bytes,
                # a joiner whose light client is slow may fall back to an older snapshot,
                # which its peers must still have (keep * interval blocks)
                "snapshot_keep": SNAPSHOT_KEEP,
            }
            n.home.config_file.write_text(json.dumps(cfg_data, indent=2) + "\n")

    def patch(self, node: Node, settings: list[tuple[str, str, Any]]) -> None:
        path = node.home.cometbft / "config" / "config.toml"
        path.write_text(patch_config(path.read_text(), settings))

    def prepare_state_sync(self, node: Node) -> None:
        """Point a joining full node's light client at two running validators, the least
        perturbed first (a witness that is paused or cut off stalls the light client, and the
        joiner then falls back to older snapshots)."""
        perturbed = [p.node for p in self.m.perturb]
        live = sorted(
            (v for v in self.validators() if v.up()), key=lambda v: perturbed.count(v.name)
        )
        self.patch(node, state_sync_settings([v.rpc_url for v in live]))

    # --- processes -----------------------------------------------------------------------------
    def _spawn(
        self, node: Node, name: str, cmd: list[str], env: dict[str, str], death: int
    ) -> None:
        """Start one process of ``node`` in a session of its own (a terminal's Ctrl-C reaches
        only the runner, which stops it); the kernel sends it ``death`` if the runner dies."""
        node.home.logs.mkdir(parents=True, exist_ok=True)
        with open(node.home.logs / f"{name}.log", "ab") as log:
            # cwd: the node's home, so `python -m abci_app` imports the installed package (or
            # PYTHONPATH's previous version), never a source tree that happens to be the cwd
            node.procs[name] = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                cwd=node.home.root,
                preexec_fn=bind_to_parent(death),
            )

    def halt_height(self) -> int:
        """The agreed halt height while the network runs the previous version (0 otherwise)."""
        up = self.m.upgrade
        return up.at_height if up is not None and self.on_previous else 0

    def app_command(
        self, node: Node, env: dict[str, str] | None = None
    ) -> tuple[list[str], dict[str, str]]:
        """The app's command line and environment for any start of ``node``: the first, or
        after a kill, restart or crash. Before an upgrade every start runs the previous
        version with ``--halt-height`` (a node restarted without it would run on past the
        halt alone); ``env`` adds a crash point, which is never inherited from ours."""
        full_env = {**os.environ, "MODERNTENSOR_CHECK_INVARIANTS": "1"}
        full_env.pop(ENV_VAR, None)  # a crash point only where the runner asks for one
        full_env.update(env or {})
        cmd = [sys.executable, "-m", "abci_app", "--home", str(node.home.root), "node", "app"]
        if self.on_previous and self.previous is not None:
            full_env["PYTHONPATH"] = str(self.previous)
        halt = self.halt_height()
        if halt:
            cmd += ["--halt-height", str(halt)]
        return cmd, full_env

    def start(self, node: Node, env: dict[str, str] | None = None) -> None:
        """Start the app (see :meth:`app_command`), wait until it listens, then cometbft."""
        cmd, full_env = self.app_command(node, env)
        self._spawn(node, "app", cmd, full_env, APP_DEATH_SIGNAL)
        wait_for_port(node.plan.abci, 30, node.procs["app"])
        comet = [str(find_cometbft()), "start", "--home", str(node.home.cometbft)]
        self._spawn(node, "cometbft", comet, {**os.environ}, COMETBFT_DEATH_SIGNAL)
        node.started = True
        node.paused = False

    def kill(self, node: Node) -> None:
        """SIGKILL both processes (as a power cut would)."""
        for p in node.procs.values():
            if p.poll() is None:
                p.kill()
        for p in node.procs.values():
            p.wait(15)

    def stop(self, node: Node, timeout: float = 15.0) -> None:
        """SIGTERM cometbft, then the app; SIGKILL what is still alive after ``timeout``."""
        if node.paused:
            self.resume(node)
        for name in ("cometbft", "app"):
            p = node.procs.get(name)
            if p is None or p.poll() is not None:
                continue
            p.terminate()
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    def pause(self, node: Node) -> None:
        for p in node.procs.values():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGSTOP)
        node.paused = True

    def resume(self, node: Node) -> None:
        for p in node.procs.values():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
        node.paused = False

    def wait_exit(self, node: Node, name: str, timeout: float) -> int | None:
        """The exit code of a process once it has exited (None if still running at timeout)."""
        p = node.procs[name]
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def sample_memory(self) -> None:
        """Record each running process's resident memory (the maximum seen is kept)."""
        for node in self.nodes.values():
            for name, p in node.procs.items():
                if p.poll() is not None:
                    continue
                try:
                    status = Path(f"/proc/{p.pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmRSS:"):
                        kib = int(line.split()[1])
                        node.max_rss_kib[name] = max(node.max_rss_kib.get(name, 0), kib)

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stop every process of every node at once: SIGCONT the paused, SIGTERM all, SIGKILL
        whatever still runs after ``timeout`` seconds (both are crash-safe)."""
        for node in self.nodes.values():
            if node.paused:
                self.resume(node)
        procs = [p for node in self.nodes.values() for p in node.procs.values()]
        for p in procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + timeout
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    def wait_heights(self, nodes: list[Node], height: int, timeout: float) -> list[str]:
        """Wait until each node reports ``height``; return the names of those that did not."""
        deadline = time.monotonic() + timeout
        pending = list(nodes)
        while pending and time.monotonic() < deadline:
            self.sample_memory()
            pending = [n for n in pending if (n.height() or 0) < height]
            if pending:
                time.sleep(0.3)
        return [n.name for n in pending]
