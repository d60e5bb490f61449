"""A bounded load generator for a ModernTensor (or any CometBFT) network.

The sender must never be the bottleneck: every tx is signed before the clock starts, from
accounts funded in genesis (``bench_accounts`` derives them from a seed, so the genesis tool and
the generator agree without sharing files). Txs go out over several connections (one
``httpx`` client per thread, each sender's txs on one connection so nonces arrive in order),
spread round-robin over the given nodes, at a fixed rate or as fast as accepted. A WebSocket
subscription to NewBlock timestamps every committed tx, giving committed tx/s and
submit -> commit latency. Everything stops after ``max_seconds`` or when every tx is sent and
seen (plus ``drain_seconds``).
"""

from __future__ import annotations

import hashlib
import json
import statistics
import threading
import time
from base64 import b64decode
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from .address import address_from_pubkey
from .client.rpc import NodeUnreachable, RPCClient, RPCError
from .modules.bank.messages import MsgTransfer
from .tx import build_tx


def bench_key(seed: str, i: int) -> SigningKey:
    return SigningKey(hashlib.sha256(f"moderntensor-bench/{seed}/{i}".encode()).digest())


def bench_accounts(seed: str, n: int) -> list[SigningKey]:
    return [bench_key(seed, i) for i in range(n)]


def presign_transfers(
    keys: Sequence[SigningKey],
    chain_id: str,
    count: int,
    fee: int = 1_000,
    start_nonces: Sequence[int] | None = None,
) -> list[list[bytes]]:
    """``count`` transfers round-robin over ``keys`` (each to the next key), grouped per
    sender in nonce order, from each key's ``start_nonces`` (default 0)."""
    per_sender: list[list[bytes]] = [[] for _ in keys]
    addrs = [address_from_pubkey(bytes(k.verify_key)) for k in keys]
    first = list(start_nonces) if start_nonces is not None else [0] * len(keys)
    for n in range(count):
        s = n % len(keys)
        msg = MsgTransfer(addrs[(s + 1) % len(keys)], 1)
        nonce = first[s] + len(per_sender[s])
        per_sender[s].append(build_tx(keys[s], chain_id, nonce, fee, [msg]))
    return per_sender


def kvstore_txs(count: int, prefix: str = "k") -> list[list[bytes]]:
    """Txs for CometBFT's built-in kvstore app (``key=value``), one stream per 100 txs."""
    txs = [f"{prefix}{n}=v{n}".encode() for n in range(count)]
    return [txs[i : i + 100] for i in range(0, count, 100)]


@dataclass
class LoadResult:
    submitted: int = 0
    accepted: int = 0
    rejected: int = 0
    committed: int = 0
    send_seconds: float = 0.0
    window_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    per_second: dict[int, int] = field(default_factory=dict)
    latency_by_second: dict[int, list[float]] = field(default_factory=dict)
    blocks: list[tuple[int, int, float]] = field(default_factory=list)  # height, txs, seen at

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else None

        return {
            "submitted": self.submitted,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "committed": self.committed,
            "send_seconds": round(self.send_seconds, 2),
            "committed_tps": round(self.committed / self.window_seconds, 1)
            if self.window_seconds
            else 0.0,
            "latency_s": {
                "p50": pct(0.50),
                "p95": pct(0.95),
                "p99": pct(0.99),
                "mean": round(statistics.mean(lat), 3) if lat else None,
            },
            "blocks": len(self.blocks),
            "max_txs_per_block": max((b[1] for b in self.blocks), default=0),
        }


