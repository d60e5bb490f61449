"""A synchronous client for CometBFT's JSON-RPC, with explicit timeouts and bounded retries.

One ``httpx.Client`` is reused for every call (connection pooling) and closed by :meth:`close`
or the context manager. Only idempotent reads are retried; a broadcast is sent once.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ..tx import tx_hash
from .proof import ProofOp

DEFAULT_NODE = "http://127.0.0.1:26657"


# A NewBlock event carries the whole block as JSON (txs in base64): a full 21 MiB block is ~30 MB.
# The websockets library's 1 MiB default would close the stream on the first big block.
MAX_EVENT_BYTES = 64 * 1024 * 1024

MAX_RESPONSE_BYTES = MAX_EVENT_BYTES
"""Largest JSON-RPC answer the async client reads (a whole block is the largest real one); a
larger one is refused with ``RPCError`` instead of filling memory."""


class NodeUnreachable(Exception):
    """The node did not answer (down, wrong URL, or timed out)."""


class RPCError(Exception):
    """The node answered with a JSON-RPC error."""


class TxTimeout(Exception):
    """A broadcast tx was not seen in a block before the deadline."""


@dataclass(frozen=True)
class QueryResult:
    code: int
    log: str
    key: bytes
    value: bytes
    height: int
    proof_ops: list[ProofOp]

    def json(self) -> Any:
        return json.loads(self.value)


@dataclass(frozen=True)
class BroadcastResult:
    code: int
    log: str
    codespace: str
    hash: str  # upper-case hex, as CometBFT prints it


@dataclass(frozen=True)
class CommittedTx:
    hash: str
    height: int
    code: int
    log: str
    codespace: str
    events: list[dict[str, Any]]


def _b64(s: str | None) -> bytes:
    return base64.b64decode(s) if s else b""


def parse_query(r: dict[str, Any]) -> QueryResult:
    resp = r["response"]
    ops = [
        ProofOp(type=o.get("type", ""), key=_b64(o.get("key")), data=_b64(o.get("data")))
        for o in ((resp.get("proofOps") or {}).get("ops") or [])
    ]
    return QueryResult(
        code=int(resp.get("code", 0)),
        log=resp.get("log", ""),
        key=_b64(resp.get("key")),
        value=_b64(resp.get("value")),
        height=int(resp.get("height", 0)),
        proof_ops=ops,
    )


def parse_broadcast(r: dict[str, Any], tx: bytes) -> BroadcastResult:
    return BroadcastResult(
        code=int(r.get("code", 0)),
        log=r.get("log", ""),
        codespace=r.get("codespace", ""),
        hash=r.get("hash", tx_hash(tx).hex().upper()),
    )


def parse_tx(r: dict[str, Any]) -> CommittedTx:
    res = r["tx_result"]
    return CommittedTx(
        hash=r["hash"],
        height=int(r["height"]),
        code=int(res.get("code", 0)),
        log=res.get("log", ""),
        codespace=res.get("codespace", ""),
        events=res.get("events") or [],
    )


def unreachable(url: str, method: str, last: Exception | None) -> NodeUnreachable:
    return NodeUnreachable(
        f"node at {url} did not answer {method}: {type(last).__name__}: {last}. "
        "Is cometbft running? (check --node)"
    )


def rpc_result(method: str, resp: httpx.Response) -> Any:
    """The ``result`` of a JSON-RPC response, or RPCError."""
    return rpc_result_of(method, resp.status_code, resp.content)


def rpc_result_of(method: str, status: int, content: bytes) -> Any:
    """The ``result`` of a JSON-RPC answer's bytes. Raises ``RPCError`` for the node's error
    and for anything that is not a JSON-RPC answer (not JSON, nested deeper than the parser
    recurses, not an object, no ``result``): a broken or hostile node is an error, never a
    crash."""
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):  # (UnicodeDecodeError is a ValueError)
        raise RPCError(f"{method}: HTTP {status}, not JSON") from None
    if not isinstance(body, dict):
        raise RPCError(f"{method}: HTTP {status}, not a JSON-RPC answer")
    err = body.get("error")
    if err:
        if isinstance(err, dict):
            raise RPCError(f"{method}: {err.get('message', '')} {err.get('data', '')}".strip())
        raise RPCError(f"{method}: {str(err)[:200]}")
    if "result" not in body:
        raise RPCError(f"{method}: HTTP {status}, not a JSON-RPC answer")
    return body["result"]


class RPCClient:
    def __init__(self, url: str = DEFAULT_NODE, timeout: float = 10.0, retries: int = 2) -> None:
        self.url = url.rstrip("/")
        self.retries = retries
        # no TLS context for plain http (building one costs each CLI call ~20 ms of CPU); an
        # https node is verified as usual
        self._http = httpx.Client(timeout=timeout, verify=self.url.startswith("https:"))
        self._id = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RPCClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, idempotent: bool = True, **params: Any) -> Any:
        """Call a JSON-RPC method and return its ``result``."""
        self._id += 1
        payload = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
        attempts = 1 + (self.retries if idempotent else 0)
        last: Exception | None = None
        for attempt in range(attempts):
            try:
                resp = self._http.post(self.url, json=payload)
                break
            except httpx.TransportError as e:
                last = e
                if attempt + 1 < attempts:
                    time.sleep(0.2 * (attempt + 1))
        else:
            raise unreachable(self.url, method, last)
        return rpc_result(method, resp)

    # --- typed calls ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("status")
        return result

    def latest_height(self) -> int:
        return int(self.status()["sync_info"]["latest_block_height"])

    def abci_query(
        self, path: str, data: bytes = b"", prove: bool = False, height: int = 0
    ) -> QueryResult:
        r = self.call("abci_query", path=path, data=data.hex(), height=str(height), prove=prove)
        return parse_query(r)

    def broadcast_tx_sync(self, tx: bytes) -> BroadcastResult:
        r = self.call("broadcast_tx_sync", idempotent=False, tx=base64.b64encode(tx).decode())
        return parse_broadcast(r, tx)

    def get_tx(self, hash_hex: str) -> CommittedTx | None:
        """The committed tx with this hash, or None while it is not in a block."""
        try:
            r = self.call("tx", hash=base64.b64encode(bytes.fromhex(hash_hex)).decode())
        except RPCError as e:
            if "not found" in str(e):
                return None
            raise
        return parse_tx(r)

    def wait_for_tx(
        self,
        hash_hex: str,
        timeout: float = 30.0,
        poll: float = 0.25,
        on_wait: Callable[[float], None] | None = None,
    ) -> CommittedTx:
        deadline = time.monotonic() + timeout
        while True:
            found = self.get_tx(hash_hex)
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise TxTimeout(f"tx {hash_hex} not committed within {timeout:.0f}s")
            if on_wait is not None:
                on_wait(left)
            time.sleep(min(poll, left))

    def wait_for_height(self, height: int, timeout: float = 30.0, poll: float = 0.2) -> int:
        """Block until the chain has committed ``height``; return the latest height."""
        deadline = time.monotonic() + timeout
        while True:
            latest = self.latest_height()
            if latest >= height:
                return latest
            if time.monotonic() >= deadline:
                raise TxTimeout(f"height {height} not reached within {timeout:.0f}s (at {latest})")
            time.sleep(poll)

    def block_app_hash(self, height: int, timeout: float = 30.0) -> bytes:
        """App hash in the header of block ``height`` (the state after block height-1).

        Waits for that block if it is not committed yet.
        """
        self.wait_for_height(height, timeout)
        r = self.call("block", height=str(height))
        return bytes.fromhex(r["block"]["header"]["app_hash"])
