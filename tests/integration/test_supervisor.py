"""No orphaned nodes: whatever happens to the supervisor (`node start`), neither the app nor
cometbft keeps running; and a home's node is stopped wherever it was started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO, LocalNode, run_cli, wait_until

from abci_app.client.keyring import PASSPHRASE_ENV
from abci_app.node.processes import find_node_processes, is_zombie, stop_node_processes
from abci_app.node.supervisor import port_in_use

pytestmark = pytest.mark.integration


def _start_supervisor(
    node: LocalNode, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "abci_app", "--home", str(node.root), "node", "start"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO,
            env=env,
        )
    node.procs["supervisor"] = proc  # tracked: the harness stops it if the test fails
    node.wait_height(1)
    roles = sorted(p.role for p in find_node_processes(node.root))
    assert roles == ["app", "cometbft", "supervisor"]
    return proc


def _all_gone(node: LocalNode) -> None:
    wait_until(lambda: not find_node_processes(node.root), 30, "the node's processes to end")
    cfg = node.cfg
    for port in (cfg.abci_port, cfg.rpc_port, cfg.p2p_port):
        assert not port_in_use(port), port


@pytest.fixture
def node(tmp_path: Path):  # type: ignore[no-untyped-def]
    n = LocalNode(tmp_path / "home").init()
    yield n
    sup = n.procs.get("supervisor")
    if sup is not None and sup.poll() is None:
        sup.kill()
        sup.wait(10)
    n.stop()
    stop_node_processes(n.root, timeout=5)


def test_supervisor_signals_leave_no_process(node: LocalNode, tmp_path: Path) -> None:
    log = tmp_path / "supervisor.log"
    # SIGHUP: the terminal of `make run` was closed
    sup = _start_supervisor(node, log)
    os.kill(sup.pid, signal.SIGHUP)
    assert sup.wait(30) == 0
    _all_gone(node)
    assert "node stopped" in log.read_text()
    # the first commands it prints reach this node (not the default RPC port)
    assert f"moderntensor --home {node.root} --node {node.rpc_url} keys add" in log.read_text()
    # SIGKILL: no handler runs; the kernel's parent-death signal ends both children
    sup = _start_supervisor(node, log)
    children = [p.pid for p in find_node_processes(node.root) if p.role != "supervisor"]
    os.kill(sup.pid, signal.SIGKILL)
    sup.wait(10)
    _all_gone(node)
    assert all(is_zombie(pid) for pid in children)  # exited (reaped, or awaiting its reaper)
    # the same chain starts again on the same ports (the next `make run`)
    sup = _start_supervisor(node, log)
    os.kill(sup.pid, signal.SIGTERM)
    assert sup.wait(30) == 0
    _all_gone(node)


def test_stop_finds_the_node_wherever_it_was_started(node: LocalNode, tmp_path: Path) -> None:
    # started by `node start` in another session, by a shell that holds a keyring passphrase
    # for its own commands: the node's processes never get it (they sign nothing)
    env = {**os.environ, PASSPHRASE_ENV: "a long passphrase"}
    sup = _start_supervisor(node, tmp_path / "supervisor.log", env)
    for p in find_node_processes(node.root):
        environ = Path(f"/proc/{p.pid}/environ").read_bytes()
        assert (PASSPHRASE_ENV.encode() in environ) == (p.role == "supervisor"), p.role
    res = run_cli(node.root, "-o", "json", "node", "stop")  # what an operator types
    assert res.returncode == 0, res.stderr
    assert sorted(p["role"] for p in json.loads(res.stdout)) == ["app", "cometbft", "supervisor"]
    assert sup.wait(30) == 0
    _all_gone(node)
    # started as two separate processes (`node app` + `cometbft start`, as under systemd)
    node.start()
    other = LocalNode(tmp_path / "other").init()  # another home's node is left alone
    other.start()
    try:
        stopped = stop_node_processes(node.root)
        assert sorted(p.role for p in stopped) == ["app", "cometbft"]
        _all_gone(node)
        assert other.alive("app") and other.alive("cometbft") and other.height() >= 1
    finally:
        other.stop()
    assert stop_node_processes(node.root) == []  # nothing left to stop
