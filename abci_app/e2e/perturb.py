"""The perturbations of a manifest, each applied and undone on a running e2e network.

* ``kill``: SIGKILL the node's app and cometbft, start them again at once;
* ``restart``: stop both gracefully (SIGTERM), start again;
* ``pause``: SIGSTOP both for ``duration_blocks`` blocks of the others, then SIGCONT;
* ``disconnect``: cut every P2P link of the node (its processes run on) for ``duration_blocks``;
* ``crash_at``: restart the app with ``MODERNTENSOR_CRASH_AT=point@H+2``; it must die by SIGKILL
  at that point; then start it normally (``init_chain:after`` and ``snapshot:restore`` are
  applied at the node's first start instead, see the runner);
* ``upgrade``: the network runs the previous version with ``--halt-height`` = at_height; every
  node must stop cleanly after committing it; all restart on the current version.

Every wait is bounded; a perturbation that cannot be applied as described raises
:class:`PerturbationFailed` (reported as a broken invariant, the run goes on).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

from ..crashpoints import ENV_VAR
from ..state.db import StateDB
from .manifest import Perturbation
from .network import Network, Node
from .workload import Workload

WAIT_BLOCKS_SECONDS = 120.0
CRASH_WAIT_SECONDS = 60.0
COMET_STOP_SECONDS = 10.0


class PerturbationFailed(Exception):
    """The node did not behave as the perturbation requires (e.g. no crash at the point)."""


def wait_blocks(
    height: Callable[[], int], target: int, timeout: float = WAIT_BLOCKS_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while height() < target:
        if time.monotonic() > deadline:
            raise PerturbationFailed(f"the others did not reach height {target} in {timeout:.0f}s")
        time.sleep(0.3)


def after_app_crash(net: Network, node: Node, point: str) -> None:
    """The app died: check it was SIGKILL at ``point``; let cometbft stop itself (a supervisor
    kills it after a while); start the node again normally."""
    code = node.procs["app"].returncode
    if code != -signal.SIGKILL:
        raise PerturbationFailed(f"{node.name}: the app exited with {code}, not SIGKILL")
    log = (node.home.logs / "app.log").read_text(errors="replace")
    if f"crash point {point} reached" not in log:
        raise PerturbationFailed(f"{node.name}: the app died but not at {point}")
    if net.wait_exit(node, "cometbft", COMET_STOP_SECONDS) is None:
        node.procs["cometbft"].kill()
        node.procs["cometbft"].wait(10)
    net.start(node)


def apply(net: Network, p: Perturbation, height: Callable[[], int], workload: Workload) -> str:
    """Apply and undo one perturbation; return what was done, for the report."""
    if p.action == "upgrade":
        return _upgrade(net, p, workload)
    node = net.nodes[p.node]
    if p.action == "kill":
        net.kill(node)
        net.start(node)
        return f"killed {node.name} (SIGKILL) and restarted it"
    if p.action == "restart":
        net.stop(node)
        net.start(node)
        return f"restarted {node.name}"
    if p.action == "pause":
        net.pause(node)
        try:
            wait_blocks(height, p.at_height + p.duration_blocks)
        finally:
            net.resume(node)
        return f"paused {node.name} for {p.duration_blocks} blocks"
    if p.action == "disconnect":
        links = net.hub.cut(node.name)
        try:
            wait_blocks(height, height() + p.duration_blocks)
            if not node.running():
                raise PerturbationFailed(f"{node.name} stopped while disconnected")
        finally:
            net.hub.mend(node.name)
        return f"cut {links} P2P links of {node.name} for {p.duration_blocks} blocks"
    if p.action == "crash_at":
        at = height() + 2
        net.stop(node)
        net.start(node, env={ENV_VAR: f"{p.point}@{at}"})
        if net.wait_exit(node, "app", CRASH_WAIT_SECONDS) is None:
            raise PerturbationFailed(f"{node.name} did not crash at {p.point} in time")
        after_app_crash(net, node, p.point)
        return f"crashed {node.name} at {p.point} (height {at}) and restarted it"
    raise PerturbationFailed(f"unknown action {p.action}")  # the manifest rules prevent it


def _upgrade(net: Network, p: Perturbation, workload: Workload) -> str:
    """Every node runs the previous version with --halt-height: wait until each has committed
    the halt height and stopped cleanly, then start them all on the current version."""
    nodes = [n for n in net.nodes.values() if n.started]
    deadline = time.monotonic() + WAIT_BLOCKS_SECONDS
    for n in nodes:
        code = net.wait_exit(n, "app", max(1.0, deadline - time.monotonic()))
        if code != 0:
            raise PerturbationFailed(
                f"{n.name}: the previous version did not halt cleanly ({code})"
            )
        if net.wait_exit(n, "cometbft", COMET_STOP_SECONDS) is None:
            net.stop(n)
    heights = {}
    for n in nodes:
        if n.kind == "seed":
            continue
        db = StateDB(n.home.state_db)
        heights[n.name] = db.height
        db.close()
    wrong = {k: h for k, h in heights.items() if h != p.at_height and k.startswith("validator")}
    if wrong:
        raise PerturbationFailed(f"nodes halted at other heights than {p.at_height}: {wrong}")
    net.on_previous = False
    for n in sorted(nodes, key=lambda n: n.kind != "validator"):
        net.start(n)
    workload.release()
    return (
        f"halted all {len(nodes)} nodes at {p.at_height} on the previous version, "
        "restarted them on this one"
    )
