"""E2E manifests: a TOML file describing the network, the workload and the perturbations.

Every key is listed in :data:`TOP_KEYS`, :data:`WORKLOAD_KEYS` and :data:`PERTURB_KEYS`; any
other key is an error (a typo must not silently turn a fault off). Node names are
``validator0``…, ``full0``… and, for ``upgrade``, ``all``. See README ("E2E runner").
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..crashpoints import CRASH_POINTS

ACTIONS = ("kill", "pause", "restart", "disconnect", "crash_at", "upgrade")
PROCESS_ACTIONS = ("kill", "pause", "restart", "crash_at")
"""Perturbations that lose the node's mempool or stall it: the workload never submits there."""
ONCE_POINTS = ("init_chain:after", "snapshot:restore")
"""Crash points that happen once in a node's life: applied at the node's first start."""

TOP_KEYS = {
    "chain_id",
    "validators",
    "full_nodes",
    "seed",
    "blocks",
    "timeout_commit",
    "snapshot_interval",
    "snapshot_chunk_bytes",
    "state_sync",
    "join_height",
    "memory_limit_mib",
    "timeout_seconds",
    "workload",
    "perturb",
}
WORKLOAD_KEYS = {"transfers_per_block", "staking", "subnets", "seed"}
PERTURB_KEYS = {"at_height", "node", "action", "duration_blocks", "point"}


class ManifestError(ValueError):
    """The manifest is not valid TOML or breaks a rule; the message names the key."""


@dataclass(frozen=True)
class Workload:
    transfers_per_block: int = 10
    staking: bool = False
    subnets: bool = False
    seed: int = 1
    """Seeds the accounts' keys and the random choices (same manifest, same txs)."""


@dataclass(frozen=True)
class Perturbation:
    at_height: int
    node: str
    action: str
    duration_blocks: int = 3
    point: str = ""

    def describe(self) -> str:
        what = f"{self.action} {self.node}"
        if self.action == "crash_at":
            what += f" at {self.point}"
        if self.action in ("pause", "disconnect"):
            what += f" for {self.duration_blocks} blocks"
        return f"{what} @{self.at_height}"


@dataclass(frozen=True)
class Manifest:
    name: str
    chain_id: str = "e2e-1"
    validators: int = 4
    full_nodes: int = 0
    seed: bool = False
    blocks: int = 40
    timeout_commit: str = "300ms"
    snapshot_interval: int = 20
    snapshot_chunk_bytes: int = 4096
    state_sync: bool = False
    join_height: int = 0
    memory_limit_mib: int = 512
    timeout_seconds: int = 900
    workload: Workload = field(default_factory=Workload)
    perturb: tuple[Perturbation, ...] = ()

    @property
    def validator_names(self) -> list[str]:
        return [f"validator{i}" for i in range(self.validators)]

    @property
    def full_names(self) -> list[str]:
        return [f"full{i}" for i in range(self.full_nodes)]

    @property
    def upgrade(self) -> Perturbation | None:
        """The upgrade perturbation, if any (then the net starts on the previous version)."""
        return next((p for p in self.perturb if p.action == "upgrade"), None)

    def process_perturbed(self) -> set[str]:
        return {p.node for p in self.perturb if p.action in PROCESS_ACTIONS}

    def submitters(self) -> list[str]:
        """Validators the workload sends through: those whose processes are never perturbed
        (a killed node loses its mempool, which CometBFT does not persist)."""
        return [v for v in self.validator_names if v not in self.process_perturbed()]


