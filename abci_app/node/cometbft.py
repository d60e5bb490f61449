"""Locating the pinned cometbft binary and writing its config.toml from our templates."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

COMETBFT_VERSION = "0.38.25"
REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / "cometbft-config"


class CometBFTError(Exception):
    """cometbft is missing, the wrong version, or a config key does not exist."""


def find_cometbft() -> Path:
    """$MODERNTENSOR_COMETBFT, else the repo's .tools/bin/cometbft, else cometbft on PATH."""
    candidates = [os.environ.get("MODERNTENSOR_COMETBFT"), str(REPO_ROOT / ".tools/bin/cometbft")]
    candidates.append(shutil.which("cometbft"))
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    raise CometBFTError("cometbft not found: run `make cometbft` (it installs v0.38.25)")


def cometbft_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    raise CometBFTError(f"cannot write {value!r} into config.toml")


def flatten(table: dict[str, Any], section: str = "") -> list[tuple[str, str, Any]]:
    """[(section, key, value)] for every leaf of a parsed TOML template, in file order."""
    out: list[tuple[str, str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            out.extend(flatten(value, f"{section}.{key}" if section else key))
        else:
            out.append((section, key, value))
    return out


def load_template(name: str, fill: dict[str, Any]) -> list[tuple[str, str, Any]]:
    path = TEMPLATES / f"{name}.toml"
    if not path.exists():
        raise CometBFTError(f"no config template {path.name} in {TEMPLATES.name}/")
    try:
        entries = flatten(tomllib.loads(path.read_text()))
    except tomllib.TOMLDecodeError as e:
        raise CometBFTError(f"template {path.name} is not valid TOML: {e}") from None

    def filled(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole:  # "{name}" alone takes the fill value with its type (int ports, counts)
            return fill[whole.group(1)]
        return value.format(**fill)

    try:
        return [(s, k, filled(v)) for s, k, v in entries]
    except KeyError as e:
        raise CometBFTError(f"template {path.name} needs a value for {e}") from None


def parse_override(text: str) -> tuple[str, str, Any]:
    """``section.key=value`` (value as a TOML literal if it parses, else a string)."""
    if "=" not in text:
        raise CometBFTError(f"override {text!r} must look like section.key=value")
    path, raw = text.split("=", 1)
    section, _, key = path.strip().rpartition(".")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return section, key, value


def patch_config(text: str, settings: list[tuple[str, str, Any]]) -> str:
    """Set each (section, key) in CometBFT's config.toml text; unknown keys are errors."""
    lines = text.splitlines()
    index: dict[tuple[str, str], int] = {}
    section = ""
    for i, line in enumerate(lines):
        m = re.match(r"^\s*\[([\w.-]+)\]\s*$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^([\w-]+)\s*=", line)
        if m:
            index[(section, m.group(1))] = i
    for sec, key, value in settings:
        where = index.get((sec, key))
        if where is None:
            raise CometBFTError(f"config.toml has no key {key!r} in section [{sec}]")
        lines[where] = f"{key} = {toml_literal(value)}"
    return "\n".join(lines) + "\n"
