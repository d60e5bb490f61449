"""Plain result types shared by the modules, execution and the ABCI layer (no protobuf here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


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
        if not _building_events[0]:
            return _NO_EVENT
        return Event(type_, tuple(EventAttribute(k, str(v)) for k, v in attrs.items()))


_NO_EVENT = Event("")
_building_events = [True]


@contextmanager
def events_discarded() -> Iterator[None]:
    """Within this block :meth:`Event.of` builds nothing (it returns an empty placeholder).

    For CheckTx and PrepareProposal, which throw their events away: py-spy showed building them
    at ~19% of the app's busy time under load. Events never influence execution (nothing reads
    them back), so results are the same; FinalizeBlock never runs inside this block."""
    previous = _building_events[0]
    _building_events[0] = False
    try:
        yield
    finally:
        _building_events[0] = previous


@dataclass
class TxResult:
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
