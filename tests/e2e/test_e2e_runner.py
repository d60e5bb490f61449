"""The e2e runner on the short manifest (what `make test` runs of it): a 4-validator localnet
under transfers, staking and a subnet; a validator killed, paused, restarted, disconnected
through the P2P proxies and crashed inside Commit; a full node joining by state sync that is
crashed in the middle of its first restore. Every invariant must hold, and the report must show
that each fault really happened (a run that silently skipped them would prove nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness import REPO, run_cli

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
    res = run_cli(
        tmp_path,
        "-o",
        "json",
        "e2e",
        "run",
        str(REPO / "e2e" / "manifests" / "short.toml"),
        "--workdir",
        str(tmp_path / "runs"),
        timeout=540,
    )
    assert res.stdout, res.stderr
    (report,) = json.loads(res.stdout)
    failed = [c for c in report["checks"] if not c["held"]]
    assert res.returncode == 0 and report["held"], (failed, res.stderr[-3000:])
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
