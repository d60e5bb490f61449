"""The e2e runner on the short manifest (what `make test` runs of it): a 4-validator localnet
under transfers, staking and a subnet; a validator killed, paused, restarted, disconnected
through the P2P proxies and crashed inside Commit; a full node joining by state sync that is
crashed in the middle of its first restore. Every invariant must hold, and the report must show
that each fault really happened (a run that silently skipped them would prove nothing)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO, run_manifest, wait_until

pytestmark = pytest.mark.e2e

EXPECTED_CHECKS = {
    "every node up reaches height",
    "identical block and app hashes at every common height",
    "app hash in H+1 = the app's own after H",
    "every accepted tx committed exactly once and queryable",
    "validator updates take effect at H+2",
    "state-synced nodes' block stores start at a snapshot height",
    "state invariants (supply = balances, pools = records) on every node's database",
    "no process over",
    "the workload ran: every enabled kind of tx accepted",
}


@pytest.mark.timeout(600)
def test_short_manifest_every_invariant_holds(tmp_path: Path, cometbft_bin: Path) -> None:
    report = run_manifest(tmp_path, "short", timeout=540)
    done = " | ".join(report["perturbations"])
    for what in (
        "killed validator1 (SIGKILL)",
        "paused validator2",
        "restarted validator3",
        "crashed validator1 at commit:after_write",
        "P2P links of validator2",
        "crashed full0 at snapshot:restore",
    ):
        assert what in done, done
    names = " | ".join(c["name"] for c in report["checks"])
    for name in EXPECTED_CHECKS:
        assert name in names, names
    after_steps = [c for c in report["checks"] if c["name"].startswith("after ")]
    assert len(after_steps) == 6  # liveness and agreement checked after every perturbation
    details = report["details"]
    kinds = details["tx_kinds"]
    assert kinds["transfer"] >= 100
    for kind in ("delegate", "redelegate", "undelegate", "register_subnet", "set_weights"):
        assert kinds.get(kind, 0) >= 1, kinds
    assert report["txs_committed"] == details["accepted_txs"]
    assert details["heights_compared"] >= 40
    assert details["proxied_bytes"] > 100_000  # P2P traffic really went through the proxies
    updates = next(c for c in report["checks"] if c["name"].startswith("validator updates"))
    assert "updates checked" in updates["detail"]  # delegations changed powers: not vacuous


TINY = """chain_id = "e2e-sig-1"
validators = 2
blocks = 500
timeout_seconds = 300
[workload]
transfers_per_block = 2
"""


def processes_naming(folder: Path) -> list[int]:
    """Pids whose command line names ``folder`` (only this test's processes do)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(folder).encode() in argv:
                pids.append(int(entry.name))
    return pids


@pytest.mark.timeout(180)
def test_sigterm_stops_every_node_the_runner_started(tmp_path: Path, cometbft_bin: Path) -> None:
    """A CI job's timeout sends SIGTERM: the runner must stop its nodes (they run in sessions of
    their own) and say so in one line. Before, SIGTERM killed the runner at once and every
    node's app and cometbft went on running."""
    manifest = tmp_path / "tiny.toml"
    manifest.write_text(TINY)
    work = tmp_path / "runs"
    runner = subprocess.Popen(
        [sys.executable, "-m", "abci_app", "e2e", "run", str(manifest), "--workdir", str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        wait_until(
            lambda: len(set(processes_naming(work)) - {runner.pid}) >= 4,
            90,
            "the two nodes' apps and cometbfts",
        )
        runner.send_signal(signal.SIGTERM)
        _, err = runner.communicate(timeout=60)
        assert runner.returncode == 1, err
        assert "Traceback" not in err
        assert (
            err.strip()
            .splitlines()[-1]
            .startswith("Error: tiny: stopped by SIGTERM; every node it started is stopped")
        ), err
        assert processes_naming(work) == []
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(10)
        for pid in processes_naming(work):  # only if the test failed: never leave them
            os.kill(pid, signal.SIGKILL)
