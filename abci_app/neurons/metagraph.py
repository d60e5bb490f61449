"""A subnet's metagraph kept in sync with the chain: who is registered, who has a validator
permit, where each miner's axon is.

It syncs from the chain's ``/subnet/<netuid>/metagraph`` query and then follows new blocks
over the WebSocket (``AsyncChain.subscribe``): on each block it reads the small
``/subnet/<netuid>`` record and fetches the whole metagraph again only when that record changed
(a registration, a stake change, an epoch) or ``full_every`` blocks have passed (axon changes
do not show in the record). Every call has a timeout; a lost event stream falls back to polling
and reconnects; it holds one metagraph at a time (bounded memory however long it runs).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from dataclasses import dataclass
from typing import Any

from ..client.aio import AsyncChain
from ..client.rpc import NodeUnreachable, RPCError
from ..client.types import Metagraph, Neuron
from ..errors import ModernTensorError

log = logging.getLogger("moderntensor.neurons.metagraph")

SYNC_ERRORS = (NodeUnreachable, RPCError, ModernTensorError, TimeoutError, ValueError, KeyError)
"""What a sync may meet when the node is down, restarting or answering oddly: logged, retried."""


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
    """The neuron's axon, or None when it has not served one (port 0) or it is malformed."""
    ip, port = str(n.axon.get("ip", "")), n.axon.get("port", 0)
    if not isinstance(port, int) or not 0 < port < 65_536:
        return None
    try:
        ipaddress.ip_address(ip)
    except ValueError:
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
    ) -> None:
        self.chain = chain
        self.netuid = netuid
        self.timeout = timeout
        self.full_every = full_every
        self.retry_seconds = retry_seconds
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
    async def _query(self, path: str) -> Any:
        return await asyncio.wait_for(self.chain.query(path), self.timeout)

    async def sync(self) -> Metagraph:
        """Fetch the whole metagraph now (raises the SDK's errors; callers decide to retry)."""
        data = await self._query(f"/subnet/{self.netuid}/metagraph")
        mg = Metagraph.from_json(data)
        self.current = mg
        self._by_hotkey = {n.hotkey: n for n in mg.neurons}
        self.height = max(self.height, mg.height)
        self.synced_at = time.monotonic()
        self.syncs += 1
        return mg

    async def refresh(self, height: int) -> bool:
        """One block's step: re-read the subnet record and sync when it changed or the
        metagraph is ``full_every`` blocks old. True when a full sync ran."""
        self.height = max(self.height, height)
        subnet = await self._query(f"/subnet/{self.netuid}")
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
            status = await asyncio.wait_for(self.chain.rpc.call("status"), self.timeout)
            await self._step(int(status["sync_info"]["latest_block_height"]))
        except SYNC_ERRORS as e:
            log.warning("metagraph %d: node unreachable: %s", self.netuid, e)

    async def run(self) -> None:
        """Follow new blocks until cancelled. A lost WebSocket (node restart) is reconnected
        by the SDK; when that gives up, poll once and subscribe again after a pause."""
        while True:
            try:
                async for ev in self.chain.subscribe("tm.event='NewBlockHeader'"):
                    await self._step(int(ev["data"]["value"]["header"]["height"]))
            except SYNC_ERRORS as e:
                log.warning("metagraph %d: event stream lost: %s", self.netuid, e)
            await self._poll()
            await asyncio.sleep(self.retry_seconds)
