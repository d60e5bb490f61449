"""Test harness: deterministic keys, free loopback ports, and a real cometbft + app node.

Every process a test starts is tracked here and only those are stopped. Nodes live in the
test's temporary folder and listen on 127.0.0.1 ports chosen free by the OS.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from abci_app.address import address_from_pubkey, to_bech32
from abci_app.client.rpc import RPCClient
from abci_app.node.cometbft import find_cometbft
from abci_app.node.home import NodeConfig, NodeHome
from abci_app.node.init import init_node
from abci_app.node.plan import NodePlan
from abci_app.node.supervisor import port_in_use

CHAIN_ID = "mt-test-1"
REPO = Path(__file__).resolve().parent.parent


def seeded_key(i: int) -> SigningKey:
    """A deterministic key: the same in every run, so vectors can pin tx bytes."""
    return SigningKey(hashlib.sha256(f"moderntensor-test-key-{i}".encode()).digest())


def addr_of(key: SigningKey) -> bytes:
    return address_from_pubkey(bytes(key.verify_key))


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_until(cond, timeout: float, what: str, poll: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            got = cond()
            if got:
                return got
        except Exception as e:  # noqa: BLE001 - polling a node that may be restarting
            last_exc = e
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc})")


@dataclass
class LocalNode:
    """One validator: cometbft + the app as two tracked child processes."""

    root: Path
    accounts: list[tuple[bytes, int]] = field(default_factory=list)
    timeout_commit: str = "200ms"
    check_invariants: bool = True
    """Run the app with MODERNTENSOR_CHECK_INVARIANTS=1 (tests); benchmarks turn it off."""
    config: list[tuple[str, str, object]] = field(default_factory=list)
    """Extra config.toml settings (section, key, value), applied after the template."""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home = NodeHome(self.root)
        rpc, p2p, abci, prom, app_metrics = free_ports(5)
        self.cfg = NodeConfig(CHAIN_ID, "test-node", rpc, p2p, abci, prom, app_metrics)

    def init(self) -> LocalNode:
        init_node(
            self.home,
            self.cfg,
            overrides=[("consensus", "timeout_commit", self.timeout_commit), *self.config],
        )
        genesis = json.loads(self.home.genesis_file.read_text())
        accts = genesis["app_state"]["accounts"]
        accts += [{"address": to_bech32(a), "balance": str(b)} for a, b in self.accounts]
        self.home.genesis_file.write_text(json.dumps(genesis, indent=2))
        return self

    @property
    def rpc_url(self) -> str:
        return self.cfg.rpc_url

    def rpc(self, timeout: float = 10.0) -> RPCClient:
        return RPCClient(self.rpc_url, timeout=timeout, retries=1)

    def _spawn(self, name: str, cmd: list[str], extra_env: dict[str, str] | None = None) -> None:
        logs = self.home.logs
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{name}.log", "ab") as log:
            env = {
                **os.environ,
                "MODERNTENSOR_CHECK_INVARIANTS": "1" if self.check_invariants else "0",
                **(extra_env or {}),
            }
            self.procs[name] = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=REPO,
                env=env,
            )

    def start_app(self, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        """Start the app (``env``: extra environment, e.g. a crash point; ``args``: extra
        ``node app`` options) and wait until it listens."""
        cmd = [sys.executable, "-m", "abci_app", "--home", str(self.root), "node", "app", *args]
        self._spawn("app", cmd, env)
        wait_until(lambda: _listening(self.cfg.abci_port), 30, "the app to listen")

    def start_cometbft(self) -> None:
        cmd = [str(find_cometbft()), "start", "--home", str(self.home.cometbft)]
        self._spawn("cometbft", cmd)

    def start(self, min_height: int = 1) -> LocalNode:
        self.start_app()
        self.start_cometbft()
        self.wait_height(min_height)
        return self

    def alive(self, name: str) -> bool:
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        p = self.procs.get(name)
        if p is not None and p.poll() is None:
            os.kill(p.pid, sig)
            p.wait(15)

    def stop(self) -> None:
        for name in ("cometbft", "app"):
            p = self.procs.get(name)
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)

    def height(self) -> int:
        with self.rpc(timeout=2) as c:
            return c.latest_height()

    def wait_height(self, h: int, timeout: float = 60) -> int:
        return int(wait_until(lambda: self.height() >= h and self.height(), timeout, f"height {h}"))

    def log(self, name: str) -> str:
        path = self.home.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def search_txs(rpc: RPCClient, query: str, at_least: int = 1, timeout: float = 15.0) -> dict:  # type: ignore[type-arg]
    """tx_search until ``at_least`` txs match: CometBFT's indexer runs after the block's events
    are published, so a tx seen on the WebSocket may not be searchable for a moment."""

    def found() -> dict | None:  # type: ignore[type-arg]
        res = rpc.call("tx_search", query=query)
        return res if int(res["total_count"]) >= at_least else None

    return wait_until(found, timeout, f"tx_search {query!r} to match {at_least} txs")  # type: ignore[no-any-return]


def free_base(n_slots: int) -> int:
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 32000 - 10 * n_slots, 10)  # below the ephemeral ports
        if not any(port_in_use(base + p) for p in range(10 * n_slots)):
            return base
    raise RuntimeError("no free port range found")


def height(node: NodePlan) -> int:
    """Latest height a localnet node reports."""
    with RPCClient(node.rpc_url, timeout=2, retries=0) as c:
        return c.latest_height()


def run_cli(
    home: Path, *args: str, node: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the real ``moderntensor`` command (``python -m abci_app``) and capture its output."""
    cmd = [sys.executable, "-m", "abci_app", "--home", str(home)]
    if node:
        cmd += ["--node", node]
    return subprocess.run(
        cmd + list(args), capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


CALLS_PER_WINDOW = 3
"""How many CLI calls (at the slowest measured) a chain window a test's tx must land in holds."""


class CliCost:
    """Run the real ``moderntensor`` command against ``node`` and keep the most blocks one call
    has taken so far (height when it returned minus height when it was launched).

    A CLI call is a new Python process (about 0.5 s of CPU to import and start) that sends a tx
    and waits for its block. On a loaded machine that costs many blocks (measured on this 2-core
    machine: 4-10 blocks of 0.2 s with other test suites running, 20-130 with two busy loops
    beside them), while the node keeps its pace. A window of the chain that a CLI tx has to land
    in (a reveal window, a pending commit, an immunity period) is therefore sized from what was
    measured on the same node (:meth:`window`), so a slow machine widens the window instead of
    failing the test. Safe to call from several threads."""

    def __init__(self, node: LocalNode, timeout: float = 120) -> None:
        self.node = node
        self.timeout = timeout
        self.worst = 0
        """The most blocks one call took (0 before the first)."""
        self._lock = threading.Lock()

    def run(self, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """``run_cli(home, *args)`` against the node, measured."""
        before = self.node.height()
        res = run_cli(home, *args, node=self.node.rpc_url, timeout=self.timeout)
        took = self.node.height() - before
        with self._lock:
            self.worst = max(self.worst, took)
        return res

    def window(self, floor: int) -> int:
        """Blocks enough for ``CALLS_PER_WINDOW`` of the slowest calls seen, at least ``floor``
        (the value the test uses on an idle machine)."""
        with self._lock:
            return max(floor, CALLS_PER_WINDOW * self.worst)


def on_a_terminal(
    argv: list[str], answer: bytes, timeout: float = 60, stdout_to: Path | None = None
) -> tuple[int, str]:
    """Run ``moderntensor argv`` on a pseudo-terminal, type ``answer`` at its ``[y/N]``
    question, and return (exit code, everything it printed on the terminal). With
    ``stdout_to`` its stdout goes to that file instead (``… | jq`` typed at a terminal). The
    child is killed at ``timeout``."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on the terminal
        os.chdir(REPO)
        if stdout_to is not None:
            os.dup2(os.open(stdout_to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
        os.execv(sys.executable, [sys.executable, "-m", "abci_app", *argv])
    out, sent, end = b"", False, time.monotonic() + timeout
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if b"[y/N]" in out and not sent:
                os.write(fd, answer)
                sent = True
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def run_manifest(tmp_path: Path, name: str, timeout: float) -> dict[str, Any]:
    """``moderntensor -o json e2e run e2e/manifests/<name>.toml`` in ``tmp_path``; asserts the
    run held every invariant (naming the failed checks) and returns its JSON report."""
    res = run_cli(
        tmp_path,
        "-o",
        "json",
        "e2e",
        "run",
        str(REPO / "e2e" / "manifests" / f"{name}.toml"),
        "--workdir",
        str(tmp_path / "runs"),
        timeout=timeout,
    )
    assert res.stdout, res.stderr
    (report,) = json.loads(res.stdout)
    failed = [c for c in report["checks"] if not c["held"]]
    assert res.returncode == 0 and report["held"], (failed, res.stderr[-3000:])
    return dict(report)
