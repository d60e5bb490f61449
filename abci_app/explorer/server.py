"""The explorer's HTTP server: the static page, and a read-only proxy to the node's RPC.

The page cannot call CometBFT's RPC itself (another origin, and CORS is off by default), so
``/rpc/<method>?<params>`` forwards to the node, for read-only methods only: nothing the page
does can send a tx or change the node.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..httpserve import BackgroundHTTPServer

READ_ONLY = frozenset(
    {"status", "blockchain", "block", "block_results", "tx", "tx_search", "validators"}
    | {"abci_query", "net_info", "genesis_chunked"}
)
STATIC = {"/": ("index.html", "text/html"), "/app.js": ("app.js", "text/javascript")}
STATIC["/style.css"] = ("style.css", "text/css")


def _static(name: str) -> bytes:
    return resources.files("abci_app.explorer").joinpath("static", name).read_bytes()


class ExplorerServer(BackgroundHTTPServer):
    def __init__(self, node_url: str, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.node_url = node_url.rstrip("/")
        self.http = httpx.Client(timeout=10)
        explorer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:  # quiet: no per-request log
                return

            def do_GET(self) -> None:
                explorer.handle(self)

        super().__init__(host, port, Handler)

    def stop(self) -> None:
        super().stop()
        self.http.close()

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(req.path)
        if parts.path in STATIC:
            name, kind = STATIC[parts.path]
            self._send(req, 200, _static(name), f"{kind}; charset=utf-8")
        elif parts.path.startswith("/rpc/"):
            self._proxy(req, parts.path[len("/rpc/") :], parts.query)
        else:
            self._json(req, 404, {"error": f"no page {parts.path}"})

    def _proxy(self, req: BaseHTTPRequestHandler, method: str, query: str) -> None:
        if method not in READ_ONLY:
            self._json(req, 403, {"error": f"{method} is not a read-only RPC method"})
            return
        try:
            resp = self.http.get(f"{self.node_url}/{method}" + (f"?{query}" if query else ""))
        except httpx.TransportError as e:
            self._json(req, 502, {"error": f"the node at {self.node_url} did not answer: {e}"})
            return
        self._send(req, resp.status_code, resp.content, "application/json")

    def _json(self, req: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        self._send(req, status, json.dumps(body).encode(), "application/json")

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
        req.send_response(status)
        req.send_header("Content-Type", kind)
        req.send_header("Content-Length", str(len(body)))
        req.send_header("Cache-Control", "no-store")
        req.end_headers()
        req.wfile.write(body)
