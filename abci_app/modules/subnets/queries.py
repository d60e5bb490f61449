"""Subnets' ``abci_query`` routes; each returns a JSON-ready object, or None for other paths.

/subnets                        every subnet with its owner, size, burn, stake, emission
/subnet/<netuid>/hyperparams    the subnet's hyperparameters
/subnet/<netuid>/metagraph      every neuron with stake (and epoch_stake, what the next epoch
                                weighs it by) and its last epoch's outputs
/subnet/<netuid>/weights/<uid>  the uid's weight row, bonds row and pending commit
/subnet_stake/<address>         the address's stake positions, by netuid then hotkey, paginated
                                (?limit=N&next_key=HEX: modules/pagination.py)
/params/subnets                 chain-wide params and the current subnet lock cost
"""

from __future__ import annotations

from typing import Any

from ...address import from_bech32, to_bech32
from ...codec import decode_u64
from ...errors import InvalidQuery, UnknownSubnet
from ...state.keys import STAKE_BY
from ...state.overlay import KVReader
from ..pagination import page, page_json, split_path
from .pricing import lock_cost
from .schedule import next_epoch_height
from .state import (
    all_bonds,
    all_subnets,
    get_commit,
    get_hyperparams,
    get_neuron,
    get_params,
    get_subnet,
    get_weights,
    hotkey_stake,
    neurons,
    positions,
    stake_floor,
)

U16_MAX = 0xFFFF


def _u16(text: str, what: str) -> int:
    """A netuid or uid from a query path: decimal ASCII digits within u16 (their encoding in
    state keys); anything else is an InvalidQuery (a value past u16 cannot be encoded)."""
    if not text.isascii() or not text.isdigit() or len(text) > 5 or int(text) > U16_MAX:
        raise InvalidQuery(f"{what} must be a number from 0 to {U16_MAX}, got {text[:16]!r}")
    return int(text)


def _subnet_json(state: KVReader, netuid: int, height: int) -> dict[str, Any]:
    subnet = get_subnet(state, netuid)
    if subnet is None:
        raise UnknownSubnet(f"netuid {netuid}")
    hp = get_hyperparams(state, netuid)
    return {
        **subnet.to_dict(),
        "tempo": hp.tempo,
        "max_allowed_uids": hp.max_allowed_uids,
        "next_epoch": next_epoch_height(netuid, hp.tempo, height + 1),
    }


def subnets_query(state: KVReader, path: str, height: int) -> Any | None:
    """The answer to ``path`` when it is one of the routes above, else None; ``height`` is the
    last committed height (the next block is height + 1).

    Raises:
        UnknownSubnet, InvalidQuery: a subnet path with a bad netuid, uid or tail.
    """
    if path == "/subnets":
        return [_subnet_json(state, s.netuid, height) for s in all_subnets(state)]
    if path == "/params/subnets":
        params = get_params(state)
        return {**params.to_dict(), "lock_cost": str(lock_cost(state, params, height + 1))}
    if path.startswith("/subnet_stake/"):
        route, req = split_path(path)
        coldkey = from_bech32(route[len("/subnet_stake/") :])
        entries, next_key = page(state, STAKE_BY + coldkey, req)
        rows = [
            {
                "netuid": int.from_bytes(k[:2], "big"),
                "hotkey": to_bech32(k[2:]),
                "amount": str(decode_u64(v)),
            }
            for k, v in entries
        ]
        return {"stake": rows, "pagination": page_json(next_key, positions(state, coldkey))}
    if not path.startswith("/subnet/"):
        return None
    parts = path[len("/subnet/") :].split("/")
    netuid = _u16(parts[0], "netuid")
    rest = parts[1:]
    is_weights = len(rest) == 2 and rest[0] == "weights"
    uid = _u16(rest[1], "uid") if is_weights else 0  # every argument checked before any read
    if rest == []:
        return _subnet_json(state, netuid, height)
    if get_subnet(state, netuid) is None:
        raise UnknownSubnet(f"netuid {netuid}")
    if rest == ["hyperparams"]:
        return get_hyperparams(state, netuid).to_dict()
    if rest == ["metagraph"]:
        bonds = all_bonds(state, netuid)
        return {
            "netuid": netuid,
            "height": height,
            "neurons": [
                {
                    **n.to_dict(),
                    "stake": str(hotkey_stake(state, netuid, n.hotkey)),
                    "epoch_stake": str(stake_floor(state, netuid, n.hotkey)),
                    "bonds": [list(b) for b in bonds.get(n.uid, ())],
                }
                for n in neurons(state, netuid)
            ],
        }
    if is_weights:
        if get_neuron(state, netuid, uid) is None:
            raise InvalidQuery(f"subnet {netuid} has no uid {uid}")
        commit = get_commit(state, netuid, uid)
        return {
            "netuid": netuid,
            "uid": uid,
            "weights": [list(w) for w in get_weights(state, netuid, uid) or ()],
            "bonds": [list(b) for b in all_bonds(state, netuid).get(uid, ())],
            "commit": None if commit is None else commit.to_dict(),
        }
    raise InvalidQuery(
        f"{path!r}: use /subnet/<netuid>, /subnet/<netuid>/hyperparams, "
        "/subnet/<netuid>/metagraph or /subnet/<netuid>/weights/<uid>"
    )
