"""Slashing genesis: params, and signing records carried over by ``genesis export``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ...errors import InvalidGenesis
from ...schema import check_object, parse_amount
from ...state.overlay import KVReader, Overlay
from .params import SlashingParams
from .state import (
    SigningInfo,
    all_infos,
    get_block_time,
    get_params,
    missed_indexes,
    set_block_time,
    set_info,
    set_missed,
    set_params,
)

_INFO_FIELDS = {
    "address",
    "start_height",
    "counter",
    "missed",
    "jailed_until",
    "tombstoned",
    "missed_indexes",
}


@dataclass(frozen=True)
class SlashingGenesis:
    """Slashing's genesis section: params, the last block time, signing records."""

    params: SlashingParams = field(default_factory=SlashingParams)
    block_time: int = 0
    infos: tuple[tuple[bytes, SigningInfo, tuple[int, ...]], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params.to_dict(),
            "block_time": self.block_time,
            "signing_infos": [
                {"address": a.hex().upper(), **asdict(i), "missed_indexes": list(m)}
                for a, i, m in self.infos
            ],
        }


def parse_genesis(raw: Any) -> SlashingGenesis:
    """Parse ``app_state.slashing`` (params, the last block time, signing records).

    Raises:
        InvalidGenesis: naming the field that broke a rule.
    """
    raw = check_object(raw, "slashing", {"params", "block_time", "signing_infos"})
    infos = []
    for n, entry in enumerate(raw.get("signing_infos", [])):
        where = f"slashing.signing_infos[{n}]"
        check_object(entry, where, _INFO_FIELDS, _INFO_FIELDS)
        try:
            address = bytes.fromhex(entry["address"])
        except (ValueError, TypeError):
            raise InvalidGenesis(f"{where}.address must be hex") from None
        if len(address) != 20:
            raise InvalidGenesis(f"{where}.address must be 20 bytes")
        if not isinstance(entry["tombstoned"], bool):
            raise InvalidGenesis(f"{where}.tombstoned must be true or false")
        info = SigningInfo(
            **{
                k: parse_amount(entry[k], f"{where}.{k}")
                for k in ("start_height", "counter", "missed", "jailed_until")
            },
            tombstoned=entry["tombstoned"],
        )
        indexes = tuple(parse_amount(i, f"{where}.missed_indexes") for i in entry["missed_indexes"])
        if len(indexes) != info.missed:
            raise InvalidGenesis(
                f"{where}: missed is {info.missed} but {len(indexes)} missed_indexes are listed"
            )
        infos.append((address, info, indexes))
    return SlashingGenesis(
        params=SlashingParams.from_dict(raw.get("params", {})),
        block_time=parse_amount(raw.get("block_time", 0), "slashing.block_time"),
        infos=tuple(infos),
    )


def init_genesis(state: Overlay, g: SlashingGenesis) -> None:
    """Write params, the block time and every signing record with its missed blocks."""
    set_params(state, g.params)
    if g.block_time:
        set_block_time(state, g.block_time)
    for address, info, indexes in g.infos:
        set_info(state, address, info)
        for i in indexes:
            set_missed(state, address, i, True)


def export_genesis(state: KVReader) -> SlashingGenesis:
    """Params, the last block time and every signing record with its missed blocks."""
    return SlashingGenesis(
        params=get_params(state),
        block_time=get_block_time(state),
        infos=tuple((a, i, tuple(missed_indexes(state, a))) for a, i in all_infos(state)),
    )
