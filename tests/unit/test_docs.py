"""Documentation that must not drift from the code."""

from __future__ import annotations

import re
import tomllib

from harness import REPO

from abci_app.errors import ALL_ERRORS


def test_readme_error_table_matches_the_code() -> None:
    readme = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \|", readme, flags=re.M)
    documented = {int(code): name for code, name in rows}
    actual = {e.code: e.__name__ for e in ALL_ERRORS}
    assert documented == actual


def test_every_dependency_is_pinned_and_explained() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    deps = project["dependencies"] + extras["dev"] + extras["ml"]
    readme = (REPO / "README.md").read_text().lower()
    for dep in deps:
        name, sep, version = dep.partition("==")
        assert sep and version, f"{dep} is not pinned"
        assert name.lower() in readme, f"{name} is not explained in README.md"


def test_make_and_ci_pin_the_same_cometbft() -> None:
    makefile = (REPO / "Makefile").read_text()
    from abci_app.node.cometbft import COMETBFT_VERSION

    assert f"COMETBFT_VERSION := v{COMETBFT_VERSION}" in makefile
    assert "make test" in (REPO / ".ci" / "run").read_text()
