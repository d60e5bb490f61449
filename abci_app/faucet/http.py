"""The faucet's HTTP interface: a small HTML page and a JSON API.

    GET  /              the page (a form that calls the API)
    GET  /api/status    faucet address, amount, limits, today's total
    POST /api/request   {"address": "mt1…"} -> 200 {"address", "amount", "tx_hash"}
                        or {"error": {"code", "message", "retry_after"?}} with 400/429/502
    GET  /healthz       "ok"

The client IP is the socket's peer; X-Forwarded-For is used only with ``trust_proxy`` (behind
a reverse proxy you control), since anyone can forge the header.
"""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler
from typing import Any

from ..httpserve import BackgroundHTTPServer
from .ledger import Refusal
from .service import Faucet

log = logging.getLogger("moderntensor.faucet")
MAX_BODY = 4096

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ModernTensor faucet</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}
input{width:100%;padding:.5rem;font-family:monospace}button{margin-top:.5rem;padding:.5rem 1rem}
#out{margin-top:1rem;white-space:pre-wrap;font-family:monospace}</style></head>
<body><h1>ModernTensor test-token faucet</h1>
<p id="info">Loading…</p>
<form id="f"><label for="address">Your address</label>
<input id="address" name="address" placeholder="mt1…" autocomplete="off" required>
<button type="submit">Request tokens</button></form><div id="out" role="status"></div>
<script>
const mdt = b => (Number(BigInt(b) / 1000000n) / 1000).toString() + " MDT";
fetch("/api/status").then(r => r.json()).then(s => {
  document.getElementById("info").textContent =
    `Sends ${mdt(s.amount)} per request from ${s.faucet_address}; one request per address ` +
    `every ${s.address_cooldown_seconds / 3600} h.`;
});
document.getElementById("f").addEventListener("submit", async e => {
  e.preventDefault();
  const out = document.getElementById("out");
  out.textContent = "Sending…";
  const address = document.getElementById("address").value.trim();
  const r = await fetch("/api/request", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({address})});
  const j = await r.json();
  out.textContent = r.ok ? `Sent ${mdt(j.amount)} to ${j.address}\\ntx ${j.tx_hash}`
                         : `Refused: ${j.error.message}`;
});
</script></body></html>
"""


def make_handler(faucet: Faucet, trust_proxy: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "moderntensor-faucet"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("%s %s", self.client_ip(), fmt % args)

        def client_ip(self) -> str:
            if trust_proxy:
                fwd = self.headers.get("X-Forwarded-For", "")
                if fwd.strip():
                    return fwd.split(",")[0].strip()
            return str(self.client_address[0])

        def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def error(self, status: int, code: str, message: str, retry: int | None = None) -> None:
            err: dict[str, Any] = {"code": code, "message": message}
            headers = {}
            if retry is not None:
                err["retry_after"] = retry
                headers["Retry-After"] = str(retry)
            self.send_json(status, {"error": err}, headers)

        def do_GET(self) -> None:
            if self.path == "/":
                data = PAGE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif self.path == "/api/status":
                self.send_json(200, faucet.status())
            elif self.path == "/healthz":
                self.send_json(200, {"ok": True})
            elif self.path == "/api/request":
                self.error(405, "method_not_allowed", "use POST with a JSON body")
            else:
                self.error(404, "not_found", f"no such path {self.path}")

        def do_POST(self) -> None:
            if self.path != "/api/request":
                self.error(404, "not_found", f"no such path {self.path}")
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if not 0 < length <= MAX_BODY:
                self.error(400, "bad_request", f"send a JSON body of 1-{MAX_BODY} bytes")
                return
            try:
                body = json.loads(self.rfile.read(length))
                address = body["address"]
                if not isinstance(address, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                self.error(400, "bad_request", 'the body must be {"address": "mt1…"}')
                return
            try:
                self.send_json(200, faucet.grant(address.strip(), self.client_ip()))
            except Refusal as r:
                self.error(r.status, r.code, r.message, r.retry_after)

    return Handler


class FaucetServer(BackgroundHTTPServer):
    """The faucet's page and API (background thread in tests, foreground in the CLI)."""

    def __init__(self, faucet: Faucet, host: str, port: int, trust_proxy: bool = False) -> None:
        super().__init__(host, port, make_handler(faucet, trust_proxy))
