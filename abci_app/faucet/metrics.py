"""The faucet's Prometheus metrics (namespace ``moderntensor``): grants, tokens given and
refusals by reason. Served by ``faucet serve --metrics-port`` (off by default)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, start_http_server

from ..metrics import NAMESPACE


class FaucetMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r, ns = self.registry, NAMESPACE
        self.grants = Counter(
            "faucet_grants_total", "Grants sent by the faucet.", namespace=ns, registry=r
        )
        self.granted = Counter(
            "faucet_granted_tokens_total",
            "Tokens the faucet sent, base units.",
            namespace=ns,
            registry=r,
        )
        self.refusals = Counter(
            "faucet_refusals_total",
            "Requests the faucet refused, by reason (cooldown, ip_limit, daily_cap, ...).",
            ["reason"],
            namespace=ns,
            registry=r,
        )

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        start_http_server(port, addr=host, registry=self.registry)
