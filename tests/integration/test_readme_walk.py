"""The README, walked as a new user would: every ``sh`` block is marked ``<!-- readme-walk: run
-->`` or ``<!-- readme-walk: skip: reason -->`` on the line above it, and the ``run`` blocks
are run in order with bash against a real node, from a folder laid out like the repository
after ``make run`` (``.venv``, ``.data`` = the node's home, ``examples``)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import REPO, LocalNode

pytestmark = pytest.mark.integration

MARK = re.compile(r"^<!-- readme-walk: (run|skip: .+) -->$")
ALIAS = 'alias mt=".venv/bin/moderntensor --home .data"'


def blocks(text: str) -> list[tuple[int, str, str]]:
    """(line number, mark, body) of every fenced block with a language."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```") and len(line) > 3:
            lang = line[3:].strip()
            prev = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
            end = next(k for k in range(i + 1, len(lines)) if lines[k].startswith("```"))
            m = MARK.match(prev.strip())
            mark = m.group(1) if m else f"unmarked {lang}"
            out.append((i + 1, mark, "\n".join(lines[i + 1 : end])))
            i = end
        i += 1
    return out


README = (REPO / "README.md").read_text()


def test_every_shell_block_is_marked() -> None:
    found = blocks(README)
    unmarked = [(n, mark) for n, mark, _ in found if mark == "unmarked sh"]
    assert not unmarked, f"README sh blocks without a readme-walk mark: {unmarked}"
    assert sum(1 for _, mark, _ in found if mark == "run") >= 4


@pytest.fixture(scope="module")
def walk_dir(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("walk")
    node = LocalNode(base / "home").init()
    node.start()
    work = base / "repo"
    work.mkdir()
    (work / ".venv").symlink_to(REPO / ".venv")
    (work / ".data").symlink_to(node.root)
    (work / "examples").symlink_to(REPO / "examples")
    os.environ["_WALK_NODE"] = node.rpc_url
    yield work
    node.stop()


def test_the_runnable_blocks_run(walk_dir: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MODERNTENSOR_")},
        "MODERNTENSOR_NODE": os.environ["_WALK_NODE"],
    }
    ran = 0
    for line, mark, body in blocks(README):
        if mark != "run":
            continue
        script = "set -euo pipefail\nshopt -s expand_aliases\n" + ALIAS + "\n" + body + "\n"
        res = subprocess.run(
            ["bash", "-c", script],
            cwd=walk_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
        assert res.returncode == 0, (
            f"README block at line {line}:\n{body}\n{res.stdout}{res.stderr}"
        )
        assert "Traceback" not in res.stderr
        ran += 1
    assert ran >= 4
