"""A stranger's attacks on a miner's axon, over real sockets on loopback.

Each test is an attack that worked before the axon limited its connections, stopped counting
unauthenticated requests as busy, refused compressed bodies and ran models in threads of their
own: slowloris connections from one address, half-sent headers, a permitted validator's public
key with a body that never ends, a compression bomb, and a model that never returns (for the
callers and for the miner's own exit). The attacker connects from 127.0.0.2, the validator from
127.0.0.1 (both are the loopback interface on Linux), so per-address limits are exercised.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness import REPO, seeded_key

from abci_app.client.keyring import Key
from abci_app.errors import AxonBusy, BadForwardRequest
from abci_app.neurons.axon import Axon
from abci_app.neurons.dendrite import Dendrite
from abci_app.neurons.metagraph import AxonInfo
from abci_app.neurons.signing import HOTKEY, NONCE, SIGNATURE, TIMESTAMP, sign_request
from abci_app.neurons.tasks.base import Challenge, Task

VALIDATOR = Key("validator", seeded_key(900))
MINER = Key("miner", seeded_key(902))
ATTACKER_IP = "127.0.0.2"
POISON = 666
"""An input on which the models below never return."""


class Double(Task):
    name = "double"
    models = ("double",)
    max_inputs = 8

    def challenge(self, rng: Any, n: int) -> Challenge:
        xs = [rng.randrange(100) for _ in range(n)]
        return Challenge(xs, [2 * x for x in xs])

    def score(self, challenge: Challenge, outputs: Any) -> float:
        return float(outputs == challenge.expected)

    def check_inputs(self, inputs: Any) -> list[Any]:
        if not isinstance(inputs, list) or not 1 <= len(inputs) <= 8:
            raise BadForwardRequest("1-8 ints")
        return inputs

    def reference_miner(self, model: str) -> Any:
        return lambda xs: [2 * x for x in xs]


class Permits:
    def is_validator(self, hotkey: str) -> bool:
        return hotkey == VALIDATOR.address


async def until(cond: Any, what: str, timeout: float = 10.0) -> None:
    """Poll ``cond`` on the event loop (the axon's callbacks run meanwhile), at most
    ``timeout`` seconds."""
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def target(port: int) -> AxonInfo:
    return AxonInfo(1, MINER.address, "127.0.0.1", port)


async def ask(port: int, inputs: list[int] | None = None, timeout: float = 10) -> Any:
    async with Dendrite(VALIDATOR, timeout=timeout) as d:
        return await d.forward(target(port), 7, "double", inputs or [1, 2])


async def open_from_attacker(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(ATTACKER_IP, 0))


def claimed_headers(body_length: int, extra: str = "") -> bytes:
    """Request headers naming the validator's public key (public: the metagraph lists its
    address) with a signature the attacker cannot make."""
    return (
        f"POST /v1/forward HTTP/1.1\r\nHost: miner\r\nContent-Type: application/json\r\n"
        f"Content-Length: {body_length}\r\n{extra}"
        f"{HOTKEY}: {bytes(VALIDATOR.signing_key.verify_key).hex()}\r\n"
        f"{TIMESTAMP}: {int(time.time() * 1000)}\r\n{NONCE}: {'ab' * 16}\r\n"
        f"{SIGNATURE}: {'00' * 64}\r\n\r\n"
    ).encode()


async def with_axon(fn: Any, model: Any = None, **kw: Any) -> Any:
    ax = Axon(
        MINER, 7, Double(), model or Double().reference_miner("double"), Permits(), port=0, **kw
    )
    await ax.start()
    try:
        return await fn(ax)
    finally:
        await ax.stop()


def test_half_sent_headers_are_closed_and_one_address_cannot_hold_every_connection() -> None:
    async def go(ax: Axon) -> None:
        held = []
        for _ in range(12):
            reader, writer = await open_from_attacker(ax.port)
            writer.write(b"POST /v1/forward HTTP/1.1\r\nHost: miner\r\n")  # ...and no more
            held.append((reader, writer))
        assert ax.server is not None
        await until(lambda: ax.server.open + ax.server.dropped == 12, "12 connections seen")
        assert (ax.server.open, ax.server.dropped) == (4, 8)  # 4 per address
        assert ax.server.per_ip == {ATTACKER_IP: 4}
        ans = await ask(ax.port)  # another address is served meanwhile
        assert ans.ok, ans.error
        # the 4 admitted ones are closed once their headers are overdue: EOF, no answer
        for reader, writer in held:
            assert await asyncio.wait_for(reader.read(), 10) == b""
            writer.close()
        await until(lambda: ax.server.open == 0, "the half-sent requests' connections closed")

    asyncio.run(with_axon(go, max_connections_per_ip=4, header_timeout=0.5))


def test_a_permitted_validators_public_key_with_a_stalled_body_holds_no_model_slot() -> None:
    async def go(ax: Axon) -> None:
        stalled = []
        for _ in range(3):  # more than the 2 model slots
            reader, writer = await open_from_attacker(ax.port)
            writer.write(claimed_headers(100) + b"{")  # 1 of the 100 bytes announced
            stalled.append((reader, writer))
        await asyncio.sleep(0.2)
        ans = await ask(ax.port)
        assert ans.ok, ans.error  # (before: 429, every slot held by the stalled bodies)
        for reader, writer in stalled:
            head = await asyncio.wait_for(reader.read(), 10)
            assert head.startswith(b"HTTP/1.1 400") and b'"code":407' in head.replace(b" ", b"")
            writer.close()

    asyncio.run(with_axon(go, max_concurrency=2, read_timeout=1.0))


def test_compressed_bodies_are_refused_unread() -> None:
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip
    bomb = b"".join(deflate.compress(b"\0" * (1 << 20)) for _ in range(200)) + deflate.flush()
    assert len(bomb) < 300_000  # 200 MiB once inflated

    async def go(ax: Axon) -> None:
        # a signed request from the validator itself, gzip-encoded: refused, not inflated
        body = json.dumps({"netuid": 7, "task": "double", "inputs": [1]}).encode()
        packed = zlib.compress(body)
        async with Dendrite(VALIDATOR) as d:
            headers = sign_request(
                VALIDATOR.signing_key,
                "POST",
                "/v1/forward",
                packed,
                MINER.address_bytes,
                int(time.time() * 1000),
            )
            headers["Content-Encoding"] = "deflate"
            ans = await d.post(target(ax.port), packed, headers)
            assert isinstance(ans.error, BadForwardRequest) and ans.status == 400, ans
            assert "Content-Encoding" in ans.error.message
        # the bomb: answered 400 from its headers alone, the connection closed
        reader, writer = await open_from_attacker(ax.port)
        writer.write(claimed_headers(len(bomb), "Content-Encoding: gzip\r\n"))
        head = await asyncio.wait_for(reader.read(), 10)
        assert head.startswith(b"HTTP/1.1 400"), head[:200]
        writer.close()
        assert (await ask(ax.port)).ok

    asyncio.run(with_axon(go))


def test_a_model_that_never_returns_holds_its_slot_and_the_axon_says_busy() -> None:
    release = threading.Event()

    def model(xs: list[int]) -> list[int]:
        if xs[0] == POISON:
            release.wait(60)
        return [2 * x for x in xs]

    async def go(ax: Axon) -> None:
        hung = await asyncio.gather(ask(ax.port, [POISON]), ask(ax.port, [POISON]))
        assert [a.status for a in hung] == [504, 504]
        assert ax.in_flight == 2  # both calls still run past their timeout
        busy = await ask(ax.port)
        assert isinstance(busy.error, AxonBusy) and busy.status == 429, busy
        assert all(t.daemon for t in threading.enumerate() if t.name == "axon-model")
        release.set()
        await until(lambda: ax.in_flight == 0, "the hung calls' slots freed")
        assert (await ask(ax.port)).ok

    asyncio.run(with_axon(go, model=model, max_concurrency=2, forward_timeout=0.5))


# --- in a process of its own: the miner's file-descriptor limit and its exit -----------------
SERVE = """
import asyncio, json, signal, sys, threading
sys.path.insert(0, "tests"); sys.path.insert(0, "tests/unit")
from test_neurons_axon_attacks import MINER, POISON, Double, Permits
from abci_app.neurons.axon import Axon

