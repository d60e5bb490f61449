"""Plain result types shared by the modules, execution and the ABCI layer (no protobuf here)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EventAttribute:
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
        return Event(type_, tuple(EventAttribute(k, str(v)) for k, v in attrs.items()))


@dataclass
class TxResult:
    code: int = 0
    log: str = ""
    codespace: str = ""
    events: list[Event] = field(default_factory=list)
    gas_wanted: int = 0
    gas_used: int = 0


@dataclass(frozen=True)
class ValidatorUpdate:
    """A consensus-key power change for CometBFT (power 0 removes the validator)."""

    pub_key: bytes  # ed25519, 32 bytes
    power: int
