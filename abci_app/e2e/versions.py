"""The previous app version, for the upgrade perturbation: its real source, from git.

``e2e/previous_version.toml`` pins the commit of the previous app version (``commit``) and the
app version it runs (``app_version``). The runner extracts that commit's tree with ``git
archive`` and generates its protobuf stubs with its own ``scripts/gen_proto.py``, then runs its
``python -m abci_app`` with ``PYTHONPATH`` pointing there: the previous code and state schema,
not a flag of the current code. A checkout without that commit (a shallow clone) cannot run the
upgrade: the error says so.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from ..node.cometbft import REPO_ROOT

PIN = REPO_ROOT / "e2e" / "previous_version.toml"


class VersionError(Exception):
    """The previous version cannot be prepared (no pin, commit missing, stubs failed)."""


def pinned() -> tuple[str, int]:
    """(commit, app version) of the previous version."""
    try:
        data = tomllib.loads(PIN.read_text())
        return str(data["commit"]), int(data["app_version"])
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as e:
        raise VersionError(f"cannot read {PIN.name}: {e}") from None


def previous_version(cache: Path) -> Path:
    """A source tree of the previous version under ``cache`` (made once), ready to run."""
    commit, _ = pinned()
    dest = cache / commit[:12]
    if (dest / ".ready").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit],
        capture_output=True,
    )
    if archive.returncode != 0:
        raise VersionError(
            f"the previous version {commit[:12]} is not in this git checkout (a shallow "
            f"clone? fetch the full history): {archive.stderr.decode().strip()}"
        )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    gen = subprocess.run(
        [sys.executable, "scripts/gen_proto.py"], cwd=dest, capture_output=True, text=True
    )
    if gen.returncode != 0:
        raise VersionError(f"generating the previous version's stubs failed: {gen.stderr}")
    (dest / ".ready").write_text(commit + "\n")
    return dest
