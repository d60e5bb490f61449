"""A subnet's metagraph kept in sync with the chain: who is registered, who has a validator
permit, where each miner's axon is.

It syncs from the chain's ``/subnet/<netuid>/metagraph`` query and then follows new blocks
over the WebSocket (``AsyncChain.subscribe``): on each block it reads the small
``/subnet/<netuid>`` record and fetches the whole metagraph again only when that record changed
(a registration, a stake change, an epoch) or ``full_every`` blocks have passed (axon changes
do not show in the record). It holds one metagraph at a time (bounded memory however long it
runs).

The node may be down, restarting, or hostile, and none of that stops or hangs a neuron: every
read goes through :mod:`.node_reads` (a timeout, any malformed answer an ``RPCError``, one of
:data:`SYNC_ERRORS`: logged, retried), the metagraph is checked by :func:`parse_metagraph`, and
the event stream is given up for a poll when it is lost, malformed, or silent for
``idle_seconds`` (a node that keeps the WebSocket open and sends nothing), then subscribed
again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from dataclasses import dataclass
from typing import Any

from ..address import from_bech32
from ..client.aio import AsyncChain
from ..client.rpc import NodeUnreachable, RPCError
from ..client.types import Metagraph, Neuron
from ..errors import InvalidAddress
from .node_reads import (
    MALFORMED,
    MAX_HEIGHT,
    SYNC_ERRORS,
    event_height,
    latest_height,
    node_object,
    node_query,
)

log = logging.getLogger("moderntensor.neurons.metagraph")

MAX_HEADER_EVENT_BYTES = 1 << 20
"""Largest ``NewBlockHeader`` event accepted (a real one is about 1 KiB); a bigger message
ends the subscription (the WebSocket client buffers up to 16 messages: 16 MiB at most)."""

__all__ = ["SYNC_ERRORS", "AxonInfo", "MetagraphSync", "axon_of", "parse_metagraph"]


def parse_metagraph(data: Any, netuid: int) -> Metagraph:
    """The metagraph from the node's JSON; ``RPCError`` when malformed or of another subnet."""
    try:
        mg = Metagraph.from_json(data)
    except MALFORMED as e:
        raise RPCError(f"malformed metagraph of subnet {netuid}: {type(e).__name__}") from None
    if mg.netuid != netuid or not 0 <= mg.height <= MAX_HEIGHT:
        raise RPCError(f"the node answered a metagraph of subnet {mg.netuid} for {netuid}")
    return mg


@dataclass(frozen=True)
class AxonInfo:
    """Where a uid's axon listens (from its ``serve_axon``)."""

    uid: int
    hotkey: str
    ip: str
    port: int

    @property
    def url(self) -> str:
        """``http://ip:port`` (IPv6 in brackets)."""
        host = f"[{self.ip}]" if ipaddress.ip_address(self.ip).version == 6 else self.ip
        return f"http://{host}:{self.port}"


def axon_of(n: Neuron) -> AxonInfo | None:
    """The neuron's axon, or None when it has not served one (port 0) or it (or the hotkey a
    request to it is signed for) is malformed."""
    ip, port = str(n.axon.get("ip", "")), n.axon.get("port", 0)
    if type(port) is not int or not 0 < port < 65_536:
        return None
    try:
        ipaddress.ip_address(ip)
        from_bech32(n.hotkey)
    except (ValueError, InvalidAddress):
        return None
    return AxonInfo(n.uid, n.hotkey, ip, port)


