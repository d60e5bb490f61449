"""The optional ``[ml]`` extra (scikit-learn for the ``digits`` task, matplotlib for the demo's
chart): find what is missing, say the one command that installs it, or install it into the
running virtual environment (``subnet demo`` does, on first use)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shlex
import subprocess
import sys

ML_MODULES = {"sklearn": "scikit-learn", "matplotlib": "matplotlib"}


def missing_ml() -> list[str]:
    """Distribution names of the extra's packages that cannot be imported."""
    return [dist for mod, dist in ML_MODULES.items() if importlib.util.find_spec(mod) is None]


def ml_requirements() -> list[str]:
    """The extra's pinned requirements, as declared in pyproject.toml (``name==version``)."""
    reqs = importlib.metadata.requires("moderntensor") or []
    return [r.split(";")[0].strip() for r in reqs if "extra ==" in r and '"ml"' in r]


def install_command() -> str:
    """The one command that installs the extra into this interpreter's environment."""
    pins = " ".join(shlex.quote(r) for r in ml_requirements())
    return f"{shlex.quote(sys.executable)} -m pip install {pins}"


def in_virtualenv() -> bool:
    """Whether this interpreter runs in a virtual environment (where installing is safe)."""
    return sys.prefix != sys.base_prefix


def install_ml() -> int:
    """pip-install the extra's pins into this virtual environment; pip's exit code."""
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", *ml_requirements()]
    return subprocess.run(cmd, check=False).returncode
