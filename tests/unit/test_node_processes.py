"""Which processes `node stop` and `localnet stop` may signal: a home's node processes,
identified by how they were started (the interpreter running the `moderntensor` script or
`-m abci_app`, then `node start` / `node app`), never a stranger whose command line merely
mentions the words or the path. The stand-ins here are sleeping Python scripts under chosen
command lines (each is killed by the test)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from abci_app.node.localnet import stop_localnet
from abci_app.node.processes import find_node_processes, is_zombie, signal_if


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[object]:
    """Start ``argv`` with ``argv[0]`` as shown (the interpreter runs ./moderntensor, a script
    that sleeps); every process is killed at the end."""
    (tmp_path / "moderntensor").write_text("import time\ntime.sleep(60)\n")
    procs: list[subprocess.Popen[bytes]] = []

    def start(*argv: str) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(list(argv), executable=sys.executable, cwd=tmp_path)
        procs.append(p)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the kernel shows the new command line
            if Path(f"/proc/{p.pid}/cmdline").read_bytes().split(b"\0")[0] == argv[0].encode():
                break
            time.sleep(0.01)
        return p

    yield start
    for p in procs:
        p.kill()
        p.wait(10)


def test_only_our_own_command_lines_are_a_node(spawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    # an editor (or pager) opened on a file named moderntensor, with the same words after it
    spawn("vim", "moderntensor", "--home", str(home), "node", "start")
    # our console script under an interpreter given options first (python -X dev -u …)
    ours = spawn(
        sys.executable, "-X", "dev", "-u", "moderntensor", "--home", str(home), "node", "app"
    )
    # a global option whose value is the word node is not the node group
    spawn(sys.executable, "moderntensor", "--home", str(home), "--node", "node", "start")
    found = {p.pid: p.role for p in find_node_processes(home)}
    assert found == {ours.pid: "app"}, found


def test_localnet_stop_signals_only_its_own_processes(spawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A stale pids.json (after a reboot, say) whose pids now belong to other programs that
    mention the localnet's folder: stop leaves them running."""
    root = tmp_path / "localnet"
    files = [root / "node0" / "logs" / "app.log", root / "node0" / "cometbft" / "config.toml"]
    for f in files:  # stand-ins: each "viewer" below runs its file, which sleeps
        f.parent.mkdir(parents=True)
        f.write_text("import time\ntime.sleep(60)\n")
    viewer = spawn("less", str(files[0]))
    other = spawn("tail", str(files[1]))
    pids = {"node0": {"app": viewer.pid, "cometbft": other.pid}}
    (root / "pids.json").write_text(json.dumps(pids))
    assert stop_localnet(root) == ["node0"]
    assert viewer.poll() is None and other.poll() is None
    assert not is_zombie(viewer.pid) and not is_zombie(other.pid)


def test_signal_if_signals_only_what_the_check_accepts(spawn) -> None:  # type: ignore[no-untyped-def]
    """The check runs with the process pinned (pidfd): refused, nothing is sent; accepted, the
    signal arrives; a process that is gone and reaped is not signalled (its pid may be reused)."""
    import signal

    p = spawn(sys.executable, "moderntensor")
    assert not signal_if(p.pid, signal.SIGTERM, lambda pid: False)
    assert p.poll() is None
    assert signal_if(p.pid, signal.SIGTERM, lambda pid: pid == p.pid)
    assert p.wait(10) == -signal.SIGTERM
    assert not signal_if(p.pid, signal.SIGTERM, lambda pid: True)