class MetagraphSync:
    """The latest metagraph of one subnet. ``await sync()`` once, then ``run()`` as a task."""

    def __init__(
        self,
        chain: AsyncChain,
        netuid: int,
        timeout: float = 10.0,
        full_every: int = 20,
        retry_seconds: float = 2.0,
        idle_seconds: float = 30.0,
    ) -> None:
        self.chain = chain
        self.netuid = netuid
        self.timeout = timeout
        self.full_every = full_every
        self.retry_seconds = retry_seconds
        self.idle_seconds = idle_seconds
        """A stream without a new block for this long is given up for a poll."""
        self.current: Metagraph | None = None
        self.subnet: dict[str, Any] = {}
        self.height = 0
        """The last block height seen (events or polls)."""
        self.synced_at = 0.0
        self.syncs = 0
        self._by_hotkey: dict[str, Neuron] = {}
        self._fingerprint: tuple[Any, ...] = ()

    # --- reads -----------------------------------------------------------------------------
    def neuron(self, hotkey: str) -> Neuron | None:
        """The neuron registered with ``hotkey`` (``mt1…``), or None."""
        return self._by_hotkey.get(hotkey)

    def is_validator(self, hotkey: str) -> bool:
        """Whether ``hotkey`` (``mt1…``) holds a validator permit on this subnet."""
        n = self._by_hotkey.get(hotkey)
        return n is not None and n.validator_permit

    def axons(self, exclude: str | None = None) -> list[AxonInfo]:
        """Every served axon, by uid, except the neuron ``exclude`` (the caller itself)."""
        if self.current is None:
            return []
        found = (axon_of(n) for n in self.current.neurons if n.hotkey != exclude)
        return sorted((a for a in found if a is not None), key=lambda a: a.uid)

    # --- sync ------------------------------------------------------------------------------
    async def sync(self) -> Metagraph:
        """Fetch the whole metagraph now (raises :data:`SYNC_ERRORS`; callers decide to
        retry)."""
        data = await node_query(self.chain, f"/subnet/{self.netuid}/metagraph", self.timeout)
        mg = parse_metagraph(data, self.netuid)
        self.current = mg
        self._by_hotkey = {n.hotkey: n for n in mg.neurons if isinstance(n.hotkey, str)}
        self.height = max(self.height, mg.height)
        self.synced_at = time.monotonic()
        self.syncs += 1
        return mg

    async def refresh(self, height: int) -> bool:
        """One block's step: re-read the subnet record and sync when it changed or the
        metagraph is ``full_every`` blocks old. True when a full sync ran."""
        self.height = max(self.height, height)
        subnet = await node_object(self.chain, f"/subnet/{self.netuid}", self.timeout)
        self.subnet = subnet
        fingerprint = tuple(
            subnet.get(k)
            for k in ("n", "registrations", "total_stake", "last_epoch", "epochs", "burn")
        )
        stale = self.current is None or height - self.current.height >= self.full_every
        if fingerprint != self._fingerprint or stale:
            await self.sync()
            self._fingerprint = fingerprint
            return True
        return False

    async def _step(self, height: int) -> None:
        try:
            await self.refresh(height)
        except SYNC_ERRORS as e:
            log.warning("metagraph %d: refresh at height %d failed: %s", self.netuid, height, e)

    async def _poll(self) -> None:
        try:
            await self._step(await latest_height(self.chain, self.timeout))
        except SYNC_ERRORS as e:
            log.warning("metagraph %d: node unreachable: %s", self.netuid, e)

    async def _follow(self) -> None:
        """One subscription: a step per new block until the stream is lost, sends something
        that is not a block event, or stays silent ``idle_seconds`` (each raises one of
        :data:`SYNC_ERRORS`)."""
        events = self.chain.subscribe("tm.event='NewBlockHeader'", max_size=MAX_HEADER_EVENT_BYTES)
        try:
            while True:
                try:
                    async with asyncio.timeout(self.idle_seconds):  # (in this task: no
                        event = await anext(events)  # second task left running the stream)
                except StopAsyncIteration:
                    raise NodeUnreachable("the event stream ended") from None
                except TimeoutError:
                    raise NodeUnreachable(f"no new block for {self.idle_seconds:.0f}s") from None
                await self._step(event_height(event))
        finally:
            await events.aclose()

    async def run(self) -> None:
        """Follow new blocks until cancelled. A lost WebSocket (node restart) is reconnected
        by the SDK; when that gives up, or the stream is malformed or silent, poll once and
        subscribe again after ``retry_seconds``."""
        while True:
            try:
                await self._follow()
            except SYNC_ERRORS as e:
                log.warning("metagraph %d: event stream lost: %s", self.netuid, e)
            await self._poll()
            await asyncio.sleep(self.retry_seconds)
