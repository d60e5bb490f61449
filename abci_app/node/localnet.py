"""A multi-validator network on one machine: init, start, stop, status.

The plan (names, ports; ``plan.py``) is pure data shared with the Docker compose generator
(``deploy_files.py``), so both always agree. Every node is a cometbft + app pair with its own
home under the localnet root; ``localnet.json`` there records the plan.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..client.keyring import Keyring
from ..client.rpc import NodeUnreachable, RPCClient, RPCError
from ..params import BASE_UNITS_PER_MDT
from . import genesis_file
from .cometbft import CometBFTError, find_cometbft, parse_go_duration
from .deploy_files import alerts_text, prometheus_text
from .home import NodeConfig, NodeHome
from .init import node_id, pv_key_file, run_cometbft_init, write_config
from .plan import DOCKER_ABCI_SOCKET, DOCKER_PORTS, LocalnetError, LocalnetPlan, NodePlan
from .processes import child_env, node_process, signal_if
from .supervisor import StartError, port_in_use, wait_for_port

OPERATOR_BALANCE = 100_000 * BASE_UNITS_PER_MDT
SELF_BOND = 10_000 * BASE_UNITS_PER_MDT
FAUCET_BALANCE = 10_000_000 * BASE_UNITS_PER_MDT
DEV_BALANCE = 1_000_000 * BASE_UNITS_PER_MDT
SNAPSHOT_INTERVAL = 20
"""Every localnet node takes a state-sync snapshot every 20 blocks (node.json)."""


def load_plan(root: Path) -> LocalnetPlan:
    """The plan ``init_localnet`` recorded in ``root/localnet.json``.

    Raises:
        LocalnetError: there is no localnet in ``root``.
    """
    path = root / "localnet.json"
    if not path.exists():
        raise LocalnetError(f"no localnet in {root} (run `moderntensor localnet start`)")
    data = json.loads(path.read_text())
    data.pop("docker", None)
    return LocalnetPlan(**data)


def _fill(
    plan: LocalnetPlan, node: NodePlan, peers: str, seeds: str, docker: bool
) -> dict[str, Any]:
    n_nodes = len(plan.nodes())
    fill: dict[str, Any] = {
        "persistent_peers": peers,
        "seeds": seeds,
        "max_inbound": max(40, n_nodes + 5),
        "max_outbound": max(10, n_nodes + 5),
        **plan.timeouts(),
    }
    if docker:
        fill.update(
            proxy_app=DOCKER_ABCI_SOCKET,
            rpc_host="0.0.0.0",
            p2p_host="0.0.0.0",
            prom_host="0.0.0.0",
        )
    else:
        fill.update(
            proxy_app=f"tcp://127.0.0.1:{node.abci}",
            rpc_host="127.0.0.1",
            p2p_host="127.0.0.1",
            prom_host="127.0.0.1",
        )
    return fill


def _node_config(plan: LocalnetPlan, node: NodePlan, docker: bool) -> NodeConfig:
    if docker:
        d = DOCKER_PORTS
        return NodeConfig(
            plan.chain_id,
            node.name,
            d["rpc"],
            d["p2p"],
            d["abci"],
            d["prom"],
            d["app_metrics"],
            snapshot_interval=SNAPSHOT_INTERVAL,
        )
    return NodeConfig(
        plan.chain_id,
        node.name,
        node.rpc,
        node.p2p,
        node.abci,
        node.prom,
        node.app_metrics,
        snapshot_interval=SNAPSHOT_INTERVAL,
    )


PRESETS: dict[str, dict[str, dict[str, int]]] = {
    "default": {},
    "fast": {
        "staking": {"unbonding_blocks": 100},
        "slashing": {
            "signed_blocks_window": 20,
            "min_signed_per_window": 500_000_000,
            "downtime_jail_seconds": 30,
        },
    },
}
"""Genesis param sets for a localnet (``localnet init/start --preset``). ``fast`` makes what
mainnet values hide visible on a laptop, as consensus-specs' minimal preset does: unbonding
completes after 100 blocks (~2 minutes) instead of 1,814,400, and a validator that signs under
half of a 20-block window is jailed (for 30 s) instead of after ~9,500 missed blocks. Subnet
tempo is a subnet's own hyperparameter: ``subnet set-hyperparams N tempo=10``."""


