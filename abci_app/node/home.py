"""Layout of a node's home folder.

<home>/node.json          ports and chain id chosen at init
<home>/cometbft/          CometBFT's home (config/, data/)
<home>/app/state.sqlite   the app's consensus state
<home>/app/snapshots/     state-sync snapshots (one folder per height)
<home>/keyring/           local keys (the dev key of `make run`)
<home>/logs/              app.log and cometbft.log when started by `node start`
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class NodeConfig:
    chain_id: str
    moniker: str
    rpc_port: int
    p2p_port: int
    abci_port: int
    prometheus_port: int
    app_metrics_port: int = 26661
    """The app's own Prometheus endpoint (0: off); node.json files from before it default."""
    snapshot_interval: int = 0
    """Take a state-sync snapshot every this many blocks (0: none). Not a consensus param:
    each node chooses; localnets use 20."""
    snapshot_keep: int = 2
    """How many of the newest snapshots to keep."""
    snapshot_chunk_bytes: int = 1 << 20
    """Size of a snapshot chunk (tests use small ones to get many chunks)."""

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    @property
    def abci_address(self) -> str:
        return f"tcp://127.0.0.1:{self.abci_port}"

    @property
    def app_metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.app_metrics_port}/metrics"


@dataclass(frozen=True)
class NodeHome:
    root: Path

    @property
    def cometbft(self) -> Path:
        return self.root / "cometbft"

    @property
    def state_db(self) -> Path:
        return self.root / "app" / "state.sqlite"

    @property
    def snapshots(self) -> Path:
        return self.root / "app" / "snapshots"

    @property
    def keyring(self) -> Path:
        return self.root / "keyring"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def config_file(self) -> Path:
        return self.root / "node.json"

    @property
    def genesis_file(self) -> Path:
        return self.cometbft / "config" / "genesis.json"

    def is_initialised(self) -> bool:
        return self.config_file.exists() and self.genesis_file.exists()

    def load_config(self) -> NodeConfig:
        return NodeConfig(**json.loads(self.config_file.read_text()))

    def save_config(self, cfg: NodeConfig) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(json.dumps(asdict(cfg), indent=2) + "\n")
