"""Shared CLI plumbing: the context object, output in text or JSON, amounts and errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from ..client.commits import CommitStoreError
from ..client.keyring import KeyringError
from ..client.light import LightClientError
from ..client.local_files import LocalFileError
from ..client.offline import OfflineTxError
from ..client.proof import ProofError
from ..client.rpc import NodeUnreachable, RPCClient, RPCError, TxTimeout
from ..codec import U64_MAX
from ..errors import ModernTensorError
from ..node.cometbft import CometBFTError
from ..node.init import InitError
from ..node.supervisor import StartError
from ..params import BASE_UNITS_PER_MDT


def default_home() -> Path:
    """$MODERNTENSOR_HOME, else ./.data if it exists (`make run`), else ~/.moderntensor."""
    env = os.environ.get("MODERNTENSOR_HOME")
    if env:
        return Path(env)
    local = Path(".data")
    if local.is_dir():
        return local
    return Path.home() / ".moderntensor"


@dataclass
class Ctx:
    """What the root command's global options give every command (``click``'s ``obj``)."""

    home: Path
    node: str
    output: str
    timeout: float
    localnet_root: Path = Path(".localnet")
    keyring_backend: str | None = None
    """Backend for new keys (--keyring-backend; None: the keyring folder's default)."""
    passphrase_file: Path | None = None
    """--passphrase-file: where the keyring passphrase is read from (else env, else prompt)."""
    yes: bool = False
    """--yes: skip confirmations."""

    def rpc(self) -> RPCClient:
        """A JSON-RPC client for --node with --timeout seconds per call."""
        return RPCClient(self.node, timeout=self.timeout)


def emit(ctx: Ctx, data: Any, text: Callable[[], str] | str | None = None) -> None:
    """Print ``data`` as sorted, indented JSON with ``-o json`` or when there is no ``text``;
    else ``text`` (called first if it is a function, so it is only built when shown)."""
    if ctx.output == "json" or text is None:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(text() if callable(text) else text)


def parse_amount(text: str) -> int:
    """``123`` is base units; ``1.5mdt`` (any case) is MDT with up to 9 decimals. The result is
    1..2^64-1 (a chain amount is a u64); anything else (``inf``, ``nan``, ``1e999``, a 20-digit
    number) is a BadParameter, never an exception from deeper down."""
    t = text.strip().lower()
    if t.startswith("-"):
        raise click.BadParameter("amount must be positive")
    try:
        if t.endswith("mdt"):
            mdt = Decimal(t[:-3])
            if not mdt.is_finite() or abs(mdt.adjusted()) > 30:
                raise click.BadParameter(f"{text!r} is not an amount (use 1000 or 1.5mdt)")
            base = mdt * BASE_UNITS_PER_MDT
            if base != base.to_integral_value():
                raise click.BadParameter("MDT amounts have at most 9 decimals")
            value = int(base)
        else:
            if not t.isdigit() or len(t) > 30:
                raise ValueError(t)
            value = int(t)
    except (InvalidOperation, ValueError):
        raise click.BadParameter(f"{text!r} is not an amount (use 1000 or 1.5mdt)") from None
    if value <= 0:
        raise click.BadParameter("amount must be positive")
    if value > U64_MAX:
        raise click.BadParameter(f"{text!r} is over the largest amount, 2^64-1 base units")
    return value


U64 = click.IntRange(0, U64_MAX)
"""A click type for u64 options (nonces, fees, hyperparameters): out of range is a usage error."""
U16 = click.IntRange(0, 65535)
"""netuids and uids (u16 on the chain)."""
PORT = click.IntRange(0, 65535)
SECONDS = click.IntRange(0, 10 * 365 * 86400)


def format_mdt(base: int) -> str:
    """Base units as MDT with all 9 decimals: 1500000000 -> ``1.500000000 MDT``."""
    whole, frac = divmod(base, BASE_UNITS_PER_MDT)
    return f"{whole:,}.{frac:09d} MDT"


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every expected failure into one ``error: …`` line and exit code 1 (no traceback)."""
    try:
        yield
    except (
        KeyringError,
        NodeUnreachable,
        RPCError,
        TxTimeout,
        ModernTensorError,
        CometBFTError,
        InitError,
        StartError,
        LightClientError,
        ProofError,
        OfflineTxError,
        CommitStoreError,
        LocalFileError,
    ) as e:
        msg = e.log() if isinstance(e, ModernTensorError) else str(e)
        raise click.ClickException(msg) from None