def model(xs):
    if xs[0] == POISON:
        threading.Event().wait()  # never returns
    return [2 * x for x in xs]

async def main():
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    ax = Axon(MINER, 7, Double(), model, Permits(), port=0, forward_timeout=0.5)
    await ax.start()
    print(ax.port, flush=True)
    await stop.wait()
    await ax.stop()

asyncio.run(main())
"""


@contextmanager
def serving(nofile: int) -> Iterator[tuple[subprocess.Popen[str], int]]:
    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
    )
    try:
        assert proc.stdout is not None
        yield proc, int(proc.stdout.readline())
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_slowloris_cannot_exhaust_the_miners_file_descriptors() -> None:
    """At an open-file limit of 160, 200 half-sent requests from one address used to leave no
    descriptor for a validator (and the loop logged an accept() error on every turn)."""
    with serving(nofile=160) as (proc, port):

        async def go() -> None:
            held = []
            for _ in range(200):
                _, writer = await open_from_attacker(port)
                writer.write(b"POST /v1/forward HTTP/1.1\r\n")
                held.append(writer)
            ans = await ask(port)
            assert ans.ok, ans.error
            for writer in held:
                writer.close()

        asyncio.run(go())
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert proc.stderr is not None
        err = proc.stderr.read()
        assert proc.returncode == 0 and "accept" not in err, err[-2000:]


def test_a_miner_with_a_hung_model_still_exits_on_sigterm() -> None:
    """A thread of the loop's default pool cannot be stopped and is joined at exit, so a
    model that never returned kept the miner from ever exiting; its own daemon thread does
    not."""
    with serving(nofile=1024) as (proc, port):
        ans = asyncio.run(ask(port, [POISON]))
        assert ans.status == 504, ans
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)  # (raises TimeoutExpired when the miner hangs at exit)
        assert proc.returncode == 0
