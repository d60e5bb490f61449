"""The validator's client for axons: signed requests, one connection pool, bounded concurrency,
a hard deadline per request and a cap on the answer's size.

Nothing a miner does can hang the caller or grow its memory: a miner that never answers is cut
at ``timeout`` (the whole request, connect to last byte, not per read), one that streams
without end is cut at ``max_answer_bytes``, and every failure is returned as an
:class:`AxonAnswer` with an error (never raised), so one bad miner cannot stop a round. Every
byte a miner sends, answers and refusals alike, is parsed by :func:`untrusted_json`, and the
text of a refusal is passed through :func:`printable` before anyone logs it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ..address import from_bech32
from ..client.keyring import Key
from ..errors import (
    ERRORS_BY_CODE,
    BadAxonResponse,
    MinerUnreachable,
    ModernTensorError,
    NeuronError,
)
from .axon import FORWARD_PATH
from .metagraph import AxonInfo
from .signing import SIGNATURE, sign_request, verify_response


@dataclass(frozen=True)
class AxonAnswer:
    """One miner's answer: ``outputs`` when it answered validly, else ``error``."""

    uid: int
    hotkey: str
    outputs: Any
    latency: float
    """Seconds from sending to the last byte (the timeout when it timed out)."""
    error: ModernTensorError | None = None
    status: int = 0

    @property
    def ok(self) -> bool:
        """The miner answered, signed, with JSON holding ``outputs``."""
        return self.error is None


MAX_MESSAGE_CHARS = 200
"""Most characters of a miner's refusal message kept (it goes into the validator's log)."""


def untrusted_json(data: bytes) -> Any:
    """Parse bytes a miner sent. Raises :class:`BadAxonResponse` for anything that is not
    JSON, including nesting deeper than the parser recurses (``RecursionError``) and integers
    longer than Python's digit limit (a ``ValueError``)."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # (UnicodeDecodeError is a ValueError)
        raise BadAxonResponse("the answer is not JSON") from None


def printable(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` from a miner made safe for one log line: every non-printable character
    (newlines that would forge log lines, terminal escapes) becomes ``?``, and it is cut to
    ``limit`` characters."""
    clean = "".join(c if c.isprintable() else "?" for c in text[: limit + 1])
    return clean if len(clean) <= limit else clean[:limit] + "..."


def refusal(status: int, body: bytes) -> ModernTensorError:
    """The axon's error answer ``{"error": {"code", "message"}}`` as the exception class of
    its stable code, when that is an axon refusal (a :class:`~abci_app.errors.NeuronError`,
    codes 400-449) and the message a string; anything else is :class:`BadAxonResponse`
    ``HTTP <status>``. Never raises: the body is a miner's."""
    fallback = BadAxonResponse(f"HTTP {status}")
    try:
        data = untrusted_json(body)
    except BadAxonResponse:
        return fallback
    err = data.get("error") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        return fallback
    code, message = err.get("code"), err.get("message", "")
    cls = ERRORS_BY_CODE.get(code) if type(code) is int else None
    if cls is None or not issubclass(cls, NeuronError) or not isinstance(message, str):
        return fallback
    prefix = f"{cls.summary}: "
    return cls(printable(message[len(prefix) :] if message.startswith(prefix) else message))


