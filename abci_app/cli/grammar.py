"""One CLI grammar for every command.

- **Global options anywhere**: ``--home``, ``--node``, ``-o/--output``, ``--timeout``,
  ``--keyring-backend``, ``--passphrase-file`` and ``-y/--yes`` are accepted before the command
  group (``moderntensor -o json keys list``) and after the command (``moderntensor keys list
  -o json``), as Cosmos CLIs accept them. :func:`add_global_options` copies them onto every
  command that does not define an option of the same name itself (``localnet start --node``
  keeps its own meaning); given after the command they override the ones given before.
- **One-line errors**: every bad argument is one line ``Error: …`` with exit code 2 (click's
  usage errors, without the usage text), every other expected failure one line ``Error: …``
  with exit code 1, and a bug is one line too (``Error: internal error …``) instead of a
  traceback (``MODERNTENSOR_DEBUG=1`` shows the traceback). :class:`OneLineGroup` does it in
  ``main``, so the console script and click's test runner behave alike.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

DEBUG_ENV = "MODERNTENSOR_DEBUG"


def one_line(text: str) -> str:
    """``text`` with its whitespace runs (newlines included) collapsed to single spaces."""
    return " ".join(text.split())


class OneLineGroup(click.Group):
    """A root group whose ``main`` reports every error as one ``Error: …`` line."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.exceptions.Abort:
            click.echo("Error: aborted", err=True)
            sys.exit(1)
        except click.UsageError as e:
            click.echo(f"Error: {one_line(e.format_message())}", err=True)
            sys.exit(2)
        except click.ClickException as e:
            click.echo(f"Error: {one_line(e.format_message())}", err=True)
            sys.exit(e.exit_code)
        except (KeyboardInterrupt, EOFError):
            click.echo("Error: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(1)
        except Exception as e:  # noqa: BLE001 - a bug: one line, not a traceback
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            click.echo(
                f"Error: internal error ({type(e).__name__}: {one_line(str(e))[:300]}); "
                f"please report it (set {DEBUG_ENV}=1 for the traceback)",
                err=True,
            )
            sys.exit(1)
        sys.exit(0)


def _store(field: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return  # not given here: keep what was given before the command (or the default)
        obj = ctx.find_root().obj
        if obj is not None:
            setattr(obj, field, value)

    return callback


def global_options() -> list[tuple[list[str], dict[str, Any], str]]:
    """(option names, click.Option keyword arguments, Ctx field) of each global option."""
    return [
        (["--home"], {"type": click.Path(path_type=Path), "help": "Node home folder."}, "home"),
        (["--node"], {"help": "CometBFT RPC URL."}, "node"),
        (["--output", "-o"], {"type": click.Choice(["text", "json"])}, "output"),
        (
            ["--timeout"],
            {"type": click.FloatRange(0.1, 3600), "help": "RPC timeout (s)."},
            "timeout",
        ),
        (
            ["--keyring-backend"],
            {"type": click.Choice(["file", "test", "os"]), "help": "Backend for new keys."},
            "keyring_backend",
        ),
        (
            ["--passphrase-file"],
            {"type": click.Path(path_type=Path), "help": "Keyring passphrase (0600 file)."},
            "passphrase_file",
        ),
        (["--yes", "-y"], {"is_flag": True, "help": "Do not ask for confirmation."}, "yes"),
    ]


def _commands(group: click.Group) -> Iterator[click.Command]:
    for cmd in group.commands.values():
        yield cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd)


def add_global_options(root: click.Group) -> None:
    """Give every command under ``root`` the global options it does not define itself."""
    for cmd in _commands(root):
        taken = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)}
        for names, kwargs, field in global_options():
            free = [n for n in names if n not in taken]
            if len(free) != len(names) or not free:
                continue
            kw = {k: v for k, v in kwargs.items() if k != "is_flag"}
            cmd.params.append(
                click.Option(
                    free,
                    is_flag=bool(kwargs.get("is_flag")),
                    default=None if not kwargs.get("is_flag") else False,
                    expose_value=False,
                    callback=_store(field),
                    **kw,
                )
            )


def walk_commands(root: click.Group) -> list[tuple[list[str], click.Command]]:
    """Every leaf command with its path of names (for tests and completion)."""
    out: list[tuple[list[str], click.Command]] = []

    def visit(group: click.Group, path: list[str]) -> None:
        for name, cmd in sorted(group.commands.items()):
            if isinstance(cmd, click.Group):
                visit(cmd, [*path, name])
            else:
                out.append(([*path, name], cmd))

    visit(root, [])
    return out
