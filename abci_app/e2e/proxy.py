"""TCP proxies on loopback, one per P2P link, to cut a node off without touching its processes.

Every node of an e2e network dials its peers through a :class:`Link` (``src`` dials ``dst``):
a listener on an ephemeral loopback port forwarding to ``dst``'s real P2P port. Validators
have PEX off, so the links are the only way in or out of them. :meth:`ProxyHub.cut` closes every
link from or to a node (open connections reset, no new ones accepted); :meth:`ProxyHub.mend`
listens again on the same ports, and CometBFT's persistent-peer redial reconnects. Works without
root or network namespaces, so on any CI machine. The proxies run on their own asyncio loop in a
background thread of the runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

BUFFER = 1 << 16


@dataclass
class Link:
    src: str
    dst: str
    target_port: int
    port: int = 0
    server: asyncio.base_events.Server | None = None
    conns: set[asyncio.StreamWriter] = field(default_factory=set)
    bytes: int = 0
    """Bytes forwarded in both directions (shows traffic really flows through the proxy)."""


class ProxyHub:
    def __init__(self) -> None:
        self.links: list[Link] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="p2p-proxies")
        self._thread.daemon = True
        self._thread.start()

    def _run(self, coro: object) -> object:
        fut: Future[object] = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        return fut.result(timeout=15)

    def add(self, src: str, dst: str, target_port: int) -> Link:
        """A new link ``src`` -> ``dst``, listening on a free loopback port (``link.port``)."""
        with socket.socket() as s:  # a free port, then listened on with SO_REUSEADDR
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        link = Link(src, dst, target_port, port)
        self._run(self._listen(link))
        self.links.append(link)
        return link

    async def _listen(self, link: Link) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                up_r, up_w = await asyncio.open_connection("127.0.0.1", link.target_port)
            except OSError:
                writer.close()
                return
            link.conns.update((writer, up_w))
            await asyncio.gather(
                self._pipe(link, reader, up_w),
                self._pipe(link, up_r, writer),
                return_exceptions=True,
            )
            for w in (writer, up_w):
                link.conns.discard(w)

        link.server = await asyncio.start_server(handle, "127.0.0.1", link.port, reuse_address=True)

    async def _pipe(
        self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while data := await reader.read(BUFFER):
                link.bytes += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def _of(self, node: str) -> list[Link]:
        return [link for link in self.links if node in (link.src, link.dst)]

    def cut(self, node: str) -> int:
        """Close every link from or to ``node`` and its open connections; return how many."""
        links = self._of(node)
        self._run(self._cut(links))
        return len(links)

    async def _cut(self, links: list[Link]) -> None:
        for link in links:
            if link.server is not None:
                link.server.close()
                link.server = None
            for w in list(link.conns):
                transport = w.transport
                with contextlib.suppress(Exception):
                    transport.abort()  # a reset, as a pulled cable looks to the other side
            link.conns.clear()

    def mend(self, node: str) -> None:
        """Listen again on every link of ``node`` (same ports)."""
        for link in self._of(node):
            if link.server is None:
                self._run(self._listen(link))

    def connections(self, node: str) -> int:
        """Open proxied connections from or to ``node`` (each side counts)."""
        return sum(len(link.conns) for link in self._of(node))

    def close(self) -> None:
        self._run(self._cut(self.links))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
