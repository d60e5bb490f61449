"""``moderntensor e2e``: run fault-injection manifests against a loopback localnet."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click

from .common import Ctx


@click.group()
def e2e() -> None:
    """End-to-end runs: a localnet, a workload, perturbations, invariants."""


@e2e.command("run")
@click.argument("manifests", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the nodes live (default: a new temporary folder). Failed runs are kept.",
)
@click.option("--keep", is_flag=True, help="Keep the node folders of runs that passed too.")
@click.pass_obj
def e2e_run(obj: Ctx, manifests: tuple[Path, ...], workdir: Path | None, keep: bool) -> None:
    """Run each manifest and print one table; exit 0 only if every invariant held (example:
    moderntensor e2e run e2e/manifests/short.toml)."""
    # Imported here, not at the top: the runner checks the app's own invariants on the nodes'
    # databases, which loads every module of the chain; only this command needs them.
    from ..e2e.manifest import ManifestError, load_manifest
    from ..e2e.report import table
    from ..e2e.runner import run_manifest
    from ..e2e.versions import VersionError, previous_version

    try:
        loaded = [load_manifest(p) for p in manifests]
    except ManifestError as e:
        raise click.ClickException(str(e)) from None
    base = workdir or Path(tempfile.mkdtemp(prefix="moderntensor-e2e-"))
    quiet = obj.output == "json"

    def say(line: str) -> None:
        if not quiet:
            click.echo(line, err=True)

    reports = []
    for m in loaded:
        previous = None
        if m.upgrade is not None:
            try:
                previous = previous_version(base / "previous")
            except VersionError as e:
                raise click.ClickException(str(e)) from None
        reports.append(run_manifest(m, base, previous, say, keep))
    if obj.output == "json":
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        click.echo(table(reports))
    sys.exit(0 if all(r.held for r in reports) else 1)
