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


_GO_UNITS_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9}
_GO_UNITS_NS |= {"m": 60 * 10**9, "h": 3600 * 10**9}
_GO_PART = re.compile(r"(\d+)(?:\.(\d+))?(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> int:
    """A Go ``time.Duration`` string as CometBFT's config.toml writes it ("1s", "200ms",
    "1m30s", "1.5s"; no sign) in nanoseconds, floored.

    Raises:
        CometBFTError: not such a duration.
    """
    if text == "0":
        return 0
    pos, total = 0, 0
    while pos < len(text) or pos == 0:
        m = _GO_PART.match(text, pos) if len(text) <= 64 else None
        if m is None:
            raise CometBFTError(f"{text[:64]!r} is not a duration like 1s or 200ms")
        whole, frac, unit = m.group(1), m.group(2) or "", m.group(3)
        scale = _GO_UNITS_NS[unit]
        total += int(whole) * scale + int(frac or "0") * scale // 10 ** len(frac)
        pos = m.end()
    return total


def block_interval_ns(config_toml: Path) -> int | None:
    """The shortest interval between two blocks of a node with this config.toml: its
    ``consensus.timeout_commit`` (after a commit the node waits that long before the next
    height), or None when it does not wait (``skip_timeout_commit``) or the value is 0.

    Raises:
        CometBFTError: an unreadable config or a malformed duration.
    """
    try:
        consensus = tomllib.loads(config_toml.read_text()).get("consensus", {})
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise CometBFTError(f"cannot read {config_toml.name}: {e}") from None
    if consensus.get("skip_timeout_commit"):
        return None
    interval = parse_go_duration(str(consensus.get("timeout_commit", "1s")))
    return interval or None
