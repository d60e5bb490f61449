"""A short coverage-guided fuzz run of every target (atheris) that must find nothing, and the
inputs fuzzing once found, kept as regression cases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from targets import TARGETS, fuzz_genesis

REPO = Path(__file__).resolve().parents[2]
SECONDS = 15


def test_bounded_fuzz_run_of_every_target_finds_nothing(tmp_path: Path) -> None:
    """One process fuzzes all targets (``all``: the first byte picks one) for SECONDS; `make
    fuzz` runs each target alone for longer."""
    assert {"tx", "frames", "genesis", "query"} < set(TARGETS)
    res = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "fuzz.py"), "all", "--seconds", str(SECONDS)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=SECONDS + 120,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    runs = [line for line in out.splitlines() if line.startswith("Done ")]
    assert runs and int(runs[-1].split()[1]) > 1000, out[-2000:]  # it really ran
    assert not list(tmp_path.glob("crash-*"))


def test_gentx_with_a_short_signature_is_invalid_genesis_not_a_crash() -> None:
    """Found by the genesis target: PyNaCl raised its own ValueError for a signature that was
    not 64 bytes, so `genesis validate` printed a traceback and InitChain stopped the node."""
    from chain_driver import genesis_app_state

    from abci_app.errors import InvalidGenesis
    from abci_app.genesis import parse_app_state

    state = genesis_app_state(1)
    state["gen_txs"][0]["signature"] = "ab" * 10  # type: ignore[index]
    with pytest.raises(InvalidGenesis, match="signature must be 64 bytes"):
        parse_app_state(json.dumps(state).encode(), "mt-test-1")
    fuzz_genesis(json.dumps(state).encode())
