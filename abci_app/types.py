"""Plain result types shared by the modules, execution and the ABCI layer (no protobuf here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(slots=True)
class EventAttribute:
    """(Not frozen: a frozen dataclass's __init__ costs three times as much, and every tx of a
    block creates about ten of these. Nothing mutates them.)"""

    key: str
    value: str
    index: bool = True


@dataclass(frozen=True)
class Event:
    """A typed event (``transfer``, ``tx``…); indexed attributes are searchable with tx_search."""

    type: str
    attributes: tuple[EventAttribute, ...] = ()

    @staticmethod
    def of(type_: str, **attrs: str | int) -> Event:
        """``Event.of("transfer", amount=5)``: every value as its ``str``, indexed."""
        return Event(type_, tuple(EventAttribute(k, str(v)) for k, v in attrs.items()))


class EventSink(Protocol):
    """Where the tx path (ante, message handlers, staking hooks) sends its events.

    The same tx code runs in CheckTx, PrepareProposal and FinalizeBlock; only FinalizeBlock
    keeps events, so its context carries an :class:`EventLog` and the other two a
    :class:`DiscardEvents`, which builds nothing (building them was ~19% of the app's busy time
    under load). Events never influence execution: nothing reads them back. Block steps (begin
    and end of block) run only in FinalizeBlock and return their events instead."""

    def emit(self, type_: str, **attrs: str | int) -> None:
        """Record the event ``type_`` with ``attrs`` (values as their ``str``, indexed)."""

    def mark(self) -> int:
        """A position to :meth:`take` or :meth:`truncate` from later."""

    def take(self, mark: int) -> list[Event]:
        """Remove and return the events emitted since ``mark``, in order."""

    def truncate(self, mark: int) -> None:
        """Forget the events emitted since ``mark`` (a message that failed)."""


class EventLog:
    """An :class:`EventSink` that keeps every event, in order (FinalizeBlock)."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, type_: str, **attrs: str | int) -> None:
        self.events.append(Event(type_, tuple(EventAttribute(k, str(v)) for k, v in attrs.items())))

    def mark(self) -> int:
        return len(self.events)

    def take(self, mark: int) -> list[Event]:
        taken = self.events[mark:]
        del self.events[mark:]
        return taken

    def truncate(self, mark: int) -> None:
        del self.events[mark:]


class DiscardEvents:
    """An :class:`EventSink` that builds nothing (CheckTx and PrepareProposal answers carry no
    events)."""

    __slots__ = ()

    def emit(self, type_: str, **attrs: str | int) -> None:
        return None

    def mark(self) -> int:
        return 0

    def take(self, mark: int) -> list[Event]:
        return []

    def truncate(self, mark: int) -> None:
        return None


DISCARD_EVENTS = DiscardEvents()


@dataclass
class TxResult:
    """One tx's result (ABCI ExecTxResult / ResponseCheckTx without protobuf)."""

    code: int = 0
    log: str = ""
    codespace: str = ""
    events: list[Event] = field(default_factory=list)
    gas_wanted: int = 0
    gas_used: int = 0
    msg_type: str = ""
    """First message's type of a decodable tx (for metrics; not part of the ABCI result)."""


@dataclass(frozen=True)
class ValidatorUpdate:
    """A consensus-key power change for CometBFT (power 0 removes the validator)."""

    pub_key: bytes  # ed25519, 32 bytes
    power: int


@dataclass(frozen=True)
class Vote:
    """One validator's part in the previous block's commit (CometBFT's decided_last_commit)."""

    address: bytes  # 20-byte consensus address
    power: int
    signed: bool


@dataclass(frozen=True)
class Evidence:
    """Misbehaviour CometBFT proved: a duplicate vote or a light-client attack."""

    address: bytes
    height: int
    time: int  # unix seconds of the infraction
    kind: str  # "duplicate_vote" | "light_client_attack"
    power: int = 0
    """The validator's voting power at the infraction height (CometBFT's Misbehavior carries
    it, verified against that height's validator set): what the slash is computed from."""


@dataclass(frozen=True)
class BlockHeader:
    """What block execution needs of FinalizeBlock's request, free of protobuf types."""

    height: int
    time: int  # unix seconds, from the block header (never the wall clock)
    proposer: bytes
    votes: tuple[Vote, ...] = ()
    evidence: tuple[Evidence, ...] = ()


class Probe:
    """Timing hooks consensus code may call around a step (``with probe.timed(...)``).

    The default does nothing; the app passes one that records durations as metrics. A probe
    returns nothing to its caller, so it cannot influence what consensus code computes."""

    @contextmanager
    def timed(self, name: str, label: str) -> Iterator[None]:
        yield


NO_PROBE = Probe()
