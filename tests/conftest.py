"""Shared fixtures. The cometbft binary must exist: `make test` installs it, so a missing one is
an error, never a skip."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import REPO, LocalNode

from abci_app.node.cometbft import CometBFTError, cometbft_version, find_cometbft


@pytest.fixture(scope="session")
def cometbft_bin() -> Path:
    try:
        binary = find_cometbft()
    except CometBFTError as e:
        pytest.fail(f"{e} (make test installs it)")
    assert cometbft_version(binary) == "0.38.25"
    return binary


@pytest.fixture(scope="session")
def prometheus_bin() -> Path:
    """Debian's Prometheus, unpacked into .tools by `make test` (a missing one is an error)."""
    env = os.environ.get("MODERNTENSOR_PROMETHEUS")
    binary = Path(env) if env else REPO / ".tools/prometheus/usr/bin/prometheus"
    if not binary.is_file():
        pytest.fail(f"prometheus not found at {binary} (make test installs it: make prometheus)")
    return binary


@pytest.fixture(scope="session")
def chromium_bin() -> Path:
    """Debian's Chromium (`make test` installs the package) for the explorer's browser test."""
    binary = Path(os.environ.get("MODERNTENSOR_CHROMIUM", "/usr/bin/chromium"))
    if not binary.is_file():
        pytest.fail(f"chromium not found at {binary} (make test installs it: make chromium)")
    return binary


@pytest.fixture
def node_factory(tmp_path: Path, cometbft_bin: Path) -> Iterator[type]:
    """Create LocalNodes in this test's temp folder; all are stopped at teardown."""
    made: list[LocalNode] = []

    def make(**kw: object) -> LocalNode:
        n = LocalNode(tmp_path / f"node{len(made)}", **kw)  # type: ignore[arg-type]
        made.append(n)
        return n

    yield make  # type: ignore[misc]
    for n in made:
        n.stop()
