"""``moderntensor completion SHELL``: print the shell completion script of the whole command."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script (example: eval "$(moderntensor completion bash)", or
    add that line to ~/.bashrc)."""
    cls = get_completion_class(shell)
    assert cls is not None  # the three choices are click's built-in shells
    root = ctx.find_root().command  # the `moderntensor` group this command is registered in
    click.echo(cls(root, {}, "moderntensor", "_MODERNTENSOR_COMPLETE").source())
