"""A neuron against a hostile RPC node, served from this test on loopback.

A miner or validator may be pointed at any node. Whatever the node answers (JSON of the wrong
shape, nesting deeper than the parser recurses, an answer without end, one trickled a byte at a
time, a WebSocket that sends garbage or nothing), the metagraph's reads end in one of
``SYNC_ERRORS`` within their timeout, its memory stays bounded, and its follower goes on: when
the node behaves again, the metagraph follows the chain again. The node here is a real HTTP and
WebSocket server (aiohttp); a real cometbft cannot be made to lie.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from harness import seeded_key

from abci_app.client.aio import AsyncChain
from abci_app.client.keyring import Key
from abci_app.client.rpc import NodeUnreachable, RPCError
from abci_app.client.types import Neuron
from abci_app.neurons.metagraph import MetagraphSync, axon_of
from abci_app.neurons.node_reads import SYNC_ERRORS, hyperparams, latest_height

MINER = Key("miner", seeded_key(902))


def neuron_json(uid: int, hotkey: str, port: int) -> dict[str, Any]:
    zero = dict.fromkeys(
        ("stake", "rank", "trust", "validator_trust", "consensus", "incentive", "dividends"), 0
    )
    return {
        "uid": uid,
        "hotkey": hotkey,
        **zero,
        "emission": 0,
        "last_update": 0,
        "registered_at": 0,
        "validator_permit": True,
        "active": True,
        "axon": {"ip": "127.0.0.1", "port": port},
    }


class HostileNode:
    """A node whose JSON-RPC answers and WebSocket events are chosen by the test.

    ``rpc`` and ``ws`` name a behaviour; "honest" answers like a node at ``height`` whose
    subnet 1 has one neuron (MINER)."""

    def __init__(self) -> None:
        self.rpc = "honest"
        self.ws = "honest"
        self.height = 10
        self.sent = 0
        """Bytes of answer bodies written (the endless answer stops when the client goes)."""
        self.runner: web.AppRunner | None = None
        self.url = ""

    def honest(self, method: str, params: dict[str, Any]) -> Any:
        if method == "status":
            return {"sync_info": {"latest_block_height": str(self.height)}}
        path = params["path"]
        if path.endswith("/metagraph"):
            value: Any = {
                "netuid": 1,
                "height": self.height,
                "neurons": [neuron_json(0, MINER.address, 8091)],
            }
        elif path.endswith("/hyperparams"):
            value = {"tempo": 10, "weights_rate_limit": 5, "commit_reveal": 1}
        else:
            value = {"n": 1, "registrations": 1, "total_stake": 0, "last_epoch": 0, "epochs": 0}
        raw = base64.b64encode(json.dumps(value).encode()).decode()
        return {"response": {"code": 0, "value": raw, "height": str(self.height)}}

    async def handle_rpc(self, request: web.Request) -> web.StreamResponse:
        call = await request.json()
        kind = self.rpc
        if kind == "honest":
            result = self.honest(call["method"], call["params"])
            return web.json_response({"jsonrpc": "2.0", "id": call["id"], "result": result})
        if kind in ("endless", "trickle"):
            resp = web.StreamResponse()
            await resp.prepare(request)
            await resp.write(b'{"jsonrpc": "2.0", "id": 1, "result": "')
            for _ in range(100_000):  # (stops when the client hangs up)
                chunk = b"a" * (1 << 16) if kind == "endless" else b"a"
                await resp.write(chunk)
                self.sent += len(chunk)
                if kind == "trickle":
                    await asyncio.sleep(0.05)
            return resp
        bodies = {
            "list": b"[1, 2, 3]",
            "deep": b"[" * 100_000,
            "no-result": b'{"jsonrpc": "2.0", "id": 1}',
            "error-list": b'{"error": [1]}',
            # answers that decode but are of the wrong shape inside
            "value-list": json.dumps(
                {"result": {"response": {"code": 0, "value": base64.b64encode(b"[1]").decode()}}}
            ).encode(),
            "neurons-object": json.dumps(
                {
                    "result": {
                        "response": {
                            "code": 0,
                            "value": base64.b64encode(
                                json.dumps({"netuid": 1, "height": 5, "neurons": {"a": 1}}).encode()
                            ).decode(),
                        }
                    }
                }
            ).encode(),
            "height-list": b'{"result": {"sync_info": {"latest_block_height": [1]}}}',
        }
        return web.Response(body=bodies[kind], content_type="application/json")

    async def handle_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoclose=False)
        await ws.prepare(request)
        await ws.receive()  # the subscribe request
        for _ in range(1000):
            if ws.closed:
                break
            kind = self.ws
            if kind == "silent":
                await asyncio.sleep(0.1)
                continue
            self.height += 1
            messages = {
                "honest": {"result": {"data": {"value": {"header": {"height": str(self.height)}}}}},
                "no-height": {"result": {"data": ["not", "a", "block"]}},
                "list": [1],
            }
            text = "[" * 100_000 if kind == "deep" else json.dumps(messages[kind])
            try:
                await ws.send_str(text)
            except ConnectionError:
                break
            await asyncio.sleep(0.05)
        return ws

    async def __aenter__(self) -> HostileNode:
        app = web.Application()
        app.router.add_post("/", self.handle_rpc)
        app.router.add_get("/websocket", self.handle_ws)
        self.runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def run(fn: Callable[[HostileNode, AsyncChain], Awaitable[None]], **chain_kw: Any) -> None:
    async def go() -> None:
        async with HostileNode() as node:
            kw = {"timeout": 2.0, "retries": 0, **chain_kw}
            async with AsyncChain(node.url, **kw) as chain:
                await fn(node, chain)

    asyncio.run(go())


@pytest.mark.parametrize(
    "kind", ["list", "deep", "no-result", "error-list", "value-list", "neurons-object"]
)
def test_a_malformed_answer_is_an_rpc_error(kind: str) -> None:
    """Each of these used to raise AttributeError, RecursionError or TypeError out of the
    metagraph's sync: a validator's round is not retried on those, so the process died."""

    async def go(node: HostileNode, chain: AsyncChain) -> None:
        mg = MetagraphSync(chain, 1, timeout=2)
        node.rpc = kind
        with pytest.raises(RPCError):
            await mg.sync()
        node.rpc = "honest"
        assert [n.hotkey for n in (await mg.sync()).neurons] == [MINER.address]

    run(go)


def test_malformed_status_and_hyperparams_are_rpc_errors() -> None:
    async def go(node: HostileNode, chain: AsyncChain) -> None:
        node.rpc = "height-list"
        with pytest.raises(RPCError):
            await latest_height(chain, 2)
        node.rpc = "value-list"
        with pytest.raises(RPCError):
            await hyperparams(chain, 1, 2)
        node.rpc = "honest"
        assert await latest_height(chain, 2) == node.height
        assert (await hyperparams(chain, 1, 2))["tempo"] == 10

    run(go)


def test_an_endless_answer_is_cut_at_the_size_cap() -> None:
    """Before, the whole answer was read into memory (300 MB of it: 680 MB of RSS)."""

    async def go(node: HostileNode, chain: AsyncChain) -> None:
        node.rpc = "endless"
        with pytest.raises(RPCError, match="larger than"):
            await chain.query("/subnet/1")
        assert node.sent < 16 << 20  # the client hung up after about 1 MiB

    run(go, max_response_bytes=1 << 20, timeout=10.0)


def test_a_trickled_answer_is_cut_at_the_timeout() -> None:
    """httpx's timeout bounds each read, so a byte every 50 ms kept one call open for
    ~80 minutes; the timeout now bounds the whole attempt."""

    async def go(node: HostileNode, chain: AsyncChain) -> None:
        node.rpc = "trickle"
        with pytest.raises(NodeUnreachable):
            await chain.query("/subnet/1")
        assert node.sent < 200  # 1 s at a byte each 50 ms, with the loop's slack

    run(go, timeout=1.0)


def test_the_follower_survives_malformed_and_silent_streams() -> None:
    """A block event without a height killed the follower task (TypeError, silently: a miner
    then kept the permits of its start forever); a silent stream was waited on forever. Each
    kind of garbage in turn, then an honest stream: the follower is still there and follows."""

    async def go(node: HostileNode, chain: AsyncChain) -> None:
        mg = MetagraphSync(chain, 1, timeout=2, retry_seconds=0.1, idle_seconds=0.5)
        await mg.sync()
        follower = asyncio.create_task(mg.run())
        try:
            for kind in ("no-height", "list", "deep", "silent"):
                node.ws = kind
                await asyncio.sleep(0.8)  # more than the idle limit of garbage (or silence)
                assert not follower.done(), kind
                node.ws = "honest"
                seen = mg.height
                for _ in range(60):  # given up, polled, subscribed again: it follows
                    if mg.height > seen + 1:
                        break
                    await asyncio.sleep(0.1)
                assert mg.height > seen + 1 and not follower.done(), kind
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)

    run(go)


def test_an_axon_with_a_malformed_hotkey_or_port_is_not_queried() -> None:
    good = Neuron.from_json(neuron_json(0, MINER.address, 8091))
    assert axon_of(good) is not None
    for hotkey, port in (("mt1notanaddress", 8091), (MINER.address, True), (MINER.address, 0)):
        assert axon_of(Neuron.from_json(neuron_json(1, hotkey, port))) is None
    assert RPCError in SYNC_ERRORS and NodeUnreachable in SYNC_ERRORS
