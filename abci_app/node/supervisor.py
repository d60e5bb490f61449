"""``moderntensor node start``: run the app and cometbft side by side until interrupted.

Both run as child processes with their logs in <home>/logs. The app is started first and must
accept connections before cometbft starts (cometbft gives up if the app is not there). If
either exits, the other is stopped too, so the node never runs half-alive.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .cometbft import find_cometbft
from .home import NodeHome

HALT_WAIT_SECONDS = 10.0
"""How long ``node start --halt-height`` waits for the app's exit once either process stopped."""


class StartError(Exception):
    """The node could not be started (port busy, app did not come up)."""


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StartError(f"process exited with code {proc.returncode} before listening")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise StartError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def app_command(home: NodeHome, halt_height: int = 0) -> list[str]:
    cmd = [sys.executable, "-m", "abci_app", "--home", str(home.root), "node", "app"]
    return cmd + (["--halt-height", str(halt_height)] if halt_height else [])


def cometbft_command(home: NodeHome) -> list[str]:
    return [str(find_cometbft()), "start", "--home", str(home.cometbft)]


def _spawn(cmd: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child for its lifetime
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_node(home: NodeHome, announce: bool = True, halt_height: int = 0) -> int:
    """Run both processes until Ctrl-C, or until one exits; return the exit code (0 when the
    app stopped cleanly at ``halt_height``)."""
    cfg = home.load_config()
    for name, port in (("ABCI", cfg.abci_port), ("RPC", cfg.rpc_port), ("P2P", cfg.p2p_port)):
        if port_in_use(port):
            raise StartError(f"{name} port {port} is already in use (another node running?)")
    app = _spawn(app_command(home, halt_height), home.logs / "app.log")
    try:
        wait_for_port(cfg.abci_port, 30, app)
    except StartError as e:
        _stop(app)
        raise StartError(f"the app did not start ({e}); see {home.logs / 'app.log'}") from None
    comet = _spawn(cometbft_command(home), home.logs / "cometbft.log")
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if announce:
        pids = f"pid app={app.pid} cometbft={comet.pid}"
        print(f"ModernTensor node running (chain {cfg.chain_id}, {pids})")
        print(f"  RPC               {cfg.rpc_url}")
        print(f"  cometbft metrics  http://127.0.0.1:{cfg.prometheus_port}/metrics")
        if cfg.app_metrics_port:
            print(f"  app metrics       {cfg.app_metrics_url}")
        print(f"  ABCI              {cfg.abci_address}")
        print(f"  logs              {home.logs}{os.sep}")
        dev = home.keyring / "dev.json"
        if dev.exists():
            address = json.loads(dev.read_text())["address"]
            mt = f".venv/bin/moderntensor --home {home.root}"
            print(f"  dev key           {address}  (funded in genesis)")
            print("Send a first transfer from another terminal:")
            print(f"  {mt} keys add alice")
            print(f"  {mt} tx transfer --from dev --to $({mt} keys show alice) --amount 1.5mdt")
            print(f"  {mt} query account $({mt} keys show alice)")
        print("Press Ctrl-C to stop.", flush=True)
    code = 0
    while not stopping:
        if halt_height and (app.poll() is not None or comet.poll() is not None):
            # at the halt height the app stops and cometbft follows it (or the other way
            # round, by a few milliseconds): the app's exit code says whether it halted
            with contextlib.suppress(subprocess.TimeoutExpired):
                app.wait(HALT_WAIT_SECONDS)
            if app.returncode == 0:
                print(f"the app committed the halt height {halt_height} and stopped")
                break
        if app.poll() is not None:
            print(f"the app exited with code {app.returncode}; see {home.logs / 'app.log'}")
            code = 1
            break
        if comet.poll() is not None:
            print(f"cometbft exited with code {comet.returncode}; see {home.logs / 'cometbft.log'}")
            code = 1
            break
        time.sleep(0.5)
    _stop(comet)
    _stop(app)
    print("node stopped")
    return code
