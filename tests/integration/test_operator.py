"""The operator's CLI on one shared real node: commit-reveal state that survives a refused
commit, offline signing, proofs through the CLI, node stop and doctor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import (
    CliCost,
    LocalNode,
    addr_of,
    on_a_terminal,
    run_cli,
    seeded_key,
    wait_until,
)

from abci_app.client.keyring import Keyring

pytestmark = pytest.mark.integration

NAMES = ["owner", "val", "cold"]


class Op:
    def __init__(self, node: LocalNode) -> None:
        self.node = node
        self.cli = CliCost(node)
        self.keys = {
            name: Keyring(node.home.keyring, backend="test").add(name, bytes(seeded_key(200 + i)))
            for i, name in enumerate(NAMES)
        }

    def mt(self, *args: str, ok: bool = True, home: Path | None = None) -> Any:
        res = self.cli.run(home or self.node.root, "-o", "json", *args)
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
    op.mt("subnet", "register-neuron", "1", "--from", "val")
    # The refused commit must reach the chain while the first is pending, and the reveal must
    # land in its window: the tempo holds CliCost.window of the slowest calls so far (at least
    # 10 blocks; in force from the next block)
    tempo = op.cli.window(10)
    op.mt("subnet", "set-hyperparams", "1", f"tempo={tempo}", "--from", "owner")
    # weights need a validator permit: stake on the hotkey; the first epoch after it starts its
    # stake floor, the second grants the permit (about two tempos)
    val = op.keys["val"].address
    op.mt("subnet", "add-stake", "1", "--hotkey", val, "--amount", "10mdt", "--from", "val")
    wait_until(
        lambda: op.query("/subnet/1/metagraph")["neurons"][0]["validator_permit"],
        120 + 2 * tempo,
        "the validator permit of the second epoch",
    )
    first = op.mt("subnet", "commit-weights", "1", "--weights", "0=65535", "--from", "val")
    reveal_from = int(_event(first, "commit_weights", "reveal_from"))
    reveal_until = int(_event(first, "commit_weights", "reveal_until"))
    assert reveal_until - reveal_from == tempo  # the window is the next epoch's
    saved = list((op.node.root / "weight-commits").glob("*.json"))
    assert len(saved) == 1
    # a second commit is refused by the chain: the saved entry stays the first's
    second = op.mt("subnet", "commit-weights", "1", "--weights", "0=1", "--from", "val", ok=False)
    assert second.returncode == 1 and "code 152" in second.stderr, second.stderr
    assert f"reveal it at heights {reveal_from}..{reveal_until}" in second.stderr
    assert list((op.node.root / "weight-commits").glob("*.json")) == saved
    op.node.wait_height(reveal_from, timeout=tempo * 0.6 + 30)
    done = op.mt("subnet", "reveal-weights", "1", "--from", "val")
    assert done["code"] == 0 and reveal_from <= done["height"] <= reveal_until
    row = op.query("/subnet/1/weights/0")
    assert row["commit"] is None and row["weights"] == [[0, 65535]]
    bad = op.mt("subnet", "reveal-weights", "1", "--from", "val", ok=False)
    assert bad.returncode == 1 and "no pending commit" in bad.stderr


def test_offline_signing_flow(op: Op, tmp_path: Path) -> None:
    """generate (online) -> sign with --offline (no node) -> broadcast (online)."""
    to = op.keys["owner"].address
    unsigned = tmp_path / "tx.json"
    gen = run_cli(
        op.node.root,
        "tx",
        "transfer",
        "--from",
        "cold",
        "--to",
        to,
        "--amount",
        "7",
        "--generate-only",
        node=op.node.rpc_url,
    )
    assert gen.returncode == 0, gen.stderr
    unsigned.write_text(gen.stdout)
    doc = json.loads(gen.stdout)
    assert "signature" not in doc and doc["signer"] == op.keys["cold"].address
    nonce = int(op.query(f"/account/{op.keys['cold'].address}")["nonce"])
    # the offline machine: a dead node URL proves nothing is asked of the network
    dead = "http://127.0.0.1:9"
    signed = tmp_path / "signed.json"
    res = run_cli(
        op.node.root,
        "tx",
        "sign",
        str(unsigned),
        "--from",
        "cold",
        "--offline",
        "--nonce",
        str(nonce),
        "--chain-id",
        "mt-test-1",
        "--out",
        str(signed),
        node=dead,
    )
    assert res.returncode == 0, res.stderr
    encoded = run_cli(op.node.root, "tx", "encode", str(signed)).stdout.strip()
    decoded = json.loads(run_cli(op.node.root, "tx", "decode", encoded).stdout)
    assert decoded["hash"] == json.loads(signed.read_text())["hash"]
    before = int(op.query(f"/account/{to}")["balance"])
    done = op.mt("tx", "broadcast", str(signed))
    assert done["code"] == 0 and done["hash"] == decoded["hash"]
    assert int(op.query(f"/account/{to}")["balance"]) == before + 7
    again = op.mt("tx", "broadcast", str(signed), ok=False)  # a replay is refused
    assert again.returncode == 1 and "already exists" in again.stderr  # the mempool cache


def test_two_no_wait_transfers_and_global_options_after_the_command(op: Op) -> None:
    to = op.keys["val"].address
    sent = [
        op.mt("tx", "transfer", "--from", "owner", "--to", to, "--amount", str(i + 1), "--no-wait")
        for i in range(2)
    ]
    with op.node.rpc() as rpc:
        done = [rpc.wait_for_tx(s["hash"]) for s in sent]
    assert [d.code for d in done] == [0, 0]
    res = run_cli(op.node.root, "keys", "show", "owner", "--output", "json")
    assert res.returncode == 0 and json.loads(res.stdout)["address"] == op.keys["owner"].address


def test_prove_through_the_cli_catches_a_lying_node(op: Op) -> None:
    from lying_proxy import LIE_BALANCE, LyingProxy

    addr = op.keys["owner"].address
    honest = op.mt("query", "account", addr, "--prove")
    assert honest["proof"]["verified"] is True
    # the proven header's time is shown: an answer at an old height shows its age
    with op.node.rpc() as rpc:
        header = rpc.call("header", height=str(honest["proof"]["header_height"]))["header"]
    assert header["time"].startswith(honest["proof"]["header_time"][:-1]), header["time"]
    proxy = LyingProxy(op.node.rpc_url)
    try:
        proxy.lie = "account_json"
        shown = run_cli(op.node.root, "-o", "json", "query", "account", addr, node=proxy.url)
        assert int(json.loads(shown.stdout)["balance"]) == LIE_BALANCE  # unproven: the lie
        proven = run_cli(
            op.node.root, "-o", "json", "query", "account", addr, "--prove", node=proxy.url
        )
        assert int(json.loads(proven.stdout)["balance"]) != LIE_BALANCE  # proven: the truth
        for lie in ("store_value", "forged_commit"):
            proxy.lie = lie
            bad = run_cli(op.node.root, "query", "account", addr, "--prove", node=proxy.url)
            assert bad.returncode == 1 and bad.stderr.startswith("Error: "), bad.stderr
            assert "Traceback" not in bad.stderr
    finally:
        proxy.close()


def test_doctor_on_a_healthy_validator(op: Op) -> None:
    checks = {c["name"]: c for c in op.mt("doctor", "--key", "dev")}
    assert checks["node"]["status"] == "ok" and checks["sync"]["status"] == "ok"
    assert checks["validator"]["status"] == "ok" and "active" in checks["validator"]["detail"]
    assert checks["signing"]["status"] == "ok"
    val = {c["name"]: c for c in op.mt("doctor", "--key", "val")}
    assert any(n.startswith("subnet 1 uid 0") for n in val), val
    # a pending commit: doctor shows the reveal window the chain fixed for it (a long tempo
    # keeps the window ahead while doctor runs)
    op.mt("subnet", "set-hyperparams", "1", "tempo=500", "weights_rate_limit=0", "--from", "owner")
    done = op.mt("subnet", "commit-weights", "1", "--weights", "0=65535", "--from", "val")
    start, end = (_event(done, "commit_weights", k) for k in ("reveal_from", "reveal_until"))
    commit = {c["name"]: c for c in op.mt("doctor", "--key", "val")}["subnet 1 uid 0 commit"]
    assert commit["status"] == "ok", commit
    assert f"reveal at heights {start}..{end}" in commit["detail"], commit
    down = run_cli(op.node.root, "doctor", node="http://127.0.0.1:9")
    assert down.returncode == 1 and "FAIL" in down.stdout and "node start" in down.stdout


def test_bench_load_says_why_against_an_unfunded_chain(op: Op) -> None:
    res = run_cli(op.node.root, "bench", "load", "--txs", "10", node=op.node.rpc_url)
    assert res.returncode == 1 and "holds nothing on this chain" in res.stderr, res.stderr


def test_a_value_moving_command_asks_on_a_terminal(op: Op) -> None:
    to = op.keys["val"].address
    base = ["--home", str(op.node.root), "--node", op.node.rpc_url, "tx", "transfer"]
    argv = [*base, "--from", "owner", "--to", to, "--amount", "3"]
    before = int(op.query(f"/account/{to}")["balance"])
    code, screen = on_a_terminal(argv, b"n\n")
    assert code == 1 and "[y/N]" in screen and "Error: aborted" in screen, screen
    assert f"transfer to={to} amount=0.000000003 MDT" in screen, screen  # what it would sign
    assert int(op.query(f"/account/{to}")["balance"]) == before  # nothing was sent
    # at a terminal with stdout piped (`-o json | jq`): still asked, on the terminal
    piped = op.node.root / "piped.json"
    code, screen = on_a_terminal([*argv, "-o", "json"], b"n\n", stdout_to=piped)
    assert code == 1 and "[y/N]" in screen and piped.read_text() == "", screen
    assert int(op.query(f"/account/{to}")["balance"]) == before
    code, screen = on_a_terminal([*argv, "--yes"], b"n\n")
    assert code == 0 and "[y/N]" not in screen and "committed at height" in screen, screen
