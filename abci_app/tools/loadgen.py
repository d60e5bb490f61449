"""A bounded load generator for a ModernTensor (or any CometBFT) network.

The sender must never be the bottleneck: every tx is signed before the clock starts, from
accounts funded in genesis (``bench_accounts`` derives them from a seed, so the genesis tool and
the generator agree without sharing files). Txs go out over many keep-alive HTTP
connections (one asyncio task each, every request pre-built; each sender's txs on one
connection so nonces arrive in order),
spread round-robin over the given nodes, at a fixed rate or as fast as accepted. A WebSocket
subscription to NewBlockHeader timestamps every committed tx, giving committed tx/s and
submit -> commit latency. Everything stops after ``max_seconds`` or when every tx is sent and
seen (plus ``drain_seconds``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import statistics
import threading
import time
from base64 import b64decode, b64encode
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from nacl.signing import SigningKey
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from ..address import address_from_pubkey
from ..client.rpc import MAX_EVENT_BYTES, NodeUnreachable, RPCClient, RPCError
from ..modules.bank.messages import MsgTransfer
from ..tx import build_tx, tx_hash


def bench_key(seed: str, i: int) -> SigningKey:
    """Bench account ``i`` of ``seed``: sha256("moderntensor-bench/<seed>/<i>") as ed25519 seed."""
    return SigningKey(hashlib.sha256(f"moderntensor-bench/{seed}/{i}".encode()).digest())


def bench_accounts(seed: str, n: int) -> list[SigningKey]:
    """Bench accounts 0..n-1 of ``seed`` (the genesis tool funds the same ones)."""
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
    backfilled_blocks: int = 0  # blocks the WebSocket missed, read afterwards over RPC

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
            "backfilled_blocks": self.backfilled_blocks,
        }


def broadcast_request(host: str, raw: bytes) -> bytes:
    """The whole HTTP/1.1 request for ``broadcast_tx_sync`` of ``raw``, built before the clock
    starts so that sending costs one socket write."""
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "broadcast_tx_sync",
            "params": {"tx": b64encode(raw).decode()},
        }
    ).encode()
    head = (
        f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    """The body of one HTTP/1.1 response (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if length is not None:
        return await reader.readexactly(length)
    if not chunked:
        raise ConnectionError("HTTP response without a length")
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # the empty trailer
            return bytes(body)
        body += (await reader.readexactly(size + 2))[:-2]


def _result_code(body: bytes) -> int:
    """The CheckTx code in a broadcast_tx_sync answer (-1 for a JSON-RPC error)."""
    reply = json.loads(body)
    result = reply.get("result")
    return int(result.get("code", 0)) if isinstance(result, dict) else -1


def run_load(
    node_urls: Sequence[str],
    streams: Sequence[Sequence[bytes]],
    connections: int = 64,
    rate: float = 0.0,
    max_seconds: float = 60.0,
    drain_seconds: float = 15.0,
    on_progress: Callable[[str], None] | None = None,
) -> LoadResult:
    """Send ``streams`` (each in order on one connection) to ``node_urls``; ``rate`` > 0 caps
    the total submissions per second, 0 sends as fast as the nodes accept.

    ``broadcast_tx_sync`` returns only after the app's CheckTx, which queues behind every other
    CheckTx and behind block execution (one app, one thread): throughput needs many requests in
    flight, hence many connections (one asyncio task each, requests pre-built)."""
    result = LoadResult()
    submitted_at: dict[bytes, float] = {}
    lock = threading.Lock()
    lanes: list[list[bytes]] = [[] for _ in range(connections)]
    for i, stream in enumerate(streams):
        lanes[i % connections].extend(stream)
    total = sum(len(lane) for lane in lanes)
    targets = [urlsplit(u) for u in node_urls]
    prepared = [
        [(tx_hash(raw), broadcast_request(targets[i % len(targets)].netloc, raw)) for raw in lane]
        for i, lane in enumerate(lanes)
    ]
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

    async def send(lane_index: int) -> None:
        per_conn = rate / connections if rate else 0.0
        target = targets[lane_index % len(targets)]
        t0 = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(target.hostname, target.port)
        except OSError:
            return
        try:
            for k, (digest, request) in enumerate(prepared[lane_index]):
                now = time.monotonic()
                if now > deadline or stop.is_set():
                    return
                if per_conn:
                    wait = t0 + k / per_conn - now
                    if wait > 0:
                        await asyncio.sleep(wait)
                with lock:
                    fresh = digest not in submitted_at  # a resent tx keeps its first time
                    if fresh:
                        submitted_at[digest] = time.monotonic()
                    result.submitted += 1
                writer.write(request)
                try:
                    code = _result_code(await _read_response(reader))
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    code = -1
                with lock:
                    if code == 0:
                        result.accepted += 1
                    else:
                        result.rejected += 1
                        if fresh:
                            submitted_at.pop(digest, None)
                if code == -1 and reader.at_eof():
                    return
        finally:
            writer.close()

    async def send_all() -> None:
        await asyncio.gather(*(send(i) for i in range(connections)))

    asyncio.run(send_all())
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
    _backfill(node_urls[0], submitted_at, lock, result)
    busy = [b[2] for b in result.blocks if b[1]]
    if busy:
        result.window_seconds = max(busy) - send_start
    return result


def _block_tx_hashes(rpc: RPCClient, height: int) -> list[bytes]:
    """Hashes of the txs of committed block ``height``, read with ``/block``."""
    txs = rpc.call("block", height=str(height))["block"]["data"].get("txs") or []
    return [tx_hash(b64decode(tx)) for tx in txs]


def _backfill(
    url: str, submitted_at: dict[bytes, float], lock: threading.Lock, result: LoadResult
) -> None:
    """Count the txs of blocks the watcher missed (a reconnect): committed, but without a
    latency, since their commit time was not seen."""
    with lock:
        seen = {h for h, _, _ in result.blocks}
    if not seen:
        return
    missing = sorted(set(range(min(seen), max(seen) + 1)) - seen)
    try:
        with RPCClient(url, timeout=10, retries=1) as rpc:
            for height in missing:
                hashes = _block_tx_hashes(rpc, height)
                with lock:
                    result.backfilled_blocks += 1
                    for digest in hashes:
                        if submitted_at.pop(digest, None) is not None:
                            result.committed += 1
    except (NodeUnreachable, RPCError):
        return


def _watch_blocks(
    url: str,
    submitted_at: dict[bytes, float],
    lock: threading.Lock,
    result: LoadResult,
    stop: threading.Event,
    start: float,
) -> None:
    """Timestamp committed txs: a NewBlockHeader event marks the commit, then the block's txs
    are read with ``/block`` (reconnecting until ``stop``). NewBlock events would carry the txs
    too, but with every tx result and event as JSON: cometbft's profile showed that encoding
    taking ~15% of its CPU under load, which would make the measurement slow the node down."""
    ws_url = url.replace("http://", "ws://").rstrip("/") + "/websocket"
    while not stop.is_set():
        try:
            with (
                connect(ws_url, open_timeout=5, max_size=MAX_EVENT_BYTES) as ws,
                RPCClient(url, timeout=10, retries=1) as rpc,
            ):
                sub = {"jsonrpc": "2.0", "id": 1, "method": "subscribe"}
                ws.send(json.dumps({**sub, "params": {"query": "tm.event='NewBlockHeader'"}}))
                while not stop.is_set():
                    try:
                        raw = ws.recv(timeout=0.5)
                    except TimeoutError:
                        continue
                    data = (json.loads(raw).get("result") or {}).get("data")
                    if not data:
                        continue
                    seen = time.monotonic()
                    height = int(data["value"]["header"]["height"])
                    hashes = _block_tx_hashes(rpc, height)
                    with lock:
                        result.blocks.append((height, len(hashes), seen))
                        for digest in hashes:
                            t0 = submitted_at.pop(digest, None)
                            if t0 is not None:
                                result.committed += 1
                                result.latencies.append(seen - t0)
                                sec = int(seen - start)
                                result.per_second[sec] = result.per_second.get(sec, 0) + 1
                                result.latency_by_second.setdefault(sec, []).append(seen - t0)
        except (OSError, WebSocketException, NodeUnreachable, RPCError):
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
