"""Run one manifest: build the network, start it, run the workload, apply each perturbation when
the chain reaches its height (checking liveness and agreement after each), then check every
invariant, stop the nodes and check their databases. Bounded by the manifest's
``timeout_seconds``; every process started is stopped at the end, whatever happens.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from ..client.rpc import NodeUnreachable, RPCClient, RPCError
from ..crashpoints import ENV_VAR
from ..node.cometbft import CometBFTError
from ..node.init import InitError
from ..node.plan import LocalnetError
from ..node.supervisor import StartError
from ..upgrades import APP_VERSION
from . import invariants, perturb
from .invariants import Check
from .manifest import ONCE_POINTS, Manifest, Perturbation
from .network import Network, Node
from .proxy import ProxyHub
from .report import Report
from .versions import pinned
from .workload import Workload

log = logging.getLogger("moderntensor.e2e")

HOLD_BLOCKS = 5
"""The workload stops this many blocks before an upgrade's halt height: CometBFT does not keep
its mempool across a restart, so txs still waiting there at the halt would be lost."""
STEP_TIMEOUT = 90.0
"""Seconds the nodes that are up get to move 2 blocks on after a perturbation."""


class Run:
    def __init__(
        self, m: Manifest, root: Path, previous: Path | None, say: Callable[[str], None]
    ) -> None:
        self.m = m
        self.say = say
        self.hub = ProxyHub()
        self.net = Network(m, root, self.hub, previous if m.upgrade else None)
        self.report = Report(m.name)
        self.once = {
            p.node: p for p in m.perturb if p.action == "crash_at" and p.point in ONCE_POINTS
        }
        self.pending = sorted(
            (p for p in m.perturb if p.node not in self.once or p.point not in ONCE_POINTS),
            key=lambda p: p.at_height,
        )
        self.joined = m.join_height == 0
        self.workload: Workload | None = None

    def height(self) -> int:
        """The chain's height: the highest a running validator reports."""
        return max((n.height() or 0 for n in self.net.validators() if n.up()), default=0)

    def _start(self, node: Node) -> None:
        p = self.once.get(node.name)
        env = {ENV_VAR: p.point} if p is not None else None
        halt = self.m.upgrade.at_height if self.m.upgrade is not None else 0
        if p is not None:
            self.say(f"  {node.name} starts with {ENV_VAR}={p.point}")
        self.net.start(node, env=env, halt_height=halt)

    def fail(self, name: str, detail: str) -> None:
        self.report.checks.append(Check(name, False, detail))
        self.say(f"  FAILED {name}: {detail}")

    def run(self) -> Report:
        m, net = self.m, self.net
        start = time.monotonic()
        deadline = start + m.timeout_seconds
        try:
            net.build()
            if m.seed:
                self._start(net.nodes["seed"])
            for v in net.validators():
                self._start(v)
            if self.joined:
                for f in net.fulls():
                    self._start(f)
            self.workload = Workload(
                net.keys,
                [net.nodes[s] for s in m.submitters()],
                m.chain_id,
                m.workload.transfers_per_block,
                m.workload.staking,
                m.workload.subnets,
                m.workload.seed,
            )
            self.workload.start(m.timeout_seconds)
            self._loop(deadline)
            self._finish()
        except (
            perturb.PerturbationFailed,
            LocalnetError,
            StartError,
            InitError,
            CometBFTError,
            NodeUnreachable,
            RPCError,
            subprocess.SubprocessError,
            RuntimeError,
            OSError,
        ) as e:  # reported as a broken invariant; the nodes are stopped below
            self.fail("the run completed", f"{type(e).__name__}: {e}")
        finally:
            if self.workload is not None:
                self.workload.stop()
            net.stop_all()
            self.hub.close()
        self.report.checks.append(invariants.stored_state(net))
        self.report.checks.append(invariants.memory(net, m.memory_limit_mib))
        self.report.seconds = time.monotonic() - start
        return self.report

    def _loop(self, deadline: float) -> None:
        m, net = self.m, self.net
        assert self.workload is not None
        while True:
            if time.monotonic() > deadline:
                raise perturb.PerturbationFailed(f"timed out after {m.timeout_seconds}s")
            net.sample_memory()
            h = self.height()
            self._once_crashes()
            self._unexpected_exits()
            if not self.joined and h >= m.join_height:
                self.joined = True
                for f in net.fulls():
                    if m.state_sync:
                        net.prepare_state_sync(f)
                    self.say(
                        f"  height {h}: {f.name} joins" + (" by state sync" if m.state_sync else "")
                    )
                    self._start(f)
            up = m.upgrade
            if up is not None and up in self.pending and h >= up.at_height - HOLD_BLOCKS:
                self.workload.hold()  # mempools drain before every node halts
            if self.pending and h >= self.pending[0].at_height:
                self._apply(self.pending.pop(0))
                continue
            if not self.pending and not self.once and self.joined:
                ups = [n for n in net.nodes.values() if n.up() and n.kind != "seed"]
                if all((n.height() or 0) >= m.blocks for n in ups):
                    return
            time.sleep(0.3)

    def _apply(self, p: Perturbation) -> None:
        self.say(f"  height {self.height()}: {p.describe()}")
        assert self.workload is not None
        try:
            done = perturb.apply(self.net, p, self.height, self.workload)
        except perturb.PerturbationFailed as e:
            self.fail(f"perturbation {p.describe()} applied", str(e))
            return
        self.report.perturbations.append(done)
        self._step_check(done)

    def _step_check(self, what: str) -> None:
        """After a perturbation: every node up moves 2 blocks on and all agree so far (a node
        still to crash at its first start is checked after that crash instead)."""
        ups = [
            n
            for n in self.net.nodes.values()
            if n.up() and n.kind != "seed" and n.name not in self.once
        ]
        target = self.height() + 2
        late = self.net.wait_heights(ups, target, STEP_TIMEOUT)
        agree, _ = invariants.agreement(ups)
        held = not late and agree.held
        detail = f"late: {late}" if late else agree.detail
        self.report.checks.append(Check(f"after {what}: live and agreeing", held, detail))
        if not held:
            self.say(f"  FAILED after {what}: {detail}")

    def _once_crashes(self) -> None:
        for name, p in list(self.once.items()):
            node = self.net.nodes[name]
            if not node.started or node.procs["app"].poll() is None:
                continue
            del self.once[name]
            try:
                perturb.after_app_crash(self.net, node, p.point)
            except perturb.PerturbationFailed as e:
                self.fail(f"perturbation {p.describe()} applied", str(e))
                continue
            done = f"crashed {name} at {p.point} on its first start and restarted it"
            self.say(f"  {done}")
            self.report.perturbations.append(done)
            self._step_check(done)

    def _unexpected_exits(self) -> None:
        halting = self.m.upgrade is not None and self.m.upgrade in self.pending
        for node in self.net.nodes.values():
            if not node.started or node.name in self.once or node.paused:
                continue
            for proc_name, p in node.procs.items():
                code = p.poll()
                if code is None or (halting and code == 0):
                    continue
                self.fail(
                    "no node process exits unasked",
                    f"{node.name} {proc_name} exited with {code}; see {node.home.logs}",
                )
                node.started = False  # reported once; the node stays down

    def _finish(self) -> None:
        m, net = self.m, self.net
        assert self.workload is not None
        ups = [n for n in net.nodes.values() if n.up() and n.kind != "seed"]
        checks = self.report.checks
        checks.append(invariants.liveness(net, ups, m.blocks, STEP_TIMEOUT))
        self.workload.stop()
        net.wait_heights(ups, self.height() + 2, STEP_TIMEOUT)  # the last txs get in
        agree, compared = invariants.agreement(ups)
        checks.append(agree)
        checks.append(invariants.own_app_hashes(ups))
        ref = net.nodes[m.submitters()[0]]
        tx_check, committed_at = invariants.txs_exactly_once(ref, self.workload.stats)
        checks.append(tx_check)
        kinds = _kinds(self.workload.stats.accepted)
        missing = [k for k in self.workload.expected_kinds() if not kinds.get(k)]
        checks.append(
            Check(
                "the workload ran: every enabled kind of tx accepted",
                not missing,
                f"none accepted of {missing} (refusals by code: {self.workload.stats.refused})"
                if missing
                else f"{kinds}",
            )
        )
        checks.append(invariants.validator_updates(ref))
        if m.state_sync:
            checks.append(self._state_sync_check())
        if m.upgrade is not None:
            checks.append(self._upgrade_check(ref, m.upgrade.at_height))
        self.report.txs_committed = len(committed_at)
        self.report.blocks = min((n.height() or 0 for n in ups), default=0)
        self.report.details = {
            "heights_compared": compared,
            "accepted_txs": len(self.workload.stats.accepted),
            "refused_by_code": self.workload.stats.refused,
            "tx_kinds": _kinds(self.workload.stats.accepted),
            "workload_rounds": self.workload.stats.rounds,
            "workload_rounds_skipped": self.workload.stats.skipped_rounds,
            "workload_last_error": self.workload.stats.last_error,
            "proxied_bytes": sum(link.bytes for link in self.hub.links),
        }
        if m.upgrade is not None:
            halt = m.upgrade.at_height
            self.report.details["txs_committed_after_halt"] = sum(
                1 for h in committed_at.values() if h > halt
            )

    def _upgrade_check(self, ref: Node, halt: int) -> Check:
        """Headers up to the halt carry the previous app version; the block after the
        migration (H+1) carries the new one, and so does the app's Info."""
        name = "app version: previous up to the halt, current from H+2 on"
        try:
            with RPCClient(ref.rpc_url, timeout=5, retries=1) as rpc:

                def version(h: int) -> int:
                    return int(rpc.call("header", height=str(h))["header"]["version"]["app"])

                got = (version(halt), version(halt + 1), version(halt + 2))
                info = int(rpc.call("abci_info")["response"].get("app_version", 0))
        except (NodeUnreachable, RPCError) as e:
            return Check(name, False, str(e))
        _, old = pinned()
        want = (old, old, APP_VERSION)
        return Check(
            name,
            got == want and info == APP_VERSION,
            f"headers at {halt}, {halt + 1}, {halt + 2}: {got} (want {want}); Info {info}",
        )

    def _state_sync_check(self) -> Check:
        """A node joined by state sync keeps blocks only from its snapshot height on."""
        found = {}
        for f in self.net.fulls():
            try:
                with RPCClient(f.rpc_url, timeout=5, retries=1) as rpc:
                    found[f.name] = int(rpc.status()["sync_info"]["earliest_block_height"])
            except (NodeUnreachable, RPCError) as e:
                return Check("state-synced nodes start at a snapshot", False, str(e))
        interval = self.m.snapshot_interval
        bad = {k: h for k, h in found.items() if h <= 1 or (h % interval and (h - 1) % interval)}
        return Check(
            "state-synced nodes' block stores start at a snapshot height",
            not bad,
            f"earliest blocks {found}",
        )


def _kinds(accepted: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for kind in accepted.values():
        out[kind] = out.get(kind, 0) + 1
    return dict(sorted(out.items()))


def run_manifest(
    m: Manifest,
    workdir: Path,
    previous: Path | None = None,
    say: Callable[[str], None] = print,
    keep: bool = False,
) -> Report:
    """Run ``m`` in ``workdir/<name>`` (removed afterwards unless ``keep`` or it failed)."""
    root = workdir / m.name
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    say(f"{m.name}: {m.validators} validators, {m.full_nodes} full nodes, {m.blocks} blocks")
    report = Run(m, root, previous, say).run()
    if report.held and not keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        report.details["root"] = str(root)
    return report
