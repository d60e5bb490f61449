"""What every module declares about itself, in one place each (``modules/<name>/module.py``).

* :class:`MsgSpec`: one row of the message table: the ``Msg`` oneof field name, the typed
  message (a frozen dataclass whose fields are the protobuf fields, by name and order), the
  protobuf class, the handler and the weight. Decoding, encoding and routing are built from
  these rows (:mod:`abci_app.chain_modules`); a test checks them against the proto oneof.
* :class:`Module`: a module's message rows, the params it keeps in state, its invariants and
  its query routes.

Model: Cosmos SDK's module manager and ``Msg`` services (one registration per message type).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ..schema import IntParams
from ..state.overlay import KVReader, Overlay

if TYPE_CHECKING:
    from ..context import ChainContext


class Msg(Protocol):
    """A typed message: a frozen dataclass with a stateless :meth:`validate`."""

    def validate(self) -> None:
        """Raise a ModernTensorError when the message is malformed whatever the state."""


M = TypeVar("M", bound=Msg)

Handler = Callable[[Overlay, bytes, M, "ChainContext"], None]
"""``handler(state, sender, msg, ctx)``: apply ``msg`` sent (and paid for) by ``sender`` to
``state`` (a branch dropped if it raises), emitting events into ``ctx.events``; raise a
ModernTensorError to refuse it."""


@dataclass(frozen=True)
class WeightBounds:
    """The chain params that bound handlers' loops over state (genesis values), which message
    weights may use to cover their worst case (issue 13)."""

    max_uids_cap: int
    """Uids a subnet may have: a registration into a full subnet scans them for pruning."""
    max_subnets: int
    """Subnets that may exist: registering one scans them for the lowest free netuid."""
    max_delegations: int
    """Delegations one account may hold: withdraw_rewards without a validator settles each."""


NO_BOUNDS = WeightBounds(max_uids_cap=1, max_subnets=1, max_delegations=1)
"""Placeholder bounds of a context built by hand (execution.load_context reads the chain's)."""


def flat(units: int) -> Callable[[Any, WeightBounds], int]:
    """The weight of a message whose work does not depend on its content."""
    return lambda msg, bounds: units


@dataclass(frozen=True)
class MsgSpec(Generic[M]):
    """One row of the message table."""

    name: str
    """The ``Msg`` oneof field name in tx.proto: what events (``message.action``), metrics and
    clients call the message."""
    msg_type: type[M]
    proto_type: type[Any]
    """The generated protobuf class (tx_pb2.MsgX)."""
    handler: Handler[M]
    weight: Callable[[M, WeightBounds], int]
    """Deterministic cost of the message from its content (per entry for lists) and the
    chain's bounds, covering its worst case: weight units of ~1 us (abci_app/weights.py, the
    calibration in bench/weights_bench.py)."""


@dataclass(frozen=True)
class Module:
    """What a module declares about itself."""

    name: str
    messages: tuple[MsgSpec[Any], ...] = ()
    params: tuple[type[IntParams], Callable[[KVReader], IntParams]] | None = None
    """(params class, reader from state): loaded once per block into the context."""
    invariants: Callable[[KVReader], list[str]] | None = None
    """Whole-state checks: a description of each one broken (empty when all hold)."""
    query: Callable[[KVReader, str, int], Any | None] | None = None
    """``query(state, path, height)``: a JSON-ready answer, or None for another module's path;
    ``height`` is the last committed height."""