def run_load(
    node_urls: Sequence[str],
    streams: Sequence[Sequence[bytes]],
    connections: int = 4,
    rate: float = 0.0,
    max_seconds: float = 60.0,
    drain_seconds: float = 15.0,
    on_progress: Callable[[str], None] | None = None,
) -> LoadResult:
    """Send ``streams`` (each in order on one connection) to ``node_urls``; ``rate`` > 0 caps
    the total submissions per second, 0 sends as fast as the nodes accept."""
    result = LoadResult()
    submitted_at: dict[bytes, float] = {}
    lock = threading.Lock()
    lanes: list[list[bytes]] = [[] for _ in range(connections)]
    for i, stream in enumerate(streams):
        lanes[i % connections].extend(stream)
    total = sum(len(lane) for lane in lanes)
    stop = threading.Event()
    start = time.monotonic()
    deadline = start + max_seconds
    watcher = threading.Thread(
        target=_watch_blocks,
        args=(node_urls[0], submitted_at, lock, result, stop, start),
        daemon=True,
    )
    watcher.start()
    time.sleep(0.5)  # let the subscription settle before the first tx
    send_start = time.monotonic()

    def send(lane_index: int) -> None:
        per_conn = rate / connections if rate else 0.0
        url = node_urls[lane_index % len(node_urls)]
        t0 = time.monotonic()
        with RPCClient(url, timeout=10, retries=0) as rpc:
            for k, raw in enumerate(lanes[lane_index]):
                now = time.monotonic()
                if now > deadline or stop.is_set():
                    return
                if per_conn:
                    wait = t0 + k / per_conn - now
                    if wait > 0:
                        time.sleep(wait)
                digest = hashlib.sha256(raw).digest()
                with lock:
                    submitted_at[digest] = time.monotonic()
                    result.submitted += 1
                try:
                    code = rpc.broadcast_tx_sync(raw).code
                except (NodeUnreachable, RPCError):
                    code = -1
                with lock:
                    if code == 0:
                        result.accepted += 1
                    else:
                        result.rejected += 1
                        submitted_at.pop(digest, None)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.send_seconds = time.monotonic() - send_start
    if on_progress:
        on_progress(f"sent {result.submitted}/{total}, accepted {result.accepted}")
    drain_until = min(deadline + drain_seconds, time.monotonic() + drain_seconds)
    while time.monotonic() < drain_until:
        with lock:
            if result.committed >= result.accepted:
                break
        time.sleep(0.2)
    stop.set()
    watcher.join(timeout=5)
    busy = [b[2] for b in result.blocks if b[1]]
    if busy:
        result.window_seconds = max(busy) - send_start
    return result


def _watch_blocks(
    url: str,
    submitted_at: dict[bytes, float],
    lock: threading.Lock,
    result: LoadResult,
    stop: threading.Event,
    start: float,
) -> None:
    """Timestamp committed txs from NewBlock events (reconnecting until ``stop``)."""
    ws_url = url.replace("http://", "ws://").rstrip("/") + "/websocket"
    while not stop.is_set():
        try:
            with connect(ws_url, open_timeout=5) as ws:
                sub = {"jsonrpc": "2.0", "id": 1, "method": "subscribe"}
                ws.send(json.dumps({**sub, "params": {"query": "tm.event='NewBlock'"}}))
                while not stop.is_set():
                    try:
                        raw = ws.recv(timeout=0.5)
                    except TimeoutError:
                        continue
                    data = (json.loads(raw).get("result") or {}).get("data")
                    if not data:
                        continue
                    seen = time.monotonic()
                    block = data["value"]["block"]
                    txs = block["data"].get("txs") or []
                    with lock:
                        result.blocks.append((int(block["header"]["height"]), len(txs), seen))
                        for tx in txs:
                            t0 = submitted_at.pop(hashlib.sha256(b64decode(tx)).digest(), None)
                            if t0 is not None:
                                result.committed += 1
                                result.latencies.append(seen - t0)
                                sec = int(seen - start)
                                result.per_second[sec] = result.per_second.get(sec, 0) + 1
                                result.latency_by_second.setdefault(sec, []).append(seen - t0)
        except (OSError, WebSocketException):
            time.sleep(0.5)


def chart(result: LoadResult, path: str, title: str) -> None:
    """A PNG of committed tx/s and latency over time (matplotlib, installed with the dev extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    secs = sorted(result.per_second)
    ax.bar(secs, [result.per_second[s] for s in secs], color="#2f6fde", label="committed tx/s")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("committed tx/s")
    ax2 = ax.twinx()
    lat = sorted(result.latency_by_second)
    ax2.set_ylabel("median submit -> commit latency (s)", color="#f08c2e")
    ax2.plot(lat, [statistics.median(result.latency_by_second[s]) for s in lat], color="#f08c2e")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
