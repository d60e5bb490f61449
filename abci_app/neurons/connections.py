"""The axon's connection limits: how many TCP connections it holds, in all and per client IP.

An HTTP server on the internet meets clients that open connections and never finish a request
(slowloris). aiohttp accepts every connection and keeps an idle one for an hour by default, so
a single client could hold every file descriptor of the miner (at the common limit of 1,024,
1,100 half-sent requests made the axon unreachable for every validator and flooded its log with
``accept()`` errors). :class:`LimitedServer` admits at most ``max_connections`` connections, at
most ``max_per_ip`` of them from one address, and drops any other at once; the axon also closes
a connection whose request headers have not arrived ``header_timeout`` seconds after it opened
or after its previous answer (aiohttp's keep-alive timer, which covers both).

Rule source: the per-address and total connection limits of nginx (``limit_conn``) and the
header deadline of ``client_header_timeout``, the usual slowloris defences.
"""

from __future__ import annotations

import asyncio
import resource
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

FD_RESERVE = 64
"""File descriptors kept free of client connections (listener, node RPC, logs, model files)."""


def connection_cap(max_connections: int) -> int:
    """``max_connections``, lowered to what this process's open-file limit leaves after
    :data:`FD_RESERVE` (at least 1)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return max_connections
    return max(1, min(max_connections, soft - FD_RESERVE))


class LimitedServer(web.Server):
    """aiohttp's low-level server with connection limits (see the module's text).

    ``handler`` and ``kwargs`` are :class:`aiohttp.web.Server`'s. :attr:`open` counts the
    connections held, :attr:`dropped` those closed at once for being over a limit."""

    def __init__(
        self, handler: Any, *, max_connections: int, max_per_ip: int, **kwargs: Any
    ) -> None:
        super().__init__(handler, **kwargs)
        self.max_connections = connection_cap(max_connections)
        self.max_per_ip = max_per_ip
        self.per_ip: Counter[str] = Counter()
        self.dropped = 0
        self._peer: dict[RequestHandler, str] = {}

    @property
    def open(self) -> int:
        """Connections held now (admitted and not closed)."""
        return len(self._peer)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        peer = transport.get_extra_info("peername")
        ip = str(peer[0]) if peer else ""
        if self.open >= self.max_connections or self.per_ip[ip] >= self.max_per_ip:
            self.dropped += 1
            transport.abort()  # the descriptor is released now, not after a close handshake
            return
        self._peer[handler] = ip
        self.per_ip[ip] += 1

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        ip = self._peer.pop(handler, None)
        if ip is not None:
            self.per_ip[ip] -= 1
            if not self.per_ip[ip]:
                del self.per_ip[ip]
        super().connection_lost(handler, exc)
