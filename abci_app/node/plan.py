"""The localnet plan: which nodes a localnet has and the ports each one uses.

Pure data, shared by the loopback localnet (``localnet.py``) and the files generated for it
(``deploy_files.py``: the Docker compose file and the Prometheus configs), so that both always
agree. It imports nothing else of ``abci_app.node``: ``localnet`` and ``deploy_files`` depend on
it, never on each other's plan.

Port rule: node i uses ``base + 10*i + k`` with k = 0 P2P, 1 RPC, 2 ABCI, 3 CometBFT metrics,
4 app metrics. The validators come first (``node0`` … ``node{N-1}``), then the optional seed
node, then full nodes added later. Inside Docker containers every node uses the standard ports
of ``DOCKER_PORTS`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_VALIDATORS = 4
DEFAULT_CHAIN_ID = "moderntensor-localnet-1"
DEFAULT_BASE_PORT = 27000
MAX_VALIDATORS = 200
PORTS_PER_NODE = 10
"""Node i's ports start at ``base_port + PORTS_PER_NODE * i``."""
DOCKER_PORTS = {"p2p": 26656, "rpc": 26657, "abci": 26658, "prom": 26660, "app_metrics": 26661}
DOCKER_ABCI_SOCKET = "unix:///data/abci.sock"
"""In compose, the app and cometbft of a node share its /data volume and talk over this unix
socket: the ABCI port (which has no authentication) is never on a network, not even the
compose network."""
"""The ports every node listens on inside its container (CometBFT's defaults, app metrics 26661)."""


class LocalnetError(Exception):
    """The localnet cannot be planned, created, started or inspected as asked."""


@dataclass(frozen=True)
class NodePlan:
    """One node of the plan: its name, its index (the port slot) and its loopback ports."""

    name: str
    index: int
    validator: bool
    p2p: int
    rpc: int
    abci: int
    prom: int
    app_metrics: int

    @classmethod
    def at(cls, name: str, index: int, validator: bool, base_port: int) -> NodePlan:
        """The node in port slot ``index``: ports ``base_port + 10*index + k`` (module doc)."""
        b = base_port + PORTS_PER_NODE * index
        return cls(name, index, validator, b, b + 1, b + 2, b + 3, b + 4)

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc}"


@dataclass(frozen=True)
class LocalnetPlan:
    """N validators (1..200) and an optional seed node from ``base_port`` on, for ``chain_id``.

    Raises:
        LocalnetError: the validator count or a port is out of range.
    """

    validators: int = DEFAULT_VALIDATORS
    seed: bool = True
    base_port: int = DEFAULT_BASE_PORT
    chain_id: str = DEFAULT_CHAIN_ID
    timeout_commit: str = ""
    """Block interval override (e.g. "300ms" in tests); empty: scaled with the node count."""

    def __post_init__(self) -> None:
        if not 1 <= self.validators <= MAX_VALIDATORS:
            raise LocalnetError(f"--validators must be between 1 and {MAX_VALIDATORS}")
        last = self.base_port + PORTS_PER_NODE * (self.validators + 1)
        if self.base_port < 1024 or last > 65535:
            raise LocalnetError(f"ports {self.base_port}..{last} are out of range")

    def nodes(self) -> list[NodePlan]:
        """The validators ``node0``…, then the seed node (if any), in port-slot order."""
        out = []
        for i in range(self.validators + (1 if self.seed else 0)):
            name = f"node{i}" if i < self.validators else "seed"
            out.append(NodePlan.at(name, i, i < self.validators, self.base_port))
        return out

    def to_dict(self) -> dict[str, Any]:
        """What ``localnet.json`` records of the plan (``timeout_commit`` is not kept)."""
        return {
            "validators": self.validators,
            "seed": self.seed,
            "base_port": self.base_port,
            "chain_id": self.chain_id,
        }

    def timeouts(self) -> dict[str, str]:
        """Block interval and propose timeout, scaled for many nodes sharing two cores."""
        n = self.validators
        commit_ms = 1000 if n <= 8 else 1000 + 50 * n
        propose_ms = 3000 if n <= 8 else 3000 + 200 * n
        return {
            "timeout_commit": self.timeout_commit or f"{commit_ms}ms",
            "timeout_propose": f"{propose_ms}ms",
        }