def init_localnet(
    root: Path,
    plan: LocalnetPlan,
    docker: bool = False,
    staking_params: dict[str, int] | None = None,
    preset: str = "default",
) -> None:
    """Create every node's home, keys and config, and one genesis signed by all validators.

    ``preset`` is a key of PRESETS; ``staking_params`` override genesis staking params on top
    (tests use a short unbonding period).
    """
    if preset not in PRESETS:
        raise LocalnetError(f"unknown preset {preset!r}: use one of {', '.join(PRESETS)}")
    chosen = PRESETS[preset]
    if (root / "localnet.json").exists():
        raise LocalnetError(f"{root} already holds a localnet (use `localnet reset` first)")
    nodes = plan.nodes()
    homes = {n.name: NodeHome(root / n.name) for n in nodes}
    for n in nodes:
        run_cometbft_init(homes[n.name])
    ids = {n.name: node_id(homes[n.name]) for n in nodes}

    def addr(n: NodePlan) -> str:
        host, port = (f"cometbft{n.index}", DOCKER_PORTS["p2p"]) if docker else ("127.0.0.1", n.p2p)
        return f"{ids[n.name]}@{host}:{port}"

    validators = [n for n in nodes if n.validator]
    seed = [n for n in nodes if not n.validator]
    # development keys: the `test` backend, explicitly (unattended nodes, faucet and tests)
    Keyring.set_default_backend(root / "keyring", "test")
    shared = Keyring(root / "keyring", backend="test")
    # every node's timeout_commit is the shortest block interval: the evidence window stays
    # below the unbonding period in time as well as in blocks (the fast preset's 100 blocks)
    try:
        interval = parse_go_duration(plan.timeouts()["timeout_commit"]) or None
    except CometBFTError as e:
        raise LocalnetError(f"timeout_commit: {e}") from None
    g = genesis_file.new_genesis(
        plan.chain_id,
        staking_params={
            "max_validators": max(100, plan.validators),
            **chosen.get("staking", {}),
            **(staking_params or {}),
        },
        block_interval_ns=interval,
    )
    if "slashing" in chosen:
        g["app_state"]["slashing"] = {"params": dict(chosen["slashing"])}
    genesis_file.add_account(g, shared.add("faucet").address, FAUCET_BALANCE)
    genesis_file.add_account(g, shared.add("dev").address, DEV_BALANCE)
    for n in nodes:
        home = homes[n.name]
        # validators: every other validator as a persistent peer, the seed as seed; the seed:
        # the validators as its own seeds, so its crawl starts from a known address book
        peers = ",".join(addr(p) for p in validators if p.name != n.name) if n.validator else ""
        seeds = ",".join(addr(s) for s in (seed if n.validator else validators))
        template = "localnet-validator" if n.validator else "seed-node"
        write_config(
            home,
            _node_config(plan, n, docker),
            template,
            extra_fill=_fill(plan, n, peers, seeds, docker),
        )
        if n.validator:
            Keyring.set_default_backend(home.keyring, "test")
            op = Keyring(home.keyring, backend="test").add("validator")
            genesis_file.add_account(g, op.address, OPERATOR_BALANCE)
            gtx = genesis_file.gentx(
                op.signing_key, pv_key_file(home), SELF_BOND, n.name, plan.chain_id
            )
            genesis_file.add_validator(g, gtx.to_dict())
    genesis_file.validate(g, interval)
    for n in nodes:
        genesis_file.save(homes[n.name].genesis_file, g)
    genesis_file.save(root / "genesis.json", g)
    (root / "prometheus.yml").write_text(prometheus_text(plan, docker=docker))
    (root / "alerts.yml").write_text(alerts_text())
    (root / "localnet.json").write_text(json.dumps({**plan.to_dict(), "docker": docker}) + "\n")


