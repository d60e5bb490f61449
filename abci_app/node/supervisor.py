"""``moderntensor node start``: run the app and cometbft side by side until interrupted.

Both run as child processes with their logs in <home>/logs. The app is started first and must
accept connections before cometbft starts (cometbft gives up if the app is not there). If
either exits, the other is stopped too, so the node never runs half-alive; and neither outlives
the supervisor (signal handlers, and the kernel's parent-death signal if it is killed).
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

from ..client.rpc import DEFAULT_NODE
from .cometbft import find_cometbft
from .home import NodeConfig, NodeHome
from .processes import bind_to_parent, child_env


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


def _spawn(cmd: list[str], log_path: Path, death_signal: int) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in a session of its own (a Ctrl-C on the terminal reaches only the
    supervisor, which stops the children in order) and bound to the supervisor's life: the
    kernel sends ``death_signal`` if the supervisor dies without stopping it (SIGKILL)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=bind_to_parent(death_signal),
            env=child_env(),
        )


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


HALT_WAIT_SECONDS = 10.0
"""How long ``node start --halt-height`` waits for the app's exit once either process stopped."""


class _Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP reached the supervisor."""


def _say(text: str) -> None:
    """Print, unless the terminal is gone (after SIGHUP writing to it fails with EIO)."""
    with contextlib.suppress(OSError):
        print(text, flush=True)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
APP_DEATH_SIGNAL = signal.SIGTERM
"""What the app gets if the supervisor dies: it stops cleanly (its state is crash-safe anyway)."""
COMETBFT_DEATH_SIGNAL = signal.SIGKILL
"""What cometbft gets if the supervisor dies: SIGKILL, since its graceful stop can hang."""


def run_node(home: NodeHome, announce: bool = True, halt_height: int = 0) -> int:
    """Run the app and cometbft for ``home`` until a stop signal or until either exits
    (with ``halt_height``, the app commits that height and stops: then 0).

    Neither child outlives the supervisor: SIGINT, SIGTERM and SIGHUP (a closed terminal) stop
    both (cometbft first); if the supervisor is killed outright, the kernel signals them
    (``PR_SET_PDEATHSIG``, Linux). Returns 0 after a stop signal, 1 if a child exited on its
    own. Raises StartError if a port is taken or the app does not come up."""
    cfg = home.load_config()
    for name, port in (("ABCI", cfg.abci_port), ("RPC", cfg.rpc_port), ("P2P", cfg.p2p_port)):
        if port_in_use(port):
            raise StartError(
                f"{name} port {port} is already in use (another node running? "
                f"`moderntensor --home {home.root} node stop` stops this home's node)"
            )

    def on_signal(signum: int, frame: object) -> None:
        raise _Interrupted(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    children: list[subprocess.Popen[bytes]] = []
    code = 0
    try:
        app = _spawn(app_command(home, halt_height), home.logs / "app.log", APP_DEATH_SIGNAL)
        children.append(app)
        try:
            wait_for_port(cfg.abci_port, 30, app)
        except StartError as e:
            raise StartError(f"the app did not start ({e}); see {home.logs / 'app.log'}") from None
        comet = _spawn(cometbft_command(home), home.logs / "cometbft.log", COMETBFT_DEATH_SIGNAL)
        children.append(comet)
        if announce:
            _announce(home, cfg, app, comet)
        code = _watch(home, app, comet, halt_height)
    except _Interrupted:
        code = 0
    finally:
        for sig in STOP_SIGNALS:  # a second Ctrl-C must not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        for proc in reversed(children):  # cometbft first, then the app
            _stop(proc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _say("node stopped")
    return code


def _watch(
    home: NodeHome,
    app: subprocess.Popen[bytes],
    comet: subprocess.Popen[bytes],
    halt_height: int = 0,
) -> int:
    while True:
        if halt_height and (app.poll() is not None or comet.poll() is not None):
            # at the halt height the app stops and cometbft follows it (or the other way
            # round, by a few milliseconds): the app's exit code says whether it halted
            with contextlib.suppress(subprocess.TimeoutExpired):
                app.wait(HALT_WAIT_SECONDS)
            if app.returncode == 0:
                _say(f"the app committed the halt height {halt_height} and stopped")
                return 0
        if app.poll() is not None:
            _say(f"the app exited with code {app.returncode}; see {home.logs / 'app.log'}")
            return 1
        if comet.poll() is not None:
            _say(f"cometbft exited with code {comet.returncode}; see {home.logs / 'cometbft.log'}")
            return 1
        time.sleep(0.5)


def _announce(
    home: NodeHome, cfg: NodeConfig, app: subprocess.Popen[bytes], comet: subprocess.Popen[bytes]
) -> None:
    pids = f"pid app={app.pid} cometbft={comet.pid}"
    lines = [
        f"ModernTensor node running (chain {cfg.chain_id}, {pids})",
        f"  RPC               {cfg.rpc_url}",
        f"  cometbft metrics  http://127.0.0.1:{cfg.prometheus_port}/metrics",
    ]
    if cfg.app_metrics_port:
        lines.append(f"  app metrics       {cfg.app_metrics_url}")
    lines += [f"  ABCI              {cfg.abci_address}", f"  logs              {home.logs}{os.sep}"]
    dev = home.keyring / "dev.json"
    if dev.exists():
        address = json.loads(dev.read_text())["address"]
        mt = f".venv/bin/moderntensor --home {home.root}"
        if cfg.rpc_url != DEFAULT_NODE:  # the CLI's default --node is the default RPC port
            mt += f" --node {cfg.rpc_url}"
        lines += [
            f"  dev key           {address}  (funded in genesis)",
            "Send a first transfer from another terminal:",
            f"  {mt} keys add alice",
            f"  {mt} tx transfer --from dev --to $({mt} keys show alice) --amount 1.5mdt",
            f"  {mt} query account $({mt} keys show alice)",
        ]
    lines.append("Press Ctrl-C (or run `node stop`) to stop.")
    _say("\n".join(lines))
