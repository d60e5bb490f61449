"""``moderntensor node init``: a new single-node chain in a home folder.

Runs ``cometbft init`` (node key, consensus key), applies the config template, and writes a
genesis from the embedded default ``app_state`` plus a freshly generated, funded ``dev`` key
(keyring backend ``test``: unencrypted, for development) that is also the node's validator
operator: a gen_tx self-bonds part of its balance with the
node's consensus key, exactly as a multi-validator genesis does.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ..client.keyring import Keyring
from ..params import BASE_UNITS_PER_MDT
from . import genesis_file
from .cometbft import block_interval_ns, find_cometbft, load_template, patch_config
from .home import NodeConfig, NodeHome

DEV_KEY = "dev"
DEFAULT_DEV_BALANCE = 1_000_000 * BASE_UNITS_PER_MDT
DEFAULT_SELF_BOND = 10_000 * BASE_UNITS_PER_MDT
PRODUCTION_TEMPLATE = "production-validator"
"""The config template of a validator home: its keyring's default backend stays ``file``."""


class InitError(Exception):
    """The home folder cannot be initialised (already initialised, cometbft failed)."""


def default_app_state() -> dict[str, Any]:
    text = (Path(__file__).resolve().parent.parent / "default_genesis.json").read_text()
    state: dict[str, Any] = json.loads(text)
    return state


def run_cometbft_init(home: NodeHome) -> None:
    """``cometbft init`` in <home>/cometbft: node key, consensus key, stock config.toml."""
    home.root.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [str(find_cometbft()), "init", "--home", str(home.cometbft)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise InitError(f"cometbft init failed: {proc.stderr.strip()}")


def write_config(
    home: NodeHome,
    cfg: NodeConfig,
    template: str,
    overrides: list[tuple[str, str, Any]] | None = None,
    extra_fill: dict[str, Any] | None = None,
) -> None:
    """Apply a config template (filled from ``cfg`` and ``extra_fill``) and overrides."""
    config_path = home.cometbft / "config" / "config.toml"
    fill: dict[str, Any] = {
        "abci_port": cfg.abci_port,
        "rpc_port": cfg.rpc_port,
        "p2p_port": cfg.p2p_port,
        "prometheus_port": cfg.prometheus_port,
        "moniker": cfg.moniker,
    }
    fill.update(extra_fill or {})
    settings = load_template(template, fill) + list(overrides or [])
    config_path.write_text(patch_config(config_path.read_text(), settings))
    home.save_config(cfg)


def pv_key_file(home: NodeHome) -> Path:
    return home.cometbft / "config" / "priv_validator_key.json"


def node_id(home: NodeHome) -> str:
    """The P2P node id (hex of the node key's address), as ``cometbft show-node-id`` prints."""
    out = subprocess.run(
        [str(find_cometbft()), "show-node-id", "--home", str(home.cometbft)],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def init_node(
    home: NodeHome,
    cfg: NodeConfig,
    overrides: list[tuple[str, str, Any]] | None = None,
    dev_balance: int = DEFAULT_DEV_BALANCE,
    template: str = "single-node",
) -> str:
    """Initialise a single-validator chain in ``home``; return the dev key's address."""
    if home.is_initialised():
        raise InitError(f"{home.root} is already initialised (remove it to start over)")
    if dev_balance < DEFAULT_SELF_BOND:
        raise InitError(f"--dev-balance must be at least the self-bond {DEFAULT_SELF_BOND}")
    run_cometbft_init(home)
    write_config(home, cfg, template, overrides)
    # the dev key of a development chain: the `test` backend, chosen here explicitly (and made
    # the folder's default) so `make run` and the README's first commands need no passphrase;
    # a production validator's home keeps the sealed `file` default for the keys made there
    if template != PRODUCTION_TEMPLATE:
        Keyring.set_default_backend(home.keyring, "test")
    dev = Keyring(home.keyring, backend="test").add(DEV_KEY)
    # the node's timeout_commit is the shortest block interval: the evidence window is kept
    # below the unbonding period in time as well as in blocks
    interval = block_interval_ns(home.cometbft / "config" / "config.toml")
    genesis = genesis_file.new_genesis(
        cfg.chain_id, default_app_state()["params"], block_interval_ns=interval
    )
    genesis_file.add_account(genesis, dev.address, dev_balance)
    gtx = genesis_file.gentx(
        dev.signing_key, pv_key_file(home), DEFAULT_SELF_BOND, cfg.moniker, cfg.chain_id
    )
    genesis_file.add_validator(genesis, gtx.to_dict())
    genesis_file.validate(genesis, interval)
    genesis_file.save(home.genesis_file, genesis)
    return dev.address
