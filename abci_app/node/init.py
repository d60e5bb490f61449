"""``moderntensor node init``: a new single-node chain in a home folder.

Runs ``cometbft init`` (node key, validator key, a genesis with that validator), applies the
config template, and replaces the genesis chain id and ``app_state`` with the embedded default
genesis plus a freshly generated, funded ``dev`` key.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ..client.keyring import Keyring
from ..genesis import parse_app_state
from ..params import BASE_UNITS_PER_MDT
from .cometbft import find_cometbft, load_template, patch_config
from .home import NodeConfig, NodeHome

DEV_KEY = "dev"
DEFAULT_DEV_BALANCE = 1_000_000 * BASE_UNITS_PER_MDT


class InitError(Exception):
    """The home folder cannot be initialised (already initialised, cometbft failed)."""


def default_app_state() -> dict[str, Any]:
    text = (Path(__file__).resolve().parent.parent / "default_genesis.json").read_text()
    state: dict[str, Any] = json.loads(text)
    return state


def init_node(
    home: NodeHome,
    cfg: NodeConfig,
    overrides: list[tuple[str, str, Any]] | None = None,
    dev_balance: int = DEFAULT_DEV_BALANCE,
    template: str = "single-node",
) -> str:
    """Initialise ``home``; return the dev key's address."""
    if home.is_initialised():
        raise InitError(f"{home.root} is already initialised (remove it to start over)")
    binary = find_cometbft()
    home.root.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [str(binary), "init", "--home", str(home.cometbft)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise InitError(f"cometbft init failed: {proc.stderr.strip()}")

    config_path = home.cometbft / "config" / "config.toml"
    fill = {
        "abci_port": cfg.abci_port,
        "rpc_port": cfg.rpc_port,
        "p2p_port": cfg.p2p_port,
        "prometheus_port": cfg.prometheus_port,
        "moniker": cfg.moniker,
    }
    settings = load_template(template, fill) + list(overrides or [])
    config_path.write_text(patch_config(config_path.read_text(), settings))

    keyring = Keyring(home.keyring)
    dev = keyring.add(DEV_KEY)
    app_state = default_app_state()
    app_state["chain_id"] = cfg.chain_id
    app_state["accounts"] = [{"address": dev.address, "balance": str(dev_balance)}]
    parse_app_state(app_state, cfg.chain_id)  # the embedded genesis must pass our own rules

    genesis = json.loads(home.genesis_file.read_text())
    genesis["chain_id"] = cfg.chain_id
    genesis["app_state"] = app_state
    home.genesis_file.write_text(json.dumps(genesis, indent=2) + "\n")
    home.save_config(cfg)
    return dev.address
