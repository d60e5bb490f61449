"""The upgrade e2e: a localnet created and run by the previous app version (its real code, from
git: e2e/previous_version.toml) halts at the agreed height, restarts on this version, migrates
once and continues; every invariant holds and the headers switch app version exactly after the
migration block."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import run_manifest

from abci_app.upgrades import APP_VERSION

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(400)
def test_previous_version_halts_and_the_current_one_continues(
    tmp_path: Path, cometbft_bin: Path
) -> None:
    report = run_manifest(tmp_path, "upgrade", timeout=360)
    (done,) = report["perturbations"]
    assert "halted all 4 nodes at 14 on the previous version" in done
    version = next(c for c in report["checks"] if c["name"].startswith("app version"))
    new = f"(1, 1, {APP_VERSION})"  # version 1 migrates through every step to this one
    assert new in version["detail"] and f"Info {APP_VERSION}" in version["detail"]
    assert report["blocks"] >= 30
    after = report["details"]["txs_committed_after_halt"]
    assert after >= 20 and report["txs_committed"] - after >= 20  # both versions took txs
