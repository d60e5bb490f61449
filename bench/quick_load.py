"""Quick single-node load: pre-signed transfers, sent as fast as accepted, committed tx/s measured.

Starts its own node (cometbft + app) in a temporary folder on free loopback ports, funds N
accounts in genesis, pre-signs every transfer, sends them with broadcast_tx_sync over several
threads, then reads committed txs per block from the chain. Bounded: --txs in total and
--max-seconds of sending. Prints one JSON object.

    .venv/bin/python bench/quick_load.py --txs 3000 --accounts 50 --threads 4

(The full load generator and report belong to the performance issue; this is the first figure.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import CHAIN_ID, LocalNode, addr_of, seeded_key

from abci_app.client.rpc import RPCClient
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.tx import build_tx


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--txs", type=int, default=3000)
    ap.add_argument("--accounts", type=int, default=50)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--timeout-commit", default="1s")
    args = ap.parse_args()

    keys = [seeded_key(10_000 + i) for i in range(args.accounts)]
    with tempfile.TemporaryDirectory() as tmp:
        node = LocalNode(
            Path(tmp) / "node",
            accounts=[(addr_of(k), 10**15) for k in keys],
            timeout_commit=args.timeout_commit,
            check_invariants=False,
        )
        node.init().start(min_height=2)
        try:
            per_thread: list[list[bytes]] = [[] for _ in range(args.threads)]
            nonces = [0] * args.accounts
            t0 = time.monotonic()
            for n in range(args.txs):
                s = n % args.accounts
                raw = build_tx(
                    keys[s],
                    CHAIN_ID,
                    nonces[s],
                    1_000,
                    [MsgTransfer(addr_of(keys[(s + 1) % args.accounts]), 1)],
                )
                nonces[s] += 1
                # a sender's txs stay on one thread so their nonces arrive in order
                per_thread[s % args.threads].append(raw)
            sign_s = time.monotonic() - t0
            accepted = [0] * args.threads
            start_height = node.height()
            deadline = time.monotonic() + args.max_seconds

            def send(i: int) -> None:
                with RPCClient(node.rpc_url, timeout=10, retries=0) as rpc:
                    for raw in per_thread[i]:
                        if time.monotonic() > deadline:
                            return
                        if rpc.broadcast_tx_sync(raw).code == 0:
                            accepted[i] += 1

            threads = [threading.Thread(target=send, args=(i,)) for i in range(args.threads)]
            t_send = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            send_s = time.monotonic() - t_send
            total_accepted = sum(accepted)
            with node.rpc() as rpc:
                committed = 0
                h = start_height
                stall = time.monotonic() + 30
                blocks: list[tuple[int, int, str]] = []
                while committed < total_accepted and time.monotonic() < stall:
                    latest = rpc.latest_height()
                    while h < latest:
                        h += 1
                        hdr = rpc.call("block", height=str(h))["block"]
                        n_txs = len(hdr["data"]["txs"] or [])
                        committed += n_txs
                        blocks.append((h, n_txs, hdr["header"]["time"]))
                    time.sleep(0.2)
            busy = [b for b in blocks if b[1] > 0]

            def ts(s: str) -> float:
                return datetime.fromisoformat(s[:26] + "+00:00").timestamp()

            span = ts(busy[-1][2]) - ts(blocks[0][2]) if busy else 0.0
            print(
                json.dumps(
                    {
                        "txs_signed": args.txs,
                        "sign_seconds": round(sign_s, 2),
                        "accepted": total_accepted,
                        "send_seconds": round(send_s, 2),
                        "broadcast_per_s": round(total_accepted / send_s, 1),
                        "committed": committed,
                        "blocks_with_txs": len(busy),
                        "max_txs_per_block": max((b[1] for b in busy), default=0),
                        "committed_per_s_block_time": round(committed / span, 1) if span else None,
                        "threads": args.threads,
                        "timeout_commit": args.timeout_commit,
                        "cores": os.cpu_count(),
                    },
                    indent=2,
                )
            )
        finally:
            node.stop()


if __name__ == "__main__":
    main()
