"""The chain's modules, in the order their genesis is written and their invariants are checked,
and the one message table built from theirs.

Each module declares its messages once, in ``modules/<name>/module.py``; decoding and encoding
(tx.py) and routing (execution.py) use :data:`MESSAGES` and its two indexes, and a test checks the
table against the ``Msg`` oneof of tx.proto (names, field numbers, field types). Adding a message
means: the proto field, the dataclass, the handler, one :class:`MsgSpec` row.
"""

from __future__ import annotations

from typing import Any

from .modules.bank.module import MODULE as BANK
from .modules.distribution.module import MODULE as DISTRIBUTION
from .modules.slashing.module import MODULE as SLASHING
from .modules.spec import Module, MsgSpec
from .modules.staking.module import MODULE as STAKING
from .modules.subnets.module import MODULE as SUBNETS
from .schema import IntParams
from .state.overlay import KVReader

MODULES: tuple[Module, ...] = (BANK, STAKING, DISTRIBUTION, SLASHING, SUBNETS)

MESSAGES: tuple[MsgSpec[Any], ...] = tuple(spec for m in MODULES for spec in m.messages)
"""Every message type, in the order of the ``Msg`` oneof's field numbers."""
MSG_BY_NAME: dict[str, MsgSpec[Any]] = {spec.name: spec for spec in MESSAGES}
MSG_BY_TYPE: dict[type[Any], MsgSpec[Any]] = {spec.msg_type: spec for spec in MESSAGES}
if len(MSG_BY_NAME) != len(MESSAGES) or len(MSG_BY_TYPE) != len(MESSAGES):
    raise RuntimeError("a message name or type is declared twice in the module tables")


def load_module_params(state: KVReader) -> dict[type[IntParams], IntParams]:
    """Every module's params as stored (defaults where a module has none in state yet)."""
    return {m.params[0]: m.params[1](state) for m in MODULES if m.params is not None}
