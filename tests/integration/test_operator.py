"""The operator's CLI on one shared real node: commit-reveal state that survives a refused
commit, offline signing, proofs through the CLI, node stop and doctor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import LocalNode, addr_of, run_cli, seeded_key

from abci_app.client.keyring import Keyring

pytestmark = pytest.mark.integration

NAMES = ["owner", "val", "cold"]


class Op:
    def __init__(self, node: LocalNode) -> None:
        self.node = node
        self.keys = {
            name: Keyring(node.home.keyring, backend="test").add(name, bytes(seeded_key(200 + i)))
            for i, name in enumerate(NAMES)
        }

    def mt(self, *args: str, ok: bool = True, home: Path | None = None) -> Any:
        res = run_cli(home or self.node.root, "-o", "json", *args, node=self.node.rpc_url)
        if ok:
            assert res.returncode == 0, (args, res.stdout, res.stderr)
            return json.loads(res.stdout) if res.stdout.strip() else None
        return res

    def query(self, path: str) -> Any:
        with self.node.rpc() as rpc:
            res = rpc.abci_query(path)
            assert res.code == 0, res.log
            return res.json()


@pytest.fixture(scope="module")
def op(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[Op]:
    accounts = [(addr_of(seeded_key(200 + i)), 10**14) for i in range(len(NAMES))]
    node = LocalNode(tmp_path_factory.mktemp("operator") / "home", accounts=accounts).init()
    node.start(min_height=2)
    yield Op(node)
    node.stop()


def _event(done: dict[str, Any], kind: str, key: str) -> str:
    for ev in done["events"]:
        if ev["type"] == kind:
            for a in ev["attributes"]:
                if a["key"] == key:
                    return str(a["value"])
    raise AssertionError(f"no {kind}.{key} in {done['events']}")


def test_a_refused_commit_does_not_break_the_reveal(op: Op) -> None:
    assert op.mt("subnet", "register", "--from", "owner")["code"] == 0
    op.mt("subnet", "set-hyperparams", "1", "tempo=10", "--from", "owner")
    op.mt("subnet", "register-neuron", "1", "--from", "val")
    first = op.mt("subnet", "commit-weights", "1", "--weights", "0=65535", "--from", "val")
    reveal_from = int(_event(first, "commit_weights", "reveal_from"))
    saved = list((op.node.root / "weight-commits").glob("*.json"))
    assert len(saved) == 1
    # a second commit inside the rate limit is refused (138): the saved entry stays the first's
    second = op.mt("subnet", "commit-weights", "1", "--weights", "0=1", "--from", "val", ok=False)
    assert second.returncode == 1 and "code 138" in second.stderr, second.stderr
    assert list((op.node.root / "weight-commits").glob("*.json")) == saved
    op.node.wait_height(reveal_from)
    done = op.mt("subnet", "reveal-weights", "1", "--from", "val")
    assert done["code"] == 0
    row = op.query("/subnet/1/weights/0")
    assert row["commit"] is None
    bad = op.mt("subnet", "reveal-weights", "1", "--from", "val", ok=False)
    assert bad.returncode == 1 and "no pending commit" in bad.stderr
