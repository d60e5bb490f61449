"""The previous app version, for the upgrade perturbation: its real source, from git.

``e2e/previous_version.toml`` pins the commit of the previous app version (``commit``) and the
app version it runs (``app_version``). The runner extracts that commit's tree with ``git
archive`` and generates its protobuf stubs with its own ``scripts/gen_proto.py``, then runs its
``python -m abci_app`` with ``PYTHONPATH`` pointing there: the previous code and state schema,
not a flag of the current code.

A checkout without that commit (a shallow clone, as some CI systems make) falls back to
``e2e/previous/app-v<N>.tar.gz``: the same commit's ``abci_app``, ``scripts``, ``proto`` and
``pyproject.toml`` as ``git archive`` wrote them. tests/unit/test_upgrades.py checks that the
archive holds exactly that commit's files whenever the commit is present, so the two cannot drift.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from ..node.cometbft import REPO_ROOT

PIN = REPO_ROOT / "e2e" / "previous_version.toml"
ARCHIVE_DIR = REPO_ROOT / "e2e" / "previous"
ARCHIVED_PATHS = ("abci_app", "scripts", "proto", "pyproject.toml")
"""What of the previous version's tree is kept in its fallback archive (all the app needs)."""


def archive_path(app_version: int) -> Path:
    """The committed fallback archive of the previous version running ``app_version``."""
    return ARCHIVE_DIR / f"app-v{app_version}.tar.gz"


def git_tree(commit: str, paths: tuple[str, ...] = ()) -> bytes | None:
    """``git archive`` (tar) of ``commit`` (limited to ``paths``), or None when this checkout does
    not have the commit (a shallow clone) or is not a git checkout."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit, *paths],
            capture_output=True,
        )
    except OSError:
        return None
    return out.stdout if out.returncode == 0 else None


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
    commit, app_version = pinned()
    dest = cache / commit[:12]
    if (dest / ".ready").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    tree = git_tree(commit)
    if tree is not None:
        subprocess.run(["tar", "-x", "-C", str(dest)], input=tree, check=True)
    else:
        fallback = archive_path(app_version)
        if not fallback.is_file():
            raise VersionError(
                f"the previous version {commit[:12]} is neither in this git checkout (a shallow "
                f"clone?) nor archived as {fallback.name}"
            )
        subprocess.run(["tar", "-xzf", str(fallback), "-C", str(dest)], check=True)
    gen = subprocess.run(
        [sys.executable, "scripts/gen_proto.py"], cwd=dest, capture_output=True, text=True
    )
    if gen.returncode != 0:
        raise VersionError(f"generating the previous version's stubs failed: {gen.stderr}")
    (dest / ".ready").write_text(commit + "\n")
    return dest
