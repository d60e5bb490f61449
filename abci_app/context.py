"""What executing a tx or a block needs besides the state: chain id, height, every module's
params (read once per block, not per tx), staking's hooks and the event sink."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

from .modules.spec import NO_BOUNDS, WeightBounds
from .modules.staking.hooks import StakingHooks
from .params import AppParams
from .schema import IntParams
from .types import EventSink

if TYPE_CHECKING:
    from .tx import VerifiedTxs

P = TypeVar("P", bound=IntParams)


@dataclass(frozen=True)
class ChainContext:
    """Loaded once per block (FinalizeBlock, PrepareProposal) or per Commit (CheckTx)
    by :func:`abci_app.execution.load_context`; frozen, so a handler cannot change it.
    """

    chain_id: str
    height: int
    """The height being executed (CheckTx: the next one to be committed)."""
    params: AppParams
    module_params: Mapping[type[IntParams], IntParams]
    """Every module's params by class; read them with :meth:`params_of`."""
    hooks: StakingHooks
    """Staking's hooks, implemented by distribution (wired by execution)."""
    events: EventSink
    """Where the tx path's events go: kept in FinalizeBlock, dropped in CheckTx/PrepareProposal."""
    verified: VerifiedTxs | None = None
    """This node's cache of verified signatures (not state; None: verify every time)."""
    bounds: WeightBounds = NO_BOUNDS
    """The chain params bounding handlers' loops, for tx weights (weights.py)."""
    max_gas: int = 0
    """CometBFT's block.max_gas (from InitChain): a block's total weight bound; 0 for none."""

    def params_of(self, kind: type[P]) -> P:
        """The module params of class ``kind`` (``ctx.params_of(StakingParams)``). A module
        reads only its own (and those of modules it may import)."""
        return cast(P, self.module_params[kind])
