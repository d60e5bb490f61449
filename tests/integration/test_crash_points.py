"""Each crash point on a real node under load: the app dies by SIGKILL exactly there, restarts,
and the chain goes on with the same app hashes and every committed transfer applied once.

(``snapshot:restore`` needs a node joining by state sync: it is tested by the e2e runner's
short manifest, tests/e2e/test_e2e_runner.py.)
"""

from __future__ import annotations

import base64
import json
import signal
import time

import pytest
from harness import LocalNode, wait_until
from test_crash import ADDRS, START, Load, check_state, resync_nonces

from abci_app.client.rpc import RPCClient
from abci_app.state.db import StateDB

pytestmark = pytest.mark.integration

CRASH_HEIGHT = 12  # blocks of 200 ms: time for the load to get txs in first, even on a busy machine
CASES = {
    # point -> height the app's own state is at after the crash
    "init_chain:after": 0,
    "finalize:after": CRASH_HEIGHT - 1,
    "commit:before_write": CRASH_HEIGHT - 1,
    "commit:after_write": CRASH_HEIGHT,
}


def app_hash_in_header(rpc: RPCClient, height: int) -> str:
    return str(rpc.call("header", height=str(height))["header"]["app_hash"])


@pytest.mark.parametrize("point", list(CASES))
def test_crash_point_restarts_to_the_same_app_hashes_with_nothing_lost(
    node_factory: type, point: str
) -> None:
    node: LocalNode = node_factory(accounts=[(a, START) for a in ADDRS])
    node.init()
    plan = point if point == "init_chain:after" else f"{point}@{CRASH_HEIGHT}"
    node.start_app(env={"MODERNTENSOR_CRASH_AT": plan})
    node.start_cometbft()
    sent: dict[str, tuple[int, int]] = {}
    if point != "init_chain:after":
        node.wait_height(2)
        with node.rpc() as rpc:
            nonces = resync_nonces(rpc)
        with Load(node.rpc_url, nonces, max_s=30) as load:
            wait_until(lambda: not node.alive("app"), 30, "the app to reach its crash point")
        sent.update(load.sent)
        assert sent, "the load sent nothing before the crash"
    else:
        wait_until(lambda: not node.alive("app"), 30, "the app to crash in InitChain")
    assert node.procs["app"].returncode == -signal.SIGKILL
    assert f"crash point {point} reached" in node.log("app")
    # cometbft stops itself when the app is gone; a supervisor kills it after a while
    deadline = time.monotonic() + 10
    while node.alive("cometbft") and time.monotonic() < deadline:
        time.sleep(0.1)
    node.kill("cometbft")

    db = StateDB(node.home.state_db)  # what the app had really written when it died
    crashed_height, crashed_hash = db.height, db.app_hash
    db.close()
    assert crashed_height == CASES[point]

    node.start_app()
    node.start_cometbft()
    node.wait_height(CRASH_HEIGHT + 6, timeout=90)
    with node.rpc() as rpc:
        if crashed_height:
            # the state the app had written is the one the chain built on
            assert app_hash_in_header(rpc, crashed_height + 1) == crashed_hash.hex().upper()
        latest = rpc.latest_height()
        for h in range(1, latest):
            res = rpc.call("block_results", height=str(h))
            returned = base64.b64decode(res["app_hash"]).hex().upper()  # FinalizeBlock's answer
            assert returned == app_hash_in_header(rpc, h + 1), f"height {h}"
        genesis = json.loads(node.home.genesis_file.read_text())["app_state"]["accounts"]
        done = check_state(rpc, sent, sum(int(a["balance"]) for a in genesis))
    if point != "init_chain:after":
        assert done, "no transfer was committed around the crash"