class Dendrite:
    """Send forward requests signed by ``key`` (the validator's hotkey)."""

    def __init__(
        self,
        key: Key,
        timeout: float = 12.0,
        max_concurrency: int = 32,
        max_answer_bytes: int = 1 << 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        self.clock = clock
        self._sem = asyncio.Semaphore(max_concurrency)
        limits = httpx.Limits(
            max_connections=max_concurrency, max_keepalive_connections=max_concurrency
        )
        self._http = httpx.AsyncClient(limits=limits, timeout=timeout)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> Dendrite:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def signed(self, axon: AxonInfo, body: bytes, nonce: bytes | None = None) -> dict[str, str]:
        """Headers for ``body`` to ``axon``, signed now (``nonce``: tests reuse one)."""
        receiver = from_bech32(axon.hotkey)
        now_ms = int(self.clock() * 1000)
        headers = sign_request(
            self.key.signing_key, "POST", FORWARD_PATH, body, receiver, now_ms, nonce
        )
        return {**headers, "Content-Type": "application/json", "Accept-Encoding": "identity"}

    async def post(self, axon: AxonInfo, body: bytes, headers: dict[str, str]) -> AxonAnswer:
        """Send prepared bytes and headers (tests use it to replay or tamper); the answer's
        signature is checked against ``axon.hotkey``."""
        async with self._sem:
            start = time.monotonic()
            try:
                async with asyncio.timeout(self.timeout):
                    status, answer, resp_headers = await self._send(axon, body, headers)
            except TimeoutError:
                return AxonAnswer(
                    axon.uid,
                    axon.hotkey,
                    None,
                    self.timeout,
                    MinerUnreachable(f"no answer within {self.timeout}s"),
                )
            except httpx.HTTPError as e:
                return AxonAnswer(
                    axon.uid,
                    axon.hotkey,
                    None,
                    time.monotonic() - start,
                    MinerUnreachable(f"{type(e).__name__}: {e}"),
                )
            except BadAxonResponse as e:
                return AxonAnswer(axon.uid, axon.hotkey, None, time.monotonic() - start, e)
            latency = time.monotonic() - start
        return self._judge(axon, headers, status, answer, resp_headers, latency)

    async def _send(
        self, axon: AxonInfo, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, httpx.Headers]:
        url = axon.url + FORWARD_PATH
        async with self._http.stream("POST", url, content=body, headers=headers) as r:
            chunks, size = [], 0
            async for chunk in r.aiter_raw():
                size += len(chunk)
                if size > self.max_answer_bytes:
                    raise BadAxonResponse(f"answer larger than {self.max_answer_bytes} bytes")
                chunks.append(chunk)
            return r.status_code, b"".join(chunks), r.headers

    def _judge(
        self,
        axon: AxonInfo,
        headers: dict[str, str],
        status: int,
        answer: bytes,
        resp_headers: httpx.Headers,
        latency: float,
    ) -> AxonAnswer:
        def failed(err: ModernTensorError) -> AxonAnswer:
            return AxonAnswer(axon.uid, axon.hotkey, None, latency, err, status)

        if status != 200:
            return failed(refusal(status, answer))
        try:
            verify_response(
                resp_headers, axon.hotkey, bytes.fromhex(headers[SIGNATURE]), status, answer
            )
            data = untrusted_json(answer)
        except BadAxonResponse as e:
            return failed(e)
        if not isinstance(data, dict) or "outputs" not in data:
            return failed(BadAxonResponse('the answer has no "outputs"'))
        return AxonAnswer(axon.uid, axon.hotkey, data["outputs"], latency, None, status)

    async def forward(
        self, axon: AxonInfo, netuid: int, task: str, inputs: list[Any]
    ) -> AxonAnswer:
        """One signed ``POST /v1/forward`` to ``axon``; failures come back as the answer's
        ``error`` (:class:`MinerUnreachable`, :class:`BadAxonResponse`, or the axon's refusal
        such as :class:`~abci_app.errors.NotAValidator`)."""
        body = json.dumps(
            {"netuid": netuid, "task": task, "inputs": inputs}, separators=(",", ":")
        ).encode()
        return await self.post(axon, body, self.signed(axon, body))

    async def forward_all(
        self, axons: Sequence[AxonInfo], netuid: int, task: str, inputs: list[Any]
    ) -> list[AxonAnswer]:
        """The same request to every axon at once (at most ``max_concurrency`` in flight),
        answers in the order of ``axons``."""
        return list(await asyncio.gather(*(self.forward(a, netuid, task, inputs) for a in axons)))