def state_sync_settings(rpc_urls: list[str], timeout: float = 5.0) -> list[tuple[str, str, Any]]:
    """config.toml settings to join by state sync: two live nodes' RPC for the light client
    and a root of trust (height and hash of a recent block, read from the first of them)."""
    if len(rpc_urls) < 2:
        raise LocalnetError("state sync needs two live nodes (light client witnesses)")
    try:
        with RPCClient(rpc_urls[0], timeout=timeout, retries=1) as rpc:
            latest = rpc.latest_height()
            trust = max(1, latest - 2)
            block_id = rpc.call("block", height=str(trust))["block_id"]
    except (NodeUnreachable, RPCError) as e:
        raise LocalnetError(f"cannot read a trusted block from {rpc_urls[0]}: {e}") from None
    return [
        ("statesync", "enable", True),
        ("statesync", "rpc_servers", ",".join(rpc_urls[:2])),
        ("statesync", "trust_height", trust),
        ("statesync", "trust_hash", block_id["hash"]),
        ("statesync", "trust_period", "168h0m0s"),
        ("statesync", "discovery_time", "5s"),
        ("statesync", "chunk_request_timeout", "5s"),
    ]


def add_full_node(root: Path, name: str, state_sync: bool = False) -> NodePlan:
    """A new non-validator that knows only the seed node and syncs from genesis (block sync),
    or, with ``state_sync``, restores a snapshot served by its peers (its block store then
    starts at the snapshot height; two running validators serve the light client).

    It takes the next free slot of ports after the plan's nodes.
    """
    plan = load_plan(root)
    seeds = [n for n in plan.nodes() if not n.validator]
    if not seeds:
        raise LocalnetError("this localnet has no seed node to join through")
    if name in [n.name for n in all_nodes(root)]:
        raise LocalnetError(f"a node named {name} already exists")
    (root / "extra_nodes.json").write_text(json.dumps([*_extra_names(root), name]))
    node = all_nodes(root)[-1]
    home = NodeHome(root / name)
    run_cometbft_init(home)
    Keyring.set_default_backend(home.keyring, "test")  # a localnet's keys are development keys
    seed = seeds[0]
    seed_addr = f"{node_id(NodeHome(root / seed.name))}@127.0.0.1:{seed.p2p}"
    sync = (
        state_sync_settings([n.rpc_url for n in plan.nodes() if n.validator]) if state_sync else []
    )
    write_config(
        home,
        _node_config(plan, node, False),
        "localnet-validator",
        overrides=sync,
        extra_fill=_fill(plan, node, "", seed_addr, False),
    )
    genesis_file.save(home.genesis_file, genesis_file.load(root / "genesis.json"))
    from .deploy_files import prometheus_text

    docker = bool(json.loads((root / "localnet.json").read_text()).get("docker"))
    (root / "prometheus.yml").write_text(prometheus_text(plan, docker, all_nodes(root)))
    return node


def _extra_names(root: Path) -> list[str]:
    path = root / "extra_nodes.json"
    names: list[str] = json.loads(path.read_text()) if path.exists() else []
    return names


def all_nodes(root: Path) -> list[NodePlan]:
    """The plan's nodes, then full nodes added later with :func:`add_full_node`."""
    plan = load_plan(root)
    nodes = plan.nodes()
    for name in _extra_names(root):
        nodes.append(NodePlan.at(name, len(nodes), False, plan.base_port))
    return nodes


# --- processes -------------------------------------------------------------------------------
def _pids_file(root: Path) -> Path:
    return root / "pids.json"


def _read_pids(root: Path) -> dict[str, dict[str, int]]:
    path = _pids_file(root)
    return json.loads(path.read_text()) if path.exists() else {}


def _ours(pid: int, root: Path) -> bool:
    """True if ``pid`` is alive and is a node process (app or cometbft) of a home inside this
    localnet (not a reused pid, nor any program whose command line mentions the folder)."""
    got = node_process(pid)
    return got is not None and got[1].is_relative_to(root.resolve())


