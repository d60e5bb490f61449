"""What the adversarial tests share: the funded accounts of the shared node, the stated memory
bounds, and the liveness check every attack ends with."""

from __future__ import annotations

from pathlib import Path

from harness import CHAIN_ID, LocalNode, addr_of, seeded_key

from abci_app.address import to_bech32
from abci_app.client.rpc import RPCClient
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.params import BASE_UNITS_PER_MDT
from abci_app.tx import build_tx

FUNDED = 8
"""Test accounts seeded_key(0..7) hold START_BALANCE each; attackers use other keys."""
START_BALANCE = 1_000_000 * BASE_UNITS_PER_MDT

APP_RSS_LIMIT_MIB = 250
"""Stated bound on the app's resident memory during and after the attacks (an idle app uses
~60 MiB; the verified-tx cache is bounded at 128 MiB of estimated memory and holds only
txs whose fee was paid, so no attack fills it; the read cache and the check-state fit too)."""
COMETBFT_RSS_LIMIT_MIB = 400
"""Stated bound on cometbft's (its mempool holds at most 64 MiB of txs, max_txs_bytes)."""


def rss_mib(pid: int) -> float:
    """Resident memory of a process, MiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def node_is_live(node: LocalNode, rpc: RPCClient) -> None:
    """After an attack: the node still commits a valid tx in a new block (from funded account
    FUNDED - 1) and both processes stay within their stated memory."""
    sender = seeded_key(FUNDED - 1)
    nonce = int(rpc.abci_query(f"/account/{to_bech32(addr_of(sender))}").json()["nonce"])
    start = rpc.latest_height()
    raw = build_tx(
        sender, CHAIN_ID, nonce, 1_000, [MsgTransfer(to=addr_of(seeded_key(0)), amount=1)]
    )
    sent = rpc.broadcast_tx_sync(raw)
    assert sent.code == 0, sent.log
    done = rpc.wait_for_tx(sent.hash, timeout=30)
    assert done.code == 0 and done.height > start
    assert node.alive("app") and node.alive("cometbft")
    app = rss_mib(node.procs["app"].pid)
    comet = rss_mib(node.procs["cometbft"].pid)
    assert app < APP_RSS_LIMIT_MIB, f"app RSS {app:.0f} MiB"
    assert comet < COMETBFT_RSS_LIMIT_MIB, f"cometbft RSS {comet:.0f} MiB"
