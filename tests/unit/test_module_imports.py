"""Imports inside the chain go one way, read from the sources with ``ast`` (not regexes):

* modules: bank <- staking <- distribution, slashing; subnets <- bank (an arrow points at the
  importer); nothing else between modules;
* modules import no app layer (app, server, execution, tx, genesis, invariants, query,
  chain_modules, metrics) and the context only for type checking;
* the core's layers import downwards only: server -> app -> execution -> modules -> state;
* consensus code imports no tooling (cli, node, client, faucet, explorer, the load generator);
* only bank writes the total supply.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

from harness import REPO

PACKAGE = REPO / "abci_app"

MAY_IMPORT = {
    "bank": set(),
    "staking": {"bank"},
    "distribution": {"staking", "bank"},
    "slashing": {"staking", "bank"},
    "subnets": {"bank"},
}
APP_LAYER = {
    "app",
    "server",
    "execution",
    "tx",
    "genesis",
    "invariants",
    "query",
    "chain_modules",
    "metrics",
}
TOOLS = {"cli", "node", "client", "faucet", "explorer", "loadgen", "tools", "bench", "httpserve"}
CONSENSUS_ROOT = {
    "address",
    "app",
    "chain_modules",
    "codec",
    "context",
    "errors",
    "execution",
    "genesis",
    "invariants",
    "metrics",
    "params",
    "query",
    "schema",
    "server",
    "tx",
    "types",
}


@dataclass(frozen=True)
class Import:
    source: str  # dotted module that imports
    target: str  # dotted module (or module.name) imported
    names: tuple[str, ...]
    type_checking: bool


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every import of a file, relative ones resolved, marking those under TYPE_CHECKING."""
    source = module_name(path, root)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(n) for child in node.body for n in ast.walk(child))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append(Import(source, alias.name, (), id(node) in guarded))
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = tuple(a.name for a in node.names)
            out.append(Import(source, target, names, id(node) in guarded))
    return out


@functools.cache
def all_imports(root: Path) -> list[Import]:
    out = []
    for path in sorted(root.rglob("*.py")):
        if "_proto" in path.parts:
            continue
        out += imports_of(path, root)
    return out


def targets(imp: Import) -> list[str]:
    """The modules an import may reach: the target, and target.name for each name."""
    return [imp.target] + [f"{imp.target}.{n}" for n in imp.names]


def chain_module(dotted: str) -> str | None:
    parts = dotted.split(".")
    if len(parts) >= 3 and parts[:2] == ["abci_app", "modules"] and parts[2] in MAY_IMPORT:
        return parts[2]
    return None


def layer_violations(root: Path) -> list[str]:
    bad = []
    for imp in all_imports(root):
        src = chain_module(imp.source)
        if src is None:
            continue
        for target in targets(imp):
            dst = chain_module(target)
            if dst is not None and dst != src and dst not in MAY_IMPORT[src]:
                bad.append(f"{imp.source} imports {target} (module {src} may not use {dst})")
            parts = target.split(".")
            if parts[0] == "abci_app" and len(parts) > 1:
                top = parts[1]
                if top in APP_LAYER or top in TOOLS:
                    bad.append(f"{imp.source} imports {target} (a module imports no {top})")
                if top == "context" and not imp.type_checking:
                    bad.append(f"{imp.source} imports the context outside TYPE_CHECKING")
    return sorted(set(bad))


def is_consensus(dotted: str) -> bool:
    parts = dotted.split(".")
    if len(parts) < 2:
        return False
    return parts[1] in CONSENSUS_ROOT or parts[1] in {"modules", "state"}


def tool_violations(root: Path) -> list[str]:
    bad = []
    for imp in all_imports(root):
        if not is_consensus(imp.source):
            continue
        for target in targets(imp):
            parts = target.split(".")
            if (
                parts[0] == "abci_app"
                and len(parts) > 1
                and (parts[1] in TOOLS or "loadgen" in parts)
            ):
                bad.append(f"{imp.source} imports {target}")
    return sorted(set(bad))


