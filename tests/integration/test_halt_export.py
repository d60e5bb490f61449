"""A coordinated restart the Cosmos way on a real node: ``node start --halt-height H`` commits H
and stops both processes cleanly; ``genesis export`` of the halted home becomes a genesis with
initial_height H+1 whose app state root is exactly the halted one; the chain restarted from it
keeps every balance and goes on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from harness import REPO, LocalNode, run_cli
from test_crash import ADDRS, START, Load, resync_nonces

from abci_app.address import to_bech32
from abci_app.modules.bank.state import Account
from abci_app.node.cometbft import find_cometbft
from abci_app.state.db import StateDB
from abci_app.state.keys import ACCOUNT

pytestmark = pytest.mark.integration

HALT = 8


def test_halt_height_then_export_restarts_the_chain_with_the_same_state(
    node_factory: type,
) -> None:
    node: LocalNode = node_factory(accounts=[(a, START) for a in ADDRS])
    node.init()
    start = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "abci_app",
            "--home",
            str(node.root),
            "node",
            "start",
            "--halt-height",
            str(HALT),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        node.wait_height(2)
        with node.rpc() as rpc:
            nonces = resync_nonces(rpc)
        with Load(node.rpc_url, nonces, max_s=20) as load:
            out, _ = start.communicate(timeout=60)
        assert load.sent, "no transfer was sent before the halt"
    finally:
        if start.poll() is None:
            start.kill()
            start.wait()
    assert start.returncode == 0, out
    assert f"committed the halt height {HALT} and stopped" in out
    assert f"committed the halt height {HALT}: stopping" in node.log("app")
    assert "Traceback" not in node.log("app")  # a clean stop, not a crash

    db = StateDB(node.home.state_db)
    assert db.height == HALT  # exactly H: the app never finalized H+1
    halted_hash = db.app_hash
    balances = {k[len(ACCOUNT) :]: Account.decode(v).balance for k, v in db.iter_prefix(ACCOUNT)}
    db.close()

    exported = node.root / "exported.json"
    res = run_cli(node.root, "-o", "json", "genesis", "export", "--out", str(exported))
    assert res.returncode == 0, res.stderr
    genesis = json.loads(exported.read_text())
    assert genesis["initial_height"] == str(HALT + 1)

    # the operator's restart: new genesis, cometbft data and app state wiped, same keys
    shutil.copy(exported, node.home.genesis_file)
    subprocess.run(
        [str(find_cometbft()), "unsafe-reset-all", "--home", str(node.home.cometbft)],
        check=True,
        capture_output=True,
    )
    for p in node.home.state_db.parent.glob("state.sqlite*"):
        p.unlink()
    node.start(min_height=HALT + 3)
    with node.rpc() as rpc:
        first = rpc.call("header", height=str(HALT + 1))["header"]
        assert first["app_hash"] == halted_hash.hex().upper()  # the same app state root
        for addr in ADDRS:
            acct = rpc.abci_query(f"/account/{to_bech32(addr)}").json()
            assert int(acct["balance"]) == balances[addr]
        assert rpc.latest_height() >= HALT + 3
