"""The miner: train the task's reference model, serve it on an axon, announce it on chain.

On start it syncs the metagraph (the hotkey must be registered on the subnet), trains the
model, starts the axon and sends ``serve_axon`` when the chain does not already list this
address and port. Then it follows new blocks so the axon always knows the current validator
permits, until it is stopped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ..client.aio import AsyncChain
from ..client.keyring import Key
from ..errors import NotRegistered
from ..modules.subnets.messages import MsgServeAxon
from .axon import Axon
from .metagraph import MetagraphSync
from .model_runner import AsyncModel, SyncModel
from .node_reads import MAX_NODE_ANSWER_BYTES
from .tasks.base import Task

log = logging.getLogger("moderntensor.neurons.miner")

AXON_PROTOCOL = 4
"""``serve_axon``'s protocol field for this HTTP axon (Bittensor's value for its HTTP axon)."""


@dataclass(frozen=True)
class MinerConfig:
    """Knobs of a miner (CLI options of ``neuron miner``); seconds for timeouts."""

    netuid: int
    host: str = "127.0.0.1"
    """Address the axon listens on."""
    port: int = 8091
    external_ip: str = "127.0.0.1"
    """Address announced with serve_axon (what validators connect to)."""
    external_port: int | None = None
    """Port announced (default: the port listened on)."""
    max_concurrency: int = 8
    max_connections_per_ip: int = 16
    """Connections the axon holds from one address (raise it behind a reverse proxy)."""
    forward_timeout: float = 10.0
    rpc_timeout: float = 10.0
    full_sync_every: int = 10


class Miner:
    """``await Miner(...).run(stop)``: serve until ``stop`` is set."""

    def __init__(
        self,
        node: str,
        key: Key,
        task: Task,
        model: SyncModel | AsyncModel,
        config: MinerConfig,
    ) -> None:
        self.node = node
        self.key = key
        self.task = task
        self.model = model
        self.cfg = config
        self.axon: Axon | None = None
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Raises :class:`NotRegistered` when the hotkey has no uid on the subnet, and the
        SDK's errors when the node cannot be reached at start."""
        cfg = self.cfg
        chain = AsyncChain(
            self.node, cfg.rpc_timeout, retries=2, max_response_bytes=MAX_NODE_ANSWER_BYTES
        )
        metagraph = MetagraphSync(chain, cfg.netuid, cfg.rpc_timeout, cfg.full_sync_every)
        try:
            await metagraph.sync()
            me = metagraph.neuron(self.key.address)
            if me is None:
                raise NotRegistered(f"{self.key.address} has no uid on subnet {cfg.netuid}")
            self.axon = Axon(
                self.key,
                cfg.netuid,
                self.task,
                self.model,
                metagraph,
                host=cfg.host,
                port=cfg.port,
                max_concurrency=cfg.max_concurrency,
                forward_timeout=cfg.forward_timeout,
                max_connections_per_ip=cfg.max_connections_per_ip,
            )
            await self.axon.start()
            port = cfg.external_port or self.axon.port
            if me.axon.get("ip") != cfg.external_ip or me.axon.get("port") != port:
                msg = MsgServeAxon(cfg.netuid, cfg.external_ip, port, AXON_PROTOCOL, 0)
                done = await chain.send(self.key, [msg])
                log.info("serve_axon %s:%d at height %d", cfg.external_ip, port, done.height)
            log.info("uid %d serving %s on %s:%d", me.uid, self.task.name, cfg.host, self.axon.port)
            self.ready.set()
            follower = asyncio.create_task(metagraph.run())
            stopping = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({follower, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if follower.done():  # it never ends but by a bug: stop loudly rather than
                    # serve on with permits that no longer follow the chain
                    raise RuntimeError("the metagraph task stopped") from follower.exception()
            finally:
                for t in (follower, stopping):
                    t.cancel()
                await asyncio.gather(follower, stopping, return_exceptions=True)
        finally:
            if self.axon is not None:
                await self.axon.stop()
            await chain.aclose()
