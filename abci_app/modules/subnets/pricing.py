"""What registering costs: the subnet lock cost and the neuron registration burn. Both are
burned (through bank), not kept.

* Lock cost (subtensor ``get_network_lock_cost``): twice the last lock, decaying linearly back
  by the last lock per ``lock_reduction_interval`` blocks, never below ``min_lock_cost``.
* Registration burn (subtensor's difficulty/burn adjustment): every ``adjustment_interval``
  blocks it becomes ``burn * (registrations + target) / (2 * target)``, within
  [``min_burn``, ``max_burn``]; an owner's change of those bounds clamps it at once.
"""

from __future__ import annotations

import json

from ...codec import canonical_json
from ...state.keys import SUBNET_LOCK
from ...state.overlay import KVReader, Overlay
from .params import Hyperparams, SubnetParams
from .state import Subnet


def lock_cost(state: KVReader, params: SubnetParams, height: int) -> int:
    """The lock a ``register_subnet`` at ``height`` burns, in base units."""
    raw = state.get(SUBNET_LOCK)
    if raw is None:
        return params.min_lock_cost
    mem = json.loads(raw)
    last, at = int(mem["last_lock"]), int(mem["last_height"])
    decay = last * max(0, height - at) // params.lock_reduction_interval
    return max(params.min_lock_cost, 2 * last - decay)


def remember_lock(state: Overlay, lock: int, height: int) -> None:
    """Record the lock just paid (the next cost starts from twice it)."""
    state.set(SUBNET_LOCK, canonical_json({"last_lock": str(lock), "last_height": height}))


def adjust_burn(subnet: Subnet, hp: Hyperparams, height: int) -> Subnet:
    """Every adjustment_interval blocks, move the burn toward the target registration rate:
    burn x (registrations + target) / (2 x target), within [min_burn, max_burn]; the count of
    registrations restarts."""
    if height - subnet.last_adjustment < hp.adjustment_interval:
        return subnet
    target = hp.target_registrations_per_interval
    burn = subnet.burn * (subnet.registrations + target) // (2 * target)
    burn = min(max(burn, hp.min_burn), hp.max_burn)
    return subnet.with_(burn=burn, registrations=0, last_adjustment=height)


def clamp_burn(burn: int, hp: Hyperparams) -> int:
    """The current burn kept within new hyperparameters' [min_burn, max_burn]."""
    return min(max(burn, hp.min_burn), hp.max_burn)
