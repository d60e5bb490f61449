"""A lying RPC node for tests: forwards JSON-RPC to a real node and rewrites chosen answers.

Lies it can tell (``LyingProxy.lie``):
- ``account_json``: the balance in ``/account/…`` answers (what an unproven query shows),
- ``store_value``: the value bytes of ``/store/…`` answers (what a proof covers),
- ``app_hash``: the app hash in ``commit`` headers (what the proof is checked against),
- ``forged_commit``: the app hash in ``commit`` headers and the commit's block id made to match
  the altered header (only the validators' signatures can catch it).
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from abci_app.client.light import header_hash

LIE_BALANCE = 10**15


class LyingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lie: str | None = None
        self.calls: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                req = json.loads(body)
                proxy.calls.append(req.get("method", ""))
                with httpx.Client(timeout=10) as http:
                    answer = http.post(proxy.upstream, content=body).json()
                out = json.dumps(proxy.rewrite(req, answer)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def rewrite(self, req: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        result = answer.get("result")
        if result is None or self.lie is None:
            return answer
        method, params = req.get("method"), req.get("params") or {}
        path = str(params.get("path", ""))
        if method == "abci_query" and self.lie == "account_json" and path.startswith("/account/"):
            resp = result["response"]
            data = json.loads(base64.b64decode(resp["value"]))
            data["balance"] = str(LIE_BALANCE)
            resp["value"] = base64.b64encode(json.dumps(data).encode()).decode()
        if method == "abci_query" and self.lie == "store_value" and path.startswith("/store/"):
            resp = result["response"]
            fake = LIE_BALANCE.to_bytes(8, "big") + (0).to_bytes(8, "big")
            resp["value"] = base64.b64encode(fake).decode()
        if method == "commit" and self.lie in ("app_hash", "forged_commit"):
            sh = result["signed_header"]
            sh["header"]["app_hash"] = "AB" * 32
            if self.lie == "forged_commit":
                sh["commit"]["block_id"]["hash"] = header_hash(sh["header"]).hex().upper()
        return answer
