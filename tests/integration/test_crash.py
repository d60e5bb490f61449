"""kill -9 of the app or of cometbft under load: nothing committed is lost and the chain resumes.

Each round: transfers flow, a process is SIGKILLed mid-load, the node is restarted, and then
every tx that had been seen committed before the kill is still committed at the same height,
every balance equals the replay of all committed transfers, and the chain keeps producing
blocks (CometBFT itself halts on an app-hash mismatch, so progress proves agreement).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator

import pytest
from harness import LocalNode, addr_of, seeded_key

from abci_app.address import to_bech32
from abci_app.client.rpc import NodeUnreachable, RPCClient, RPCError
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.tx import build_tx

pytestmark = pytest.mark.integration

N = 8
KEYS = [seeded_key(100 + i) for i in range(N)]
ADDRS = [addr_of(k) for k in KEYS]
START = 10**15
FEE = 1_000
AMOUNT = 1_000


class Load:
    """Sends transfers in a background thread until stopped or bounded count/time is reached."""

    def __init__(self, url: str, nonces: dict[int, int], max_txs: int = 300, max_s: float = 30):
        self.url, self.nonces = url, nonces
        self.max_txs, self.max_s = max_txs, max_s
        self.sent: dict[str, tuple[int, int]] = {}  # hash -> (sender, recipient)
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_s
        with RPCClient(self.url, timeout=3, retries=0) as rpc:
            i = 0
            while not self.stop_flag.is_set() and len(self.sent) < self.max_txs:
                if time.monotonic() > deadline:
                    break
                s, r = i % N, (i + 1) % N
                raw = build_tx(
                    KEYS[s], "mt-test-1", self.nonces[s], FEE, [MsgTransfer(ADDRS[r], AMOUNT)]
                )
                try:
                    res = rpc.broadcast_tx_sync(raw)
                except (NodeUnreachable, RPCError):
                    break
                if res.code == 0:
                    self.sent[res.hash] = (s, r)
                    self.nonces[s] += 1
                i += 1
                time.sleep(0.005)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_flag.set()
        self.thread.join(10)


def committed(rpc: RPCClient, hashes: list[str]) -> dict[str, int]:
    out = {}
    for h in hashes:
        t = rpc.get_tx(h)
        if t is not None:
            assert t.code == 0, t.log
            out[h] = t.height
    return out


def in_blocks(rpc: RPCClient) -> set[str]:
    """Hashes of every tx in the block store. The block store, not the tx index, is the record:
    CometBFT indexes a block's txs after committing it, so a kill -9 in between leaves
    committed txs that /tx does not find (and it does not re-index them on restart)."""
    out = set()
    for h in range(1, rpc.latest_height() + 1):
        txs = rpc.call("block", height=str(h))["block"]["data"]["txs"] or []
        results = rpc.call("block_results", height=str(h))["txs_results"] or []
        assert [int(r.get("code", 0)) for r in results] == [0] * len(txs), f"block {h}"
        out |= {hashlib.sha256(base64.b64decode(tx)).hexdigest().upper() for tx in txs}
    return out


def check_state(rpc: RPCClient, sent: dict[str, tuple[int, int]], genesis_total: int) -> set[str]:
    done = in_blocks(rpc) & set(sent)
    expected = {i: START for i in range(N)}
    for h in done:
        s, r = sent[h]
        expected[s] -= AMOUNT + FEE
        expected[r] += AMOUNT
    for i in range(N):
        got = rpc.abci_query(f"/account/{to_bech32(ADDRS[i])}").json()
        assert int(got["balance"]) == expected[i], f"account {i}"
    # fees went to the validators with the block rewards; no token appeared or vanished
    supply = rpc.abci_query("/supply").json()
    assert int(supply["total"]) - int(supply["minted"]) == genesis_total
    return done


@pytest.fixture
def node(node_factory: type) -> Iterator[LocalNode]:
    n: LocalNode = node_factory(accounts=[(a, START) for a in ADDRS])
    n.init().start(min_height=2)
    yield n


def resync_nonces(rpc: RPCClient) -> dict[int, int]:
    return {
        i: int(rpc.abci_query(f"/account/{to_bech32(ADDRS[i])}").json()["nonce"]) for i in range(N)
    }


@pytest.mark.parametrize("victim", ["app", "cometbft"])
def test_kill9_under_load_loses_nothing(node: LocalNode, victim: str) -> None:
    sent: dict[str, tuple[int, int]] = {}
    for round_ in range(3):
        with node.rpc() as rpc:
            nonces = resync_nonces(rpc)
        with Load(node.rpc_url, nonces) as load:
            time.sleep(1.0 + 0.7 * round_)  # kill at a different point of the block each round
            with node.rpc(timeout=3) as rpc:
                before = committed(rpc, list(load.sent))
                height_before = rpc.latest_height()
            node.kill(victim)
        sent.update(load.sent)
        assert before, "no tx was committed before the kill; the load did not run"
        if victim == "app":
            # CometBFT notices the dead ABCI connection and shuts itself down, but its graceful
            # stop can hang on the lost connection: do what a supervisor does, kill it after 10s.
            deadline = time.monotonic() + 10
            while node.alive("cometbft") and time.monotonic() < deadline:
                time.sleep(0.1)
            node.kill("cometbft")
            assert "Did the application crash?" in node.log("cometbft")
            node.start_app()
        node.start_cometbft()
        node.wait_height(height_before + 3, timeout=60)
        with node.rpc() as rpc:
            after = committed(rpc, list(before))
            assert after == before, "a committed tx moved or vanished"
            genesis = json.loads(node.home.genesis_file.read_text())["app_state"]["accounts"]
            check_state(rpc, sent, sum(int(a["balance"]) for a in genesis))
    with node.rpc() as rpc:
        total = int(rpc.abci_query("/supply").json()["total"])
        assert total > 0
        assert len(committed(rpc, list(sent))) >= 3
    # A kill mid-FinalizeBlock makes cometbft log "CONSENSUS FAILURE … read message: EOF" before it
    # stops; what must never appear is an app-hash disagreement after the restart.
    log = node.log("cometbft")
    assert "wrong Block.Header.AppHash" not in log
    assert "does not match" not in log