def _check(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ManifestError(f"{where}: unknown key {unknown[0]!r} (allowed: {sorted(allowed)})")


def _typed(table: dict[str, Any], key: str, kind: type, default: Any, where: str) -> Any:
    value = table.get(key, default)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ManifestError(f"{where}.{key} must be an integer")
    if kind is not int and not isinstance(value, kind):
        raise ManifestError(f"{where}.{key} must be a {kind.__name__}")
    return value


def _int(
    table: dict[str, Any], key: str, default: int, where: str, lo: int, hi: int = 10**9
) -> int:
    value: int = _typed(table, key, int, default, where)
    if not lo <= value <= hi:
        raise ManifestError(f"{where}.{key} = {value} is out of range [{lo}, {hi}]")
    return value


def parse_manifest(data: dict[str, Any], name: str) -> Manifest:
    """Validate a parsed manifest; raise ManifestError naming the first bad key."""
    _check(data, TOP_KEYS, name)
    wl_raw = data.get("workload", {})
    if not isinstance(wl_raw, dict):
        raise ManifestError(f"{name}: [workload] must be a table")
    _check(wl_raw, WORKLOAD_KEYS, f"{name} [workload]")
    workload = Workload(
        transfers_per_block=_int(wl_raw, "transfers_per_block", 10, "workload", 0, 200),
        staking=_typed(wl_raw, "staking", bool, False, "workload"),
        subnets=_typed(wl_raw, "subnets", bool, False, "workload"),
        seed=_int(wl_raw, "seed", 1, "workload", 0),
    )
    m = Manifest(
        name=name,
        chain_id=_typed(data, "chain_id", str, "e2e-1", name),
        validators=_int(data, "validators", 4, name, 1, 10),
        full_nodes=_int(data, "full_nodes", 0, name, 0, 5),
        seed=_typed(data, "seed", bool, False, name),
        blocks=_int(data, "blocks", 40, name, 5, 100_000),
        timeout_commit=_typed(data, "timeout_commit", str, "300ms", name),
        snapshot_interval=_int(data, "snapshot_interval", 20, name, 0),
        snapshot_chunk_bytes=_int(data, "snapshot_chunk_bytes", 4096, name, 256, 16 << 20),
        state_sync=_typed(data, "state_sync", bool, False, name),
        join_height=_int(data, "join_height", 0, name, 0),
        memory_limit_mib=_int(data, "memory_limit_mib", 512, name, 16),
        timeout_seconds=_int(data, "timeout_seconds", 900, name, 30),
        workload=workload,
        perturb=tuple(_perturbation(p, i, name) for i, p in enumerate(_list(data, name))),
    )
    _check_rules(m)
    return m


def _list(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    raw = data.get("perturb", [])
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise ManifestError(f"{name}: perturb must be an array of tables ([[perturb]])")
    return raw


def _perturbation(raw: dict[str, Any], i: int, name: str) -> Perturbation:
    where = f"{name} perturb[{i}]"
    _check(raw, PERTURB_KEYS, where)
    for key in ("at_height", "node", "action"):
        if key not in raw:
            raise ManifestError(f"{where}: {key} is required")
    action = _typed(raw, "action", str, "", where)
    if action not in ACTIONS:
        raise ManifestError(f"{where}.action {action!r} is not one of {', '.join(ACTIONS)}")
    point = _typed(raw, "point", str, "", where)
    if action == "crash_at" and point not in CRASH_POINTS:
        raise ManifestError(f"{where}.point {point!r} is not one of {', '.join(CRASH_POINTS)}")
    if action != "crash_at" and point:
        raise ManifestError(f"{where}.point is only for crash_at")
    if "duration_blocks" in raw and action not in ("pause", "disconnect"):
        raise ManifestError(f"{where}.duration_blocks is only for pause and disconnect")
    return Perturbation(
        at_height=_int(raw, "at_height", 0, where, 0),
        node=_typed(raw, "node", str, "", where),
        action=action,
        duration_blocks=_int(raw, "duration_blocks", 3, where, 1, 1000),
        point=point,
    )


def _check_rules(m: Manifest) -> None:
    nodes = set(m.validator_names) | set(m.full_names)
    for p in m.perturb:
        where = f"{m.name}: {p.describe()}"
        if p.action == "upgrade":
            if p.node != "all":
                raise ManifestError(f"{where}: upgrade changes consensus: node must be 'all'")
            if p.at_height < 2:
                raise ManifestError(f"{where}: upgrade needs at_height >= 2 (the halt height)")
            continue
        if p.node not in nodes:
            raise ManifestError(f"{where}: no node {p.node!r} (nodes: {', '.join(sorted(nodes))})")
        if p.point in ONCE_POINTS and p.at_height != 0:
            raise ManifestError(
                f"{where}: {p.point} happens at the node's first start: at_height 0"
            )
        if p.point == "snapshot:restore" and not (m.state_sync and p.node in m.full_names):
            raise ManifestError(f"{where}: snapshot:restore needs a full node and state_sync")
        if p.point == "init_chain:after" and p.node in m.full_names and m.state_sync:
            raise ManifestError(f"{where}: a state-synced node never runs InitChain")
        if p.action != "crash_at" and p.at_height < 1:
            raise ManifestError(f"{where}: at_height must be >= 1")
        if p.action == "disconnect" and m.seed and p.node in m.full_names:
            raise ManifestError(
                f"{where}: full nodes use PEX through the seed, so their links cannot all be "
                "cut; disconnect validators, or set seed = false"
            )
    if m.upgrade is not None and sum(p.action == "upgrade" for p in m.perturb) > 1:
        raise ManifestError(f"{m.name}: at most one upgrade")
    if not m.submitters():
        raise ManifestError(
            f"{m.name}: leave at least one validator whose processes are not perturbed: the "
            "workload submits through it (a killed node loses its mempool)"
        )
    if m.state_sync:
        if m.full_nodes == 0 or m.snapshot_interval == 0:
            raise ManifestError(f"{m.name}: state_sync needs full_nodes and snapshot_interval")
        if m.join_height <= m.snapshot_interval:
            raise ManifestError(
                f"{m.name}: join_height must be past the first snapshot (snapshot_interval)"
            )
    if m.join_height >= m.blocks:
        raise ManifestError(f"{m.name}: join_height must be below blocks")


def load_manifest(path: Path) -> Manifest:
    """Read and validate a manifest file; ManifestError with one line on any problem."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise ManifestError(f"cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"{path.name} is not valid TOML: {e}") from None
    return parse_manifest(data, path.stem)