def spawn(cmd: list[str], log_path: Path) -> int:
    """Start ``cmd`` in a session of its own, appending its output to ``log_path``; its pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=child_env()
        )
    return proc.pid


def start_node(root: Path, node: NodePlan) -> dict[str, int]:
    """Start one node's app, wait for its ABCI port, then its cometbft; their pids.

    Raises:
        LocalnetError: a port of the node is in use, or the app did not listen within 30 s.
    """
    home = NodeHome(root.resolve() / node.name)
    for port in (node.abci, node.rpc, node.p2p):
        if port_in_use(port):
            raise LocalnetError(f"port {port} of {node.name} is in use (localnet already up?)")
    app = spawn(
        [sys.executable, "-m", "abci_app", "--home", str(home.root), "node", "app"],
        home.logs / "app.log",
    )
    try:
        wait_for_port(node.abci, 30)
    except StartError as e:
        raise LocalnetError(
            f"{node.name}: the app did not start ({e}); see {home.logs / 'app.log'}"
        ) from None
    comet = spawn(
        [str(find_cometbft()), "start", "--home", str(home.cometbft)], home.logs / "cometbft.log"
    )
    return {"app": app, "cometbft": comet}


def start_localnet(root: Path, only: list[str] | None = None) -> dict[str, dict[str, int]]:
    """Start every node (or those named in ``only``) not already running; all pids by node."""
    pids = _read_pids(root)
    for node in all_nodes(root):
        if only is not None and node.name not in only:
            continue
        running = pids.get(node.name, {})
        if running and all(_ours(p, root) for p in running.values()):
            continue
        pids[node.name] = start_node(root, node)
        _pids_file(root).write_text(json.dumps(pids, indent=2))
    return pids


def _terminate(pids: list[int], root: Path, timeout: float = 15.0) -> None:
    """SIGTERM ``pids`` (this localnet's, checked by the caller), then SIGKILL those that are
    still this localnet's processes after ``timeout`` seconds (checked again: a pid that ended
    may have been reused)."""

    def ours(pid: int) -> bool:
        return _ours(pid, root)

    for pid in pids:
        signal_if(pid, signal.SIGTERM, ours)
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _ours(p, root)]
        time.sleep(0.1)
    for pid in alive:
        signal_if(pid, signal.SIGKILL, ours)


def stop_localnet(root: Path, only: list[str] | None = None) -> list[str]:
    """Stop this localnet's processes (cometbft first, then apps); return the nodes stopped."""
    pids = _read_pids(root)
    stopped = []
    names = [n for n in pids if only is None or n in only]
    comets = [pids[n]["cometbft"] for n in names if _ours(pids[n]["cometbft"], root)]
    _terminate(comets, root)
    apps = [pids[n]["app"] for n in names if _ours(pids[n]["app"], root)]
    _terminate(apps, root)
    for n in names:
        pids.pop(n)
        stopped.append(n)
    _pids_file(root).write_text(json.dumps(pids, indent=2))
    return stopped


# --- status ----------------------------------------------------------------------------------
def node_status(node: NodePlan, timeout: float = 3.0) -> dict[str, Any]:
    """Height, app hash, catching up, voting power and peers of one node; ``up=False`` if it
    does not answer within ``timeout`` seconds."""
    out: dict[str, Any] = {"node": node.name, "rpc": node.rpc_url, "validator": node.validator}
    try:
        with RPCClient(node.rpc_url, timeout=timeout, retries=0) as rpc:
            st = rpc.status()
            net = rpc.call("net_info")
        out.update(
            up=True,
            height=int(st["sync_info"]["latest_block_height"]),
            app_hash=st["sync_info"]["latest_app_hash"],
            catching_up=st["sync_info"]["catching_up"],
            voting_power=int(st["validator_info"]["voting_power"]),
            peers=int(net["n_peers"]),
        )
    except (NodeUnreachable, RPCError):
        out.update(up=False)
    return out


def localnet_status(root: Path) -> dict[str, Any]:
    """Each node's height, peers, power and app hash, and whether they agree.

    Agreement is checked on one height every live node has: the app hash in the header of
    that block must be the same everywhere.
    """
    plan = load_plan(root)
    plan_nodes = all_nodes(root)
    nodes = [node_status(n) for n in plan_nodes]
    live = [n for n in nodes if n.get("up") and n["height"] > 0]  # a seed node keeps no blocks
    agree: bool | None = None
    common = min((n["height"] for n in live), default=0)
    if live and common > 0:
        hashes = set()
        for node, st in zip(plan_nodes, nodes, strict=True):
            if st in live:
                with RPCClient(node.rpc_url, timeout=3, retries=1) as rpc:
                    hdr = rpc.call("header", height=str(common))["header"]
                hashes.add(hdr["app_hash"])
        agree = len(hashes) == 1
    return {
        "chain_id": plan.chain_id,
        "nodes": nodes,
        "common_height": common,
        "app_hashes_agree": agree,
    }
