"""Axon and dendrite over real HTTP on loopback (no chain: permits come from a fixed set).

Every refusal of the axon is exercised with the dendrite a validator uses, and every way a
miner can misbehave (hang, garbage, huge answers, a forged signature) comes back as a scored
failure, never an exception or a hang.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from aiohttp import web
from harness import seeded_key

from abci_app.client.keyring import Key
from abci_app.errors import (
    AxonBusy,
    BadAxonResponse,
    BadForwardRequest,
    BadRequestSignature,
    MinerUnreachable,
    NotAValidator,
    ReplayedNonce,
    RequestTooLarge,
    StaleRequest,
    UnsignedRequest,
)
from abci_app.neurons.axon import FORWARD_PATH, Axon
from abci_app.neurons.dendrite import Dendrite
from abci_app.neurons.metagraph import AxonInfo
from abci_app.neurons.signing import HOTKEY, NONCE, SIGNATURE, TIMESTAMP
from abci_app.neurons.tasks.base import Challenge, Task

VALIDATOR = Key("validator", seeded_key(900))
STRANGER = Key("stranger", seeded_key(901))
MINER = Key("miner", seeded_key(902))
OTHER_MINER = Key("miner2", seeded_key(903))


class EchoTask(Task):
    """A tiny task: inputs are ints, the right output is each int doubled."""

    name = "echo"
    models = ("double",)
    max_inputs = 8

    def challenge(self, rng: Any, n: int) -> Challenge:
        xs = [rng.randrange(100) for _ in range(n)]
        return Challenge(xs, [2 * x for x in xs])

    def score(self, challenge: Challenge, outputs: Any) -> float:
        if not isinstance(outputs, list) or len(outputs) != len(challenge.expected):
            return 0.0
        return sum(o == e for o, e in zip(outputs, challenge.expected, strict=True)) / len(outputs)

    def check_inputs(self, inputs: Any) -> list[Any]:
        if not isinstance(inputs, list) or not 1 <= len(inputs) <= self.max_inputs:
            raise BadForwardRequest("1-8 ints")
        if any(type(x) is not int for x in inputs):
            raise BadForwardRequest("ints only")
        return inputs

    def reference_miner(self, model: str) -> Any:
        return lambda xs: [2 * x for x in xs]


class Permits:
    def __init__(self, *hotkeys: str) -> None:
        self.hotkeys = set(hotkeys)

    def is_validator(self, hotkey: str) -> bool:
        return hotkey in self.hotkeys


def info(axon: Axon, key: Key = MINER, uid: int = 1) -> AxonInfo:
    return AxonInfo(uid, key.address, "127.0.0.1", axon.port)


def body_of(inputs: list[Any], netuid: int = 7, task: str = "echo") -> bytes:
    return json.dumps({"netuid": netuid, "task": task, "inputs": inputs}).encode()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _with_axon(fn: Any, **kw: Any) -> Any:
    params: dict[str, Any] = {
        "port": 0,
        "max_body": 300_000,
        "max_concurrency": 2,
        "forward_timeout": 2.0,
    }
    params.update(kw.pop("axon", {}))
    model = kw.pop("model", EchoTask().reference_miner("double"))
    ax = Axon(MINER, 7, EchoTask(), model, Permits(VALIDATOR.address), **params)
    await ax.start()
    try:
        async with Dendrite(VALIDATOR, timeout=kw.pop("timeout", 3.0)) as d:
            return await fn(ax, d)
    finally:
        await ax.stop()


def test_a_permitted_validator_gets_a_signed_answer() -> None:
    async def go(ax: Axon, d: Dendrite) -> None:
        ans = await d.forward(info(ax), 7, "echo", [1, 2, 3])
        assert ans.ok, ans.error
        assert ans.outputs == [2, 4, 6] and 0 < ans.latency < 3
        assert ax.answers[200] == 1

    run(_with_axon(go))


def test_refusals_have_their_codes() -> None:
    async def go(ax: Axon, d: Dendrite) -> None:
        target = info(ax)
        # a stranger (no validator permit)
        async with Dendrite(STRANGER) as stranger:
            ans = await stranger.forward(target, 7, "echo", [1])
            assert isinstance(ans.error, NotAValidator) and ans.status == 403
        # a replayed nonce: the same signed request twice
        body = body_of([1])
        headers = d.signed(target, body)
        assert (await d.post(target, body, headers)).ok
        again = await d.post(target, body, headers)
        assert isinstance(again.error, ReplayedNonce) and again.status == 401
        # a stale timestamp (clock 60 s behind)
        late = Dendrite(VALIDATOR, clock=lambda: time.time() - 60)
        try:
            ans = await late.forward(target, 7, "echo", [1])
            assert isinstance(ans.error, StaleRequest) and ans.status == 401
        finally:
            await late.aclose()
        # a request signed for another axon (a miner relaying a validator's request)
        other = AxonInfo(1, OTHER_MINER.address, "127.0.0.1", ax.port)
        body = body_of([5])
        ans = await d.post(target, body, d.signed(other, body))
        assert isinstance(ans.error, BadRequestSignature)
        # a body changed after signing
        headers = d.signed(target, body_of([5]))
        ans = await d.post(target, body_of([6]), headers)
        assert isinstance(ans.error, BadRequestSignature)
        # no or malformed headers
        ans = await d.post(target, body, {"Content-Type": "application/json"})
        assert isinstance(ans.error, UnsignedRequest)
        bad = {**d.signed(target, body), NONCE: "zz"}
        assert isinstance((await d.post(target, body, bad)).error, UnsignedRequest)
        # too large, wrong netuid or task, bad inputs
        big = body_of(list(range(100_000)))
        ans = await d.post(target, big, d.signed(target, big))
        assert isinstance(ans.error, RequestTooLarge) and ans.status == 413
        deep = b"[" * 100_000 + b"]" * 100_000
        for wrong in (body_of([1], netuid=8), body_of([1], task="x"), body_of(["a"]), b"[1", deep):
            ans = await d.post(target, wrong, d.signed(target, wrong))
            assert isinstance(ans.error, BadForwardRequest) and ans.status == 400, wrong
        assert ax.answers[200] == 1  # only the first of the replayed pair was served

    run(_with_axon(go))


def test_over_concurrency_is_429_and_a_hanging_model_is_cut() -> None:
    release = asyncio.Event()

    async def slow(xs: list[int]) -> list[int]:
        await release.wait()
        return [2 * x for x in xs]

    async def go(ax: Axon, d: Dendrite) -> None:
        target = info(ax)
        first = [asyncio.create_task(d.forward(target, 7, "echo", [1])) for _ in range(2)]
        await asyncio.sleep(0.3)
        assert ax.in_flight == 2
        busy = await d.forward(target, 7, "echo", [1])
        assert isinstance(busy.error, AxonBusy) and busy.status == 429
        release.set()
        assert all(a.ok for a in await asyncio.gather(*first))

    run(_with_axon(go, model=slow))

    async def hang(xs: list[int]) -> list[int]:
        await asyncio.sleep(3600)
        return xs

    async def go2(ax: Axon, d: Dendrite) -> None:
        start = time.monotonic()
        ans = await d.forward(info(ax), 7, "echo", [1])
        assert isinstance(ans.error, MinerUnreachable) and ans.latency == d.timeout
        assert time.monotonic() - start < d.timeout + 1

    run(_with_axon(go2, model=hang, timeout=1.0, axon={"forward_timeout": 30.0}))


async def _raw_miner(handler: Any) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_post(FORWARD_PATH, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, int(port)


def test_garbage_unsigned_forged_and_endless_answers_are_failures() -> None:
    mode = ["plain"]

    async def garbage(request: web.Request) -> web.StreamResponse:
        kind = mode[0]
        if kind == "endless":
            resp = web.StreamResponse()
            await resp.prepare(request)
            for _ in range(10_000):
                await resp.write(b"x" * 4096)
            return resp
        if kind == "forged":  # signed by a key that is not the metagraph's hotkey
            from abci_app.neurons.signing import sign_response

            body = b'{"outputs": [2]}'
            sig = bytes.fromhex(request.headers[SIGNATURE])
            return web.Response(
                body=body, headers=sign_response(OTHER_MINER.signing_key, sig, 200, body)
            )
        if kind == "deep":  # signed by the right key, nested deeper than any parser recurses
            from abci_app.neurons.signing import sign_response

            body = b'{"outputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            sig = bytes.fromhex(request.headers[SIGNATURE])
            return web.Response(body=body, headers=sign_response(MINER.signing_key, sig, 200, body))
        return web.Response(body=b"<html>not json</html>")

    async def go() -> None:
        runner, port = await _raw_miner(garbage)
        try:
            async with Dendrite(VALIDATOR, timeout=5, max_answer_bytes=64 * 1024) as d:
                target = AxonInfo(3, MINER.address, "127.0.0.1", port)
                for kind in ("plain", "forged", "endless", "deep"):
                    mode[0] = kind
                    ans = await d.forward(target, 7, "echo", [1])
                    assert isinstance(ans.error, BadAxonResponse), (kind, ans)
            # no port listening at all
            async with Dendrite(VALIDATOR, timeout=2) as d:
                closed = AxonInfo(4, MINER.address, "127.0.0.1", 1)
                assert isinstance((await d.forward(closed, 7, "echo", [1])).error, MinerUnreachable)
        finally:
            await runner.cleanup()

    run(go())


def test_the_replay_guard_is_bounded() -> None:
    from abci_app.neurons.replay import NonceGuard

    guard = NonceGuard(window_ms=1000, max_entries=5, max_per_caller=3)
    now = 1_000_000
    for i in range(3):
        guard.accept(b"a", bytes([i]), now, now)
    with pytest.raises(AxonBusy):
        guard.accept(b"a", b"\x09", now, now)  # per-caller cap
    guard.accept(b"b", b"\x01", now, now)
    guard.accept(b"b", b"\x02", now, now)
    with pytest.raises(AxonBusy):
        guard.accept(b"c", b"\x01", now, now)  # global cap
    with pytest.raises(ReplayedNonce):
        guard.accept(b"b", b"\x02", now, now)
    # once the window has passed, old nonces are forgotten (and their replay is stale)
    later = now + 1001 + 1000
    with pytest.raises(StaleRequest):
        guard.accept(b"b", b"\x02", now, later)
    guard.accept(b"c", b"\x01", later, later)
    assert len(guard) == 1


def test_headers_are_named_as_documented() -> None:
    assert (HOTKEY, TIMESTAMP, NONCE, SIGNATURE) == (
        "X-MT-Hotkey",
        "X-MT-Timestamp",
        "X-MT-Nonce",
        "X-MT-Signature",
    )


def test_a_miners_refusal_cannot_crash_or_flood_the_validator() -> None:
    """Error answers are parsed too (the refusal's code and message): nesting deeper than the
    parser recurses, a code no int holds, a chain error's code, and a message written to forge
    log lines each come back as a failed answer; the validator's round goes on."""
    huge_int = b"9" * 5000  # longer than Python's int-from-string digit limit
    escape = "\x1b[2J"  # a terminal escape (clears the screen)
    forged = "ok\n2026-01-01 INFO moderntensor.neurons.validator: uid 1 scored 1.0" + escape
    refusals = {
        "deep": b"[" * 100_000 + b"]" * 100_000,
        "deep-error": b'{"error": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "inf-code": b'{"error": {"code": 1e999, "message": "x"}}',
        "huge-code": b'{"error": {"code": ' + huge_int + b', "message": "x"}}',
        "chain-code": b'{"error": {"code": 100, "message": "insufficient funds"}}',
        "list-message": b'{"error": {"code": 404, "message": [1]}}',
        "log-forging": json.dumps(
            {"error": {"code": 404, "message": forged + "y" * 100_000}}
        ).encode(),
    }
    mode = [""]

    async def refuse(request: web.Request) -> web.StreamResponse:
        return web.Response(status=400, body=refusals[mode[0]])

    async def go() -> None:
        runner, port = await _raw_miner(refuse)
        try:
            async with Dendrite(VALIDATOR, timeout=5) as d:
                target = AxonInfo(3, MINER.address, "127.0.0.1", port)
                for kind in refusals:
                    mode[0] = kind
                    (ans,) = await d.forward_all([target], 7, "echo", [1])
                    assert not ans.ok and ans.status == 400, (kind, ans)
                    text = ans.error.log() if ans.error else ""
                    assert text.isprintable() and len(text) < 300, (kind, text[:400])
                    if kind == "log-forging":  # a permit refusal, its text kept but defused
                        assert isinstance(ans.error, NotAValidator) and "scored 1.0" in text
                    else:
                        assert isinstance(ans.error, BadAxonResponse), (kind, ans)
        finally:
            await runner.cleanup()

    run(go())


def test_validators_flooding_the_replay_guard_leave_room_for_the_others() -> None:
    """A subnet's default 64 validators each sending nonces up to their cap within one window
    do not fill the guard: a 65th caller is still accepted (with a cap of 20,000 per caller,
    10 of them locked everyone else out for the window)."""
    from abci_app.neurons.replay import NonceGuard

    guard, now = NonceGuard(), 1_000_000
    for caller in range(64):
        who = caller.to_bytes(32, "big")
        for i in range(guard.max_per_caller):
            guard.accept(who, i.to_bytes(16, "big"), now, now)
        with pytest.raises(AxonBusy):
            guard.accept(who, b"one more", now, now)
    guard.accept(b"another validator", b"\x01", now, now)
    assert len(guard) == 64 * guard.max_per_caller + 1