RANK = {
    **dict.fromkeys(["address", "codec", "errors", "params", "schema", "types", "state"], 0),
    "modules": 1,
    **dict.fromkeys(["context", "chain_modules", "tx", "genesis", "invariants"], 2),
    **dict.fromkeys(["execution", "query"], 3),
    **dict.fromkeys(["metrics", "app"], 4),
    "server": 5,
}
"""The one direction of the core: server -> app -> execution -> modules -> state (a file
imports only from its own rank or lower ones)."""


def rank_violations(root: Path) -> list[str]:
    bad = []
    for imp in all_imports(root):
        src = imp.source.split(".")
        if len(src) < 2 or src[1] not in RANK or imp.type_checking:
            continue
        for target in targets(imp):
            dst = target.split(".")
            if dst[0] == "abci_app" and len(dst) > 1 and RANK.get(dst[1], -1) > RANK[src[1]]:
                bad.append(f"{imp.source} imports {target}")
    return sorted(set(bad))


def supply_writers(root: Path) -> list[str]:
    """Files outside bank that import the supply's setter or its key."""
    bad = []
    for imp in all_imports(root):
        if imp.source.startswith("abci_app.modules.bank"):
            continue
        for name in imp.names:
            if name in {"set_supply", "SUPPLY"}:
                bad.append(f"{imp.source} imports {name} from {imp.target}")
    return sorted(set(bad))


def test_chain_modules_import_in_the_allowed_direction_only() -> None:
    assert layer_violations(PACKAGE) == []


def test_consensus_code_imports_no_tooling() -> None:
    assert tool_violations(PACKAGE) == []


def test_the_core_layers_import_downwards_only() -> None:
    assert rank_violations(PACKAGE) == []


def test_only_bank_writes_the_total_supply() -> None:
    assert supply_writers(PACKAGE) == []


def test_the_checks_see_what_they_check(tmp_path: Path) -> None:
    """Each check reports a violation planted in a copy of a module's file (so none of them
    passes by looking at nothing), and the scanner sees the package's real imports."""
    edges = {(i.source, i.target) for i in all_imports(PACKAGE)}
    assert ("abci_app.modules.distribution.hooks", "abci_app.modules.staking.state") in edges
    assert len(edges) > 200
    root = tmp_path / "abci_app"
    (root / "modules" / "staking").mkdir(parents=True)
    (root / "modules" / "staking" / "handlers.py").write_text(
        "from ..distribution.rewards import settle\n"
        "from ...execution import route\n"
        "from ...cli.main import cli\n"
        "from ..bank.state import set_supply\n"
        "from ...context import ChainContext\n"
    )
    (root / "modules" / "subnets").mkdir(parents=True)
    (root / "modules" / "subnets" / "handlers.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from abci_app.modules.staking import state\n"
        "if TYPE_CHECKING:\n"
        "    from ...context import ChainContext\n"
    )
    (root / "execution.py").write_text("from .tools.loadgen import run\nfrom .app import App\n")
    layers = layer_violations(root)
    assert any("staking may not use distribution" in v for v in layers)
    assert any("subnets may not use staking" in v for v in layers)
    assert any("imports no execution" in v for v in layers)
    assert any("imports no cli" in v for v in layers)
    assert any("staking.handlers imports the context outside" in v for v in layers)
    assert not any("subnets.handlers imports the context" in v for v in layers)
    assert tool_violations(root) == [
        "abci_app.execution imports abci_app.tools.loadgen",
        "abci_app.execution imports abci_app.tools.loadgen.run",
        "abci_app.modules.staking.handlers imports abci_app.cli.main",
        "abci_app.modules.staking.handlers imports abci_app.cli.main.cli",
    ]
    assert rank_violations(root) == [
        "abci_app.execution imports abci_app.app",
        "abci_app.execution imports abci_app.app.App",
        "abci_app.modules.staking.handlers imports abci_app.context",
        "abci_app.modules.staking.handlers imports abci_app.context.ChainContext",
        "abci_app.modules.staking.handlers imports abci_app.execution",
        "abci_app.modules.staking.handlers imports abci_app.execution.route",
    ]
    assert supply_writers(root) == [
        "abci_app.modules.staking.handlers imports set_supply from abci_app.modules.bank.state"
    ]
