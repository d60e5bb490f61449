"""The async SDK: an asyncio JSON-RPC client, the async twin of :class:`~.chain.Chain`, and
event subscriptions over CometBFT's WebSocket that reconnect.

Same rules as the sync client: every call has a timeout, reads are retried a bounded number
of times, broadcasts are sent once, one connection pool is reused and closed by ``aclose`` or
``async with``. Here the timeout bounds each attempt as a whole (connect to last byte: a node
trickling its answer a byte at a time cannot stretch it), an answer is read up to
``max_response_bytes`` (never decompressed), and a malformed answer or event is an
``RPCError``. A subscription that loses its node reconnects (``reconnects`` times, with
backoff) and re-subscribes, then raises :class:`NodeUnreachable`.

    async with AsyncChain(url) as chain:
        async for event in chain.subscribe("tm.event='NewBlock'"):
            print(event["data"]["value"]["block"]["header"]["height"])
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncGenerator
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from ..tx import Message, build_tx, tx_fee
from .chain import _ANY_KEY, chain_error, query_json
from .keyring import Key
from .nonces import BAD_NONCE, UNKNOWN_QUERY_PATH, NonceBook, pending_path
from .paging import Walk
from .rpc import (
    DEFAULT_NODE,
    MAX_EVENT_BYTES,
    MAX_RESPONSE_BYTES,
    BroadcastResult,
    CommittedTx,
    NodeUnreachable,
    QueryResult,
    RPCError,
    TxTimeout,
    parse_broadcast,
    parse_query,
    parse_tx,
    rpc_result_of,
    unreachable,
)
from .types import Account, Delegation, Metagraph, Subnet, Validator

CLOSE_TIMEOUT = 1.0
"""Seconds a subscription waits for the node's answer to its close (a node that never answers
would otherwise hold a closing stream 10 s, the websockets default)."""


class AsyncRPCClient:
    def __init__(
        self,
        url: str = DEFAULT_NODE,
        timeout: float = 10.0,
        retries: int = 2,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.max_response_bytes = max_response_bytes
        self._http = httpx.AsyncClient(timeout=timeout, headers={"Accept-Encoding": "identity"})
        self._id = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, method: str, payload: dict[str, Any]) -> tuple[int, bytes]:
        """One attempt: the answer's status and bytes, at most ``max_response_bytes``."""
        async with self._http.stream("POST", self.url, json=payload) as resp:
            chunks, size = [], 0
            async for chunk in resp.aiter_raw():
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise RPCError(f"{method}: answer larger than {self.max_response_bytes} bytes")
                chunks.append(chunk)
            return resp.status_code, b"".join(chunks)

    async def call(self, method: str, idempotent: bool = True, **params: Any) -> Any:
        """``result`` of ``method``. Raises :class:`NodeUnreachable` once every attempt failed
        or outlasted ``timeout``, ``RPCError`` for an error or malformed answer."""
        self._id += 1
        payload = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
        attempts = 1 + (self.retries if idempotent else 0)
        last: Exception | None = None
        for attempt in range(attempts):
            try:
                async with asyncio.timeout(self.timeout):
                    status, content = await self._post(method, payload)
                break
            except (httpx.TransportError, TimeoutError) as e:
                last = e
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.2 * (attempt + 1))
        else:
            raise unreachable(self.url, method, last)
        return rpc_result_of(method, status, content)

    async def abci_query(self, path: str, prove: bool = False, data: bytes = b"") -> QueryResult:
        r = await self.call("abci_query", path=path, data=data.hex(), height="0", prove=prove)
        return parse_query(r)

    async def broadcast_tx_sync(self, tx: bytes) -> BroadcastResult:
        r = await self.call("broadcast_tx_sync", idempotent=False, tx=base64.b64encode(tx).decode())
        return parse_broadcast(r, tx)

    async def get_tx(self, hash_hex: str) -> CommittedTx | None:
        try:
            r = await self.call("tx", hash=base64.b64encode(bytes.fromhex(hash_hex)).decode())
        except RPCError as e:
            if "not found" in str(e):
                return None
            raise
        return parse_tx(r)

    async def wait_for_tx(self, hash_hex: str, timeout: float = 30.0) -> CommittedTx:
        deadline = time.monotonic() + timeout
        while True:
            found = await self.get_tx(hash_hex)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise TxTimeout(f"tx {hash_hex} not committed within {timeout:.0f}s")
            await asyncio.sleep(0.25)


