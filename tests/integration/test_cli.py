"""The `moderntensor` command against a live node, and its error paths (no tracebacks)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from harness import REPO, LocalNode, free_ports, run_cli, wait_until

from abci_app.cli.main import cli
from abci_app.client.rpc import RPCClient
from abci_app.node.home import NodeHome

pytestmark = pytest.mark.integration


mt = run_cli


def test_cli_transfer_query_and_status(node_factory: type) -> None:
    n: LocalNode = node_factory()
    n.init().start(min_height=2)
    home, url = n.root, n.rpc_url
    alice = mt(home, "keys", "add", "alice")
    assert alice.returncode == 0, alice.stderr
    addr = mt(home, "keys", "show", "alice").stdout.strip()
    assert addr.startswith("mt1")
    sent = mt(
        home,
        "-o",
        "json",
        "tx",
        "transfer",
        "--from",
        "dev",
        "--to",
        addr,
        "--amount",
        "1.5mdt",
        node=url,
    )
    assert sent.returncode == 0, sent.stderr
    result = json.loads(sent.stdout)
    assert result["code"] == 0 and result["height"] > 0
    q = mt(home, "-o", "json", "query", "account", addr, "--prove", node=url)
    assert q.returncode == 0, q.stderr
    data = json.loads(q.stdout)
    assert data["balance"] == "1500000000" and data["proof"]["verified"] is True
    st = json.loads(mt(home, "-o", "json", "status", node=url).stdout)
    assert st["chain_id"] == "mt-test-1" and st["latest_block_height"] >= result["height"]
    # an overspend from alice is refused with its code and the balance in the message
    over = mt(
        home, "tx", "transfer", "--from", "alice", "--to", addr, "--amount", "100mdt", node=url
    )
    assert over.returncode == 1
    assert "code 102" in over.stderr and "balance 1499999000" in over.stderr
    listed = json.loads(mt(home, "-o", "json", "keys", "list").stdout)
    assert sorted(k["name"] for k in listed) == ["alice", "dev"]

    # the table-driven queries, in process against the node: text renderers, JSON, rejections
    def q(*args: str) -> tuple[int, str]:
        res = CliRunner().invoke(cli, ["--home", str(home), "--node", url, *args])
        return res.exit_code, res.output

    validators = json.loads(q("-o", "json", "query", "staking", "validators")[1])["validators"]
    op, moniker = validators[0]["operator"], validators[0]["moniker"]
    code, text = q("query", "staking", "validators")
    assert code == 0 and text.startswith(moniker) and op in text and "power" in text
    code, text = q("query", "staking", "validators", "--limit", "1")
    assert code == 0 and text.startswith(moniker) and "next page" not in text  # one validator
    code, text = q("query", "staking", "validators", "--limit", "1001")
    assert code == 2 and "1001" in text  # refused before asking the node
    code, text = q("query", "staking", "delegations", addr, "--next-key", "zz")
    assert code == 1 and "rejected with code 201 (InvalidQuery)" in text and "hex" in text
    code, text = q("query", "staking", "validator", op)  # no renderer: JSON in text mode too
    assert code == 0 and json.loads(text)["operator"] == op
    code, text = q("query", "staking", "rewards", op)
    assert code == 0 and "commission" in text and "total" in text
    assert json.loads(q("query", "params")[1])["chain_id"] == "mt-test-1"
    assert q("subnet", "list") == (0, "(no subnets)\n")
    assert q("subnet", "stake", addr) == (0, "(no subnet stake)\n")
    code, text = q("subnet", "lock-cost")
    assert code == 0 and text.startswith("lock cost ") and text.endswith(" MDT\n")
    code, text = q("subnet", "hyperparams", "1")
    assert code == 1 and "rejected with code 130 (UnknownSubnet)" in text


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (
            ["tx", "transfer", "--from", "dev", "--to", "mt1nothing", "--amount", "5"],
            2,
            "invalid address",
        ),
        (
            [
                "tx",
                "transfer",
                "--from",
                "ghost",
                "--to",
                "mt1qyqszqgpqyqszqgpqyqszqgpqyqszqgp7j2gd5",
                "--amount",
                "5",
            ],
            1,
            "no key named 'ghost'",
        ),
        (
            ["tx", "transfer", "--from", "dev", "--to", "x", "--amount", "-3"],
            2,
            "amount must be positive",
        ),
        (
            ["tx", "transfer", "--from", "dev", "--to", "x", "--amount", "1.0000000001mdt"],
            2,
            "9 decimals",
        ),
        (["tx", "transfer", "--from", "dev"], 2, "Missing option"),
        (["query", "account", "mt1zzz"], 2, "invalid address"),
        (
            ["tx", "transfer", "--from", "dev", "--to", "x", "--amount", "infmdt"],
            2,
            "not an amount",
        ),
        (
            ["tx", "transfer", "--from", "dev", "--to", "x", "--amount", "18446744073709551616"],
            2,
            "largest amount",
        ),
        (["keys", "list", "-o", "json", "--bogus"], 2, "No such option"),
        (["status"], 1, "did not answer"),
        (["keys", "add", "bad name!"], 1, "invalid key name"),
        (["node", "init", "--set", "nosuch.key=1"], 1, "no key 'key' in section [nosuch]"),
        (["bogus"], 2, "No such command"),
    ],
)
def test_cli_errors_are_one_clear_line(
    tmp_path: Path, args: list[str], code: int, needle: str
) -> None:
    (tmp_path / "keyring").mkdir()
    from abci_app.client.keyring import Keyring

    Keyring(tmp_path / "keyring", backend="test").add("dev")
    dead = f"http://127.0.0.1:{free_ports(1)[0]}"
    res = mt(tmp_path / "home" if args[0] == "node" else tmp_path, *args, node=dead)
    assert res.returncode == code, (res.stdout, res.stderr)
    assert needle in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and res.stderr.startswith("Error: ")


def test_node_start_resumes_the_same_chain(tmp_path: Path, cometbft_bin: Path) -> None:
    """What `make run` does twice: init once, start, stop, start again on the same data."""
    rpc_port, p2p, abci_port, prom, app_metrics = free_ports(5)
    home = tmp_path / "data"
    init = mt(
        home,
        "node",
        "init",
        "--rpc-port",
        str(rpc_port),
        "--p2p-port",
        str(p2p),
        "--abci-port",
        str(abci_port),
        "--prometheus-port",
        str(prom),
        "--app-metrics-port",
        str(app_metrics),
        "--set",
        "consensus.timeout_commit=200ms",
    )
    assert init.returncode == 0, init.stderr
    again = mt(home, "node", "init")
    assert again.returncode == 1 and "already initialised" in again.stderr
    url = f"http://127.0.0.1:{rpc_port}"

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "abci_app", "--home", str(home), "node", "start"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
            start_new_session=True,
        )

    def height() -> int:
        with RPCClient(url, timeout=2, retries=0) as c:
            return c.latest_height()

    proc = start()
    try:
        first = wait_until(lambda: height() >= 3 and height(), 60, "height 3")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert f"RPC               {url}" in out and "dev key" in out and "node stopped" in out
    assert f"app metrics       http://127.0.0.1:{app_metrics}/metrics" in out
    assert NodeHome(home).state_db.exists()
    exported = tmp_path / "exported.json"
    res = mt(home, "genesis", "export", "--out", str(exported))
    assert res.returncode == 0, res.stderr
    assert mt(home, "genesis", "validate", str(exported)).returncode == 0
    assert int(json.loads(exported.read_text())["initial_height"]) > first
    proc = start()
    try:
        resumed = wait_until(lambda: height() >= first + 2 and height(), 60, "more blocks")
        assert resumed > first
        with RPCClient(url) as c:
            assert c.status()["node_info"]["network"] == "moderntensor-local-1"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=30)


def test_genesis_workflow_through_the_cli(tmp_path: Path, cometbft_bin: Path) -> None:
    """Coordinator and two validators build a genesis the gentx way, all through the CLI."""
    g = tmp_path / "genesis.json"
    assert (
        mt(
            tmp_path, "genesis", "init", str(g), "--chain-id", "mt-cli-1", "--param", "min_fee=2000"
        ).returncode
        == 0
    )
    for i in range(2):
        vhome = tmp_path / f"v{i}"
        subprocess.run(
            [str(cometbft_bin), "init", "--home", str(vhome / "cometbft")],
            check=True,
            capture_output=True,
        )
        # a validator's operator key: the default `file` backend, passphrase from a 0600 file
        secret = tmp_path / f"v{i}.pass"
        secret.write_text("validator passphrase\n")
        secret.chmod(0o600)
        pf = ("--passphrase-file", str(secret))
        assert mt(vhome, "keys", "add", "op", *pf).returncode == 0
        assert '"seed"' not in (vhome / "keyring" / "op.json").read_text()
        addr = mt(vhome, "keys", "show", "op").stdout.strip()  # no passphrase needed
        assert mt(tmp_path, "genesis", "add-account", str(g), addr, "20000mdt").returncode == 0
        gentx = tmp_path / f"v{i}.gentx.json"
        res = mt(
            vhome,
            "genesis",
            "gentx",
            "--from",
            "op",
            "--amount",
            "10000mdt",
            "--moniker",
            f"v{i}",
            "--chain-id",
            "mt-cli-1",
            "--out",
            str(gentx),
            *pf,
        )
        assert res.returncode == 0, res.stderr
        res = mt(tmp_path, "genesis", "add-validator", str(g), str(gentx))
        assert res.returncode == 0, res.stderr
    again = mt(tmp_path, "genesis", "add-validator", str(g), str(tmp_path / "v0.gentx.json"))
    assert again.returncode == 1 and "more than one validator" in again.stderr
    wrong_chain = tmp_path / "wrong.gentx.json"
    mt(
        tmp_path / "v1",
        "genesis",
        "gentx",
        "--from",
        "op",
        "--amount",
        "1mdt",
        "--moniker",
        "x",
        "--chain-id",
        "other",
        "--out",
        str(wrong_chain),
        "--passphrase-file",
        str(tmp_path / "v1.pass"),
    )
    bad = mt(tmp_path, "genesis", "add-validator", str(g), str(wrong_chain))
    assert bad.returncode == 1 and "signature does not verify" in bad.stderr
    ok = mt(tmp_path, "-o", "json", "genesis", "validate", str(g))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {
        "valid": True,
        "accounts": 2,
        "validators": 2,
        "supply": str(40_000 * 10**9),
    }
    broken = tmp_path / "broken.json"
    broken.write_text(g.read_text().replace('"min_fee": 2000', '"min_fee": -1'))
    res = mt(tmp_path, "genesis", "validate", str(broken))
    assert res.returncode == 1 and "params.min_fee" in res.stderr and "Traceback" not in res.stderr
