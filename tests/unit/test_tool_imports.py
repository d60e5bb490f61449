"""The tooling layers import in one direction (read from the source with ``ast``).

The chain (the package root, ``modules/``, ``state/``) never imports the tools built on top of
it: the CLI, node tooling, SDK, faucet, explorer or the load generator. Node tooling never
imports the CLI; nobody but the entry point imports the CLI. In ``node/``, the localnet plan is
a leaf and ``deploy_files``/``localnet`` go one way. CLI modules import at the top; an import
inside a command carries a comment saying why (a heavy module only that command needs). The
direction of the chain's own modules is checked in the consensus-side test; this one keeps to
the tools.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import abci_app

PACKAGE = Path(abci_app.__file__).resolve().parent
TOOLS = ("cli", "node", "client", "faucet", "explorer", "tools", "neurons", "e2e")
"""Top-level subpackages of abci_app that are tooling on top of the chain."""


def module_name(path: Path) -> str:
    """``abci_app/node/localnet.py`` -> ``abci_app.node.localnet``; a package's ``__init__``
    is the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool = False) -> list[tuple[str, bool]]:
    """Every module ``source`` may import, as (absolute name, inside a function). For
    ``from X import a`` both ``X`` and ``X.a`` are listed (``a`` may be a submodule)."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, inside) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    target = child.module or ""
                found.append((target, inside))
                found.extend((f"{target}.{alias.name}", inside) for alias in child.names)
            visit(child, inside)

    visit(tree, False)
    return found


def source_files() -> dict[str, tuple[Path, list[tuple[str, bool]]]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "_proto":  # generated protobuf stubs
            continue
        name = module_name(path)
        out[name] = (rel, imports_of(path.read_text(), name, path.name == "__init__.py"))
    return out


FILES = source_files()


def within(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def importers_of(prefix: str) -> set[str]:
    return {m for m, (_, imps) in FILES.items() if any(within(t, prefix) for t, _ in imps)}


def test_the_reader_resolves_relative_and_absolute_imports() -> None:
    src = "from ..node import genesis_file\nfrom . import common\nimport abci_app.tx\n"
    src += "def f():\n    from ...abci_app.state.db import StateDB\n"
    got = imports_of(src, "abci_app.cli.genesis")
    assert ("abci_app.node", False) in got and ("abci_app.node.genesis_file", False) in got
    assert ("abci_app.cli.common", False) in got and ("abci_app.tx", False) in got
    assert ("abci_app.state.db", True) in got
    assert ("abci_app.cli.x", False) in imports_of("from .x import y", "abci_app.cli", True)
    # and it sees the real tree: edges that exist today are found
    assert "abci_app.node.localnet" in importers_of("abci_app.node.plan")
    assert "abci_app.cli.main" in importers_of("abci_app.cli.staking")
    assert "abci_app.execution" in importers_of("abci_app.modules")


def consensus_core() -> list[str]:
    """The package root's modules (but the ``__main__`` entry point, which runs the CLI by
    design) and everything under ``modules/`` and ``state/``."""
    in_root = [n for n, (rel, _) in FILES.items() if len(rel.parts) == 1]
    in_core_packages = [n for n, (rel, _) in FILES.items() if rel.parts[0] in ("modules", "state")]
    return [n for n in in_root if n != "abci_app.__main__"] + in_core_packages


@pytest.mark.parametrize("tool", TOOLS)
def test_the_chain_imports_no_tooling(tool: str) -> None:
    core = consensus_core()
    assert "abci_app.execution" in core and "abci_app.modules.bank.handlers" in core
    bad = sorted(set(core) & importers_of(f"abci_app.{tool}"))
    assert not bad, f"consensus code imports abci_app.{tool}: {bad}"


def test_no_tool_module_sits_in_the_package_root() -> None:
    assert not (PACKAGE / "loadgen.py").exists()
    assert "abci_app.tools.loadgen" in FILES


def test_only_the_entry_point_imports_the_cli() -> None:
    outside = {m for m in importers_of("abci_app.cli") if not within(m, "abci_app.cli")}
    assert outside == {"abci_app.__main__"}


def test_node_tooling_does_not_import_the_cli() -> None:
    assert not {m for m in importers_of("abci_app.cli") if within(m, "abci_app.node")}


def test_the_sdk_imports_no_other_tool() -> None:
    for tool in TOOLS:
        if tool != "client":
            bad = {m for m in importers_of(f"abci_app.{tool}") if within(m, "abci_app.client")}
            assert not bad, f"the SDK imports abci_app.{tool}: {sorted(bad)}"


def test_localnet_plan_is_a_leaf_and_deploy_files_does_not_import_localnet() -> None:
    plan_imports = [t for t, _ in FILES["abci_app.node.plan"][1] if within(t, "abci_app")]
    assert plan_imports == [], "plan.py is pure data and imports nothing of abci_app"
    deploy = [t for t, _ in FILES["abci_app.node.deploy_files"][1]]
    assert not any(within(t, "abci_app.node.localnet") for t in deploy)
    assert "abci_app.node.deploy_files" in importers_of("abci_app.node.plan")


def test_node_tooling_has_no_import_cycle() -> None:
    nodes = [m for m in FILES if within(m, "abci_app.node")]
    edges = {m: {n for n in nodes if n != m and any(t == n for t, _ in FILES[m][1])} for m in nodes}
    done: set[str] = set()

    def walk(m: str, path: tuple[str, ...]) -> None:
        assert m not in path, f"import cycle: {' -> '.join((*path, m))}"
        if m in done:
            return
        for n in sorted(edges[m]):
            walk(n, (*path, m))
        done.add(m)

    for m in sorted(nodes):
        walk(m, ())


def unexplained_function_imports(source: str) -> list[int]:
    """Line numbers of import blocks inside functions with no comment line right above them
    (a block: consecutive import statements)."""
    lines = source.splitlines()
    bad = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            for field in ("body", "orelse", "finalbody"):
                stmts = getattr(node, field, None)
                if not isinstance(stmts, list):
                    continue
                for i, stmt in enumerate(stmts):
                    if not isinstance(stmt, ast.Import | ast.ImportFrom):
                        continue
                    if i and isinstance(stmts[i - 1], ast.Import | ast.ImportFrom):
                        continue  # inside a block: its first import is checked
                    above = lines[stmt.lineno - 2].strip() if stmt.lineno > 1 else ""
                    if not above.startswith("#"):
                        bad.append(stmt.lineno)
    return bad


def test_the_function_import_reader() -> None:
    src = "def f():\n    import a\n    import b\n"
    src += "def g():\n    x = 1\n    # heavy, only g needs it\n    import c\n    import d\n"
    src += "def h():\n    if x:\n        from .e import f\n"
    assert unexplained_function_imports(src) == [2, 11]


def test_cli_imports_sit_at_module_top_or_say_why() -> None:
    """A CLI module imports at its top; an import only one command needs and that is heavy
    may sit in that command, with a comment right above it saying why."""
    bad = {
        str(rel): lines
        for name, (rel, _) in FILES.items()
        if within(name, "abci_app.cli")
        and (lines := unexplained_function_imports((PACKAGE / rel).read_text()))
    }
    assert not bad, f"imports inside functions without a reason above them: {bad}"