class AsyncChain:
    def __init__(
        self,
        url: str = DEFAULT_NODE,
        timeout: float = 10.0,
        retries: int = 2,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.rpc = AsyncRPCClient(url, timeout, retries, max_response_bytes)
        self._params: dict[str, Any] | None = None
        self.nonces = NonceBook()

    async def aclose(self) -> None:
        await self.rpc.aclose()

    async def __aenter__(self) -> AsyncChain:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def query(self, path: str) -> Any:
        return query_json(await self.rpc.abci_query(path))

    async def params(self) -> dict[str, Any]:
        if self._params is None:
            self._params = await self.query("/params")
        return self._params

    async def account(self, address: str) -> Account:
        return Account.from_json(await self.query(f"/account/{address}"))

    async def query_all(self, route: str, field: str) -> list[Any]:
        """Every entry of a paginated list route, page by page (client/paging.py)."""
        walk = Walk(route, field)
        while (path := walk.next_path()) is not None:
            walk.add(await self.query(path))
        return walk.items

    async def validators(self) -> list[Validator]:
        """Every validator, in the node's rank order (all pages)."""
        return [Validator.from_json(v) for v in await self.query_all("/validators", "validators")]

    async def delegations(self, delegator: str) -> list[Delegation]:
        """Every delegation of ``delegator`` (all pages)."""
        rows = await self.query_all(f"/delegations/{delegator}", "delegations")
        return [Delegation.from_json(d) for d in rows]

    async def subnets(self) -> list[Subnet]:
        return [Subnet.from_json(s) for s in await self.query("/subnets")]

    async def metagraph(self, netuid: int) -> Metagraph:
        return Metagraph.from_json(await self.query(f"/subnet/{netuid}/metagraph"))

    async def pending_nonce(self, address: str) -> int:
        """The next nonce for ``address`` by the node's pending (check) state; the committed
        nonce from a node without the pending route."""
        res = await self.rpc.abci_query(pending_path(address))
        if res.code == UNKNOWN_QUERY_PATH:
            return (await self.account(address)).nonce
        return int(query_json(res)["nonce"])

    async def fee_of(self, raw: bytes) -> int:
        """The exact fee the chain requires of the signed tx ``raw`` (the ``/fee`` query)."""
        return int(query_json(await self.rpc.abci_query("/fee", data=raw))["fee"])

    async def quote_fee(self, msgs: list[Message], memo: str = "") -> int:
        """The fee :meth:`send` pays for ``msgs`` (exact: what the chain charges)."""
        p = await self.params()
        return tx_fee(await self._signed(_ANY_KEY, p, 0, msgs, None, memo))

    async def _signed(
        self,
        key: Key,
        p: dict[str, Any],
        nonce: int,
        msgs: list[Message],
        fee: int | None,
        memo: str,
    ) -> bytes:
        """Sign with ``fee``, or by default the exact fee the node quotes for this tx
        (re-signed until the quote is the fee)."""
        raw = build_tx(key.signing_key, p["chain_id"], nonce, fee or 0, msgs, memo)
        if fee is not None:
            return raw
        the_fee = int(p["params"]["min_fee"])
        for _ in range(8):
            raw = build_tx(key.signing_key, p["chain_id"], nonce, the_fee, msgs, memo)
            need = await self.fee_of(raw)
            if need <= the_fee:
                return raw
            the_fee = need
        raise RuntimeError("the fee quote did not settle")  # pragma: no cover - sizes bounded

    async def broadcast(
        self,
        key: Key,
        msgs: list[Message],
        fee: int | None = None,
        memo: str = "",
        nonce: int | None = None,
    ) -> BroadcastResult:
        """Sign and ``broadcast_tx_sync`` under the key's lock, as :meth:`Chain.broadcast`."""
        p = await self.params()
        async with self.nonces.async_lock(key.address):
            for attempt in (1, 2):
                use = (
                    nonce
                    if nonce is not None
                    else self.nonces.next(key.address, await self.pending_nonce(key.address))
                )
                raw = await self._signed(key, p, use, msgs, fee, memo)
                res = await self.rpc.broadcast_tx_sync(raw)
                if res.code == BAD_NONCE and nonce is None and attempt == 1:
                    self.nonces.forget(key.address)
                    continue
                break
            if res.code != 0:
                raise chain_error(res.code, res.log, tx_hash=res.hash)
            self.nonces.sent(key.address, use)
        return res

    async def send(
        self,
        key: Key,
        msgs: list[Message],
        fee: int | None = None,
        memo: str = "",
        timeout: float = 30.0,
        nonce: int | None = None,
    ) -> CommittedTx:
        """Sign, broadcast, wait for the block (as :meth:`Chain.send`); concurrent sends from
        one key get consecutive nonces (:mod:`.nonces`)."""
        res = await self.broadcast(key, msgs, fee, memo, nonce)
        done = await self.rpc.wait_for_tx(res.hash, timeout=timeout)
        if done.code != 0:
            raise chain_error(done.code, done.log, tx_hash=done.hash, height=done.height)
        return done

    async def subscribe(
        self,
        query: str,
        reconnects: int = 5,
        backoff: float = 0.5,
        max_size: int = MAX_EVENT_BYTES,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Events matching ``query`` (CometBFT's query language, e.g. ``tm.event='Tx'``), as
        the ``result`` objects the WebSocket sends. Reconnects after a lost connection (a
        message over ``max_size`` bytes closes it). Raises ``RPCError`` for the node's refusal
        and for a message that is not a JSON-RPC object."""
        ws_url = self.rpc.url.replace("http://", "ws://").replace("https://", "wss://")
        ws_url += "/websocket"
        failures = 0
        while True:
            try:
                async with connect(
                    ws_url,
                    open_timeout=self.rpc.timeout,
                    close_timeout=CLOSE_TIMEOUT,
                    max_size=max_size,
                ) as ws:
                    request = {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "subscribe",
                        "params": {"query": query},
                    }
                    await ws.send(json.dumps(request))
                    async for raw in ws:
                        try:
                            msg = json.loads(raw)
                        except (ValueError, RecursionError):
                            raise RPCError("subscribe: a message that is not JSON") from None
                        result = msg.get("result") if isinstance(msg, dict) else None
                        if not isinstance(msg, dict) or not isinstance(result or {}, dict):
                            raise RPCError("subscribe: a message that is not a JSON-RPC object")
                        if msg.get("error"):
                            raise RPCError(f"subscribe: {str(msg['error'])[:200]}")
                        result = result or {}
                        if result.get("data"):
                            failures = 0
                            yield result
            except (OSError, WebSocketException, TimeoutError) as e:
                failures += 1
                if failures > reconnects:
                    raise NodeUnreachable(
                        f"lost the event stream of {ws_url} and could not reconnect "
                        f"({reconnects} tries): {type(e).__name__}: {e}"
                    ) from None
                await asyncio.sleep(backoff * failures)
