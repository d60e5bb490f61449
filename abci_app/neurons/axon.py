"""The miner's server: one endpoint, ``POST /v1/forward``, on aiohttp's low-level server.

Request body ``{"netuid": int, "task": str, "inputs": [...]}``, answer ``{"outputs": [...]}``
(HTTP 200, signed by the miner's hotkey: see :mod:`.signing`). Before any request is read, a
connection must be admitted: at most ``max_connections`` in all and ``max_connections_per_ip``
from one address, with its request headers in within ``header_timeout`` seconds (at most 32
headers of 2 KiB; see :mod:`.connections`). A request is then checked in this order, cheapest
first, so a stranger costs the axon as little as possible:

1. it is ``POST /v1/forward`` (else 404 or 405) with no ``Content-Encoding`` (bodies are never
   decompressed: a small compressed body can inflate a thousandfold), else 400;
2. the four ``X-MT-*`` headers well-formed, else 401 (:class:`UnsignedRequest`);
3. timestamp within the window, else 401 (:class:`StaleRequest`);
4. the caller's hotkey holds a validator permit on this subnet in the synced metagraph, else
   403 (:class:`NotAValidator`);
5. body at most ``max_body`` bytes, else 413 (:class:`RequestTooLarge`), all of it received
   within ``read_timeout``, else 400;
6. the signature covers this method, path, body, timestamp, nonce and this axon's hotkey, else
   401 (:class:`BadRequestSignature`);
7. a model slot is free (at most ``max_concurrency`` model calls run at once), else 429
   (:class:`AxonBusy`): only a caller whose signature verified can take a slot, so a stranger
   sending a permitted validator's public key with a slow body holds none;
8. the nonce is new for this caller, else 401 (:class:`ReplayedNonce`);
9. the body is a forward request for this netuid and task with valid inputs, else 400
   (:class:`BadForwardRequest`);
10. the model answers within ``forward_timeout`` (else 504) without raising (else 500); see
    :mod:`.model_runner` for a model that never returns.

Error answers are JSON ``{"error": {"code", "name", "message"}}`` with the stable code of
``abci_app.errors`` and are not signed (signing costs a stranger nothing to trigger). A refused
request's unread body is not drained: the connection is closed after the answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from ..client.keyring import Key
from ..errors import (
    AxonBusy,
    BadForwardRequest,
    BadRequestSignature,
    ModernTensorError,
    NotAValidator,
    ReplayedNonce,
    RequestTooLarge,
    StaleRequest,
    UnsignedRequest,
)
from .connections import LimitedServer
from .model_runner import AsyncModel, ModelRunner, SyncModel
from .replay import NonceGuard
from .signing import parse_request_headers, sign_response, verify_request
from .tasks.base import Task

log = logging.getLogger("moderntensor.neurons.axon")

FORWARD_PATH = "/v1/forward"
HTTP_STATUS: dict[type[ModernTensorError], int] = {
    UnsignedRequest: 401,
    StaleRequest: 401,
    BadRequestSignature: 401,
    ReplayedNonce: 401,
    NotAValidator: 403,
    RequestTooLarge: 413,
    AxonBusy: 429,
    BadForwardRequest: 400,
}

MAX_HEADERS = 32
"""Most request headers (a dendrite sends 11); more is refused with 400 by the parser."""
MAX_HEADER_BYTES = 2048
"""Longest request line and header field (the longest ``X-MT-*`` value is 128 characters)."""


class PermitCheck(Protocol):
    """Who may call: :class:`~.metagraph.MetagraphSync` in a miner, a fixed set in tests."""

    def is_validator(self, hotkey: str) -> bool:
        """Whether ``hotkey`` (``mt1…``) may call this axon."""
        ...


def error_response(err: ModernTensorError) -> web.Response:
    """The JSON refusal for ``err``: its stable code and name, HTTP status by class."""
    body = {"error": {"code": err.code, "name": type(err).__name__, "message": err.log()}}
    return web.json_response(body, status=HTTP_STATUS.get(type(err), 400))


class Axon:
    """Serve ``model`` for ``task`` on ``netuid`` to permitted validators.

    ``model`` is a plain function (run in a thread of its own, so a slow model never blocks
    the event loop) or a coroutine function. Sizes are bytes, times seconds."""

    def __init__(
        self,
        key: Key,
        netuid: int,
        task: Task,
        model: SyncModel | AsyncModel,
        permits: PermitCheck,
        host: str = "127.0.0.1",
        port: int = 8091,
        max_body: int = 1 << 20,
        max_concurrency: int = 8,
        forward_timeout: float = 10.0,
        read_timeout: float = 5.0,
        guard: NonceGuard | None = None,
        clock: Callable[[], float] = time.time,
        max_connections: int = 256,
        max_connections_per_ip: int = 16,
        header_timeout: float = 10.0,
    ) -> None:
        self.key = key
        self.netuid = netuid
        self.task = task
        self.model = model
        self.permits = permits
        self.host = host
        self.port = port
        self.max_body = max_body
        self.max_concurrency = max_concurrency
        self.forward_timeout = forward_timeout
        self.read_timeout = read_timeout
        self.guard = guard or NonceGuard()
        self.clock = clock
        self.max_connections = max_connections
        self.max_connections_per_ip = max_connections_per_ip
        self.header_timeout = header_timeout
        self.runner = ModelRunner(model, max_concurrency, forward_timeout)
        self.answers: Counter[int] = Counter()
        """Answers given, by HTTP status (a handful of keys: bounded)."""
        self.server: LimitedServer | None = None
        self._runner: web.ServerRunner | None = None

    @property
    def in_flight(self) -> int:
        """Model calls running now (a call past its timeout counts until it returns)."""
        return self.runner.busy

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one; :attr:`port` then holds it)."""
        self.server = LimitedServer(
            self._route,
            max_connections=self.max_connections,
            max_per_ip=self.max_connections_per_ip,
            handler_cancellation=True,  # a caller that hangs up stops its request's work
            keepalive_timeout=self.header_timeout,  # headers due this long after connect
            lingering_time=0,  # a refused request's body is not read: the connection closes
            auto_decompress=False,
            max_headers=MAX_HEADERS,
            max_line_size=MAX_HEADER_BYTES,
            max_field_size=MAX_HEADER_BYTES,
            access_log=None,
        )
        # stop() waits this long for requests in flight, then cancels them
        self._runner = web.ServerRunner(self.server, shutdown_timeout=1.0)
        await self._runner.setup()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            await self._runner.cleanup()
            raise
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Close the listener; requests still in flight get 1 s, then are cancelled."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- the endpoint ----------------------------------------------------------------------
    async def _route(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path != FORWARD_PATH:
            return self._plain(404, f"not found: the endpoint is POST {FORWARD_PATH}")
        if request.method != "POST":
            return self._plain(405, f"method not allowed: the endpoint is POST {FORWARD_PATH}")
        try:
            return await self._handle(request)
        except ModernTensorError as e:
            return self._refuse(e)

    def _plain(self, status: int, message: str) -> web.Response:
        self.answers[status] += 1
        return web.json_response({"error": {"message": message}}, status=status)

    def _refuse(self, err: ModernTensorError) -> web.Response:
        log.debug("refused: %s", err.log())
        resp = error_response(err)
        self.answers[resp.status] += 1
        return resp

    async def _read_body(self, request: web.BaseRequest) -> bytes:
        """The raw body (chunked or not), at most ``max_body`` bytes, within
        ``read_timeout``."""
        if request.content_length is not None and request.content_length > self.max_body:
            raise RequestTooLarge(f"{request.content_length} bytes; the limit is {self.max_body}")
        chunks, size = [], 0
        try:
            async with asyncio.timeout(self.read_timeout):
                async for chunk in request.content.iter_any():
                    size += len(chunk)
                    if size > self.max_body:
                        raise RequestTooLarge(f"the limit is {self.max_body} bytes")
                    chunks.append(chunk)
        except TimeoutError:
            raise BadForwardRequest(f"body not received within {self.read_timeout}s") from None
        return b"".join(chunks)

    def _parse(self, body: bytes) -> list[Any]:
        try:
            req = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # (RecursionError: nesting)
            raise BadForwardRequest("body is not JSON") from None
        if not isinstance(req, dict) or set(req) != {"netuid", "task", "inputs"}:
            raise BadForwardRequest('body must be {"netuid", "task", "inputs"}')
        if type(req["netuid"]) is not int or req["netuid"] != self.netuid:
            raise BadForwardRequest(f"this axon serves netuid {self.netuid}")
        if req["task"] != self.task.name:
            raise BadForwardRequest(f"this axon serves task {self.task.name!r}")
        return self.task.check_inputs(req["inputs"])

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding != "identity":
            raise BadForwardRequest(f"Content-Encoding {encoding[:40]!r}: send the JSON as is")
        signed = parse_request_headers(request.headers)
        now_ms = int(self.clock() * 1000)
        self.guard.check_time(signed.timestamp_ms, now_ms)
        if not self.permits.is_validator(signed.address):
            raise NotAValidator(f"{signed.address} has no validator permit on {self.netuid}")
        body = await self._read_body(request)
        verify_request(signed, request.method, request.path, body, self.key.address_bytes)
        self.runner.check_free()  # (before the nonce is spent: a busy axon's caller may retry)
        self.guard.accept(signed.pubkey, signed.nonce, signed.timestamp_ms, now_ms)
        inputs = self._parse(body)
        try:
            outputs = await self.runner(inputs)
            answer = json.dumps({"outputs": outputs}, separators=(",", ":")).encode()
        except AxonBusy:
            raise
        except TimeoutError:
            log.warning("model did not answer within %.1fs", self.forward_timeout)
            self.answers[504] += 1
            return web.json_response({"error": {"message": "model timed out"}}, status=504)
        except Exception:  # the miner's own model failed: logged with its traceback, keep serving
            log.exception("the model raised")
            self.answers[500] += 1
            return web.json_response({"error": {"message": "model failed"}}, status=500)
        headers = sign_response(self.key.signing_key, signed.signature, 200, answer)
        self.answers[200] += 1
        return web.Response(
            body=answer, status=200, headers=headers, content_type="application/json"
        )
