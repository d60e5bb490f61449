"""How old double-sign evidence may be, against how long stake takes to leave.

CometBFT decides which evidence reaches the app: ``IsEvidenceExpired`` (evidence/verify.go)
drops evidence only once it is older than BOTH ``consensus_params.evidence.max_age_num_blocks``
blocks and ``max_age_duration``. Cosmos SDK assumes that window is shorter than the unbonding
period (x/evidence ignores older evidence by the same two params; CometBFT's docs: the max age
"should correspond with an app's unbonding period"): otherwise evidence can arrive after the
stake that signed has finished unbonding or redelegating, and the slash misses it (here it
would fall on the validator's remaining delegators instead). This module owns that rule for
every place that writes or validates a genesis (``node.genesis_file``, ``node init``,
``localnet``) and for InitChain, which sees the params CometBFT actually runs with.

The window in blocks is always checked. The duration can only be compared with
``unbonding_blocks`` when the shortest block interval is known (a node's ``timeout_commit``:
blocks are never closer than that); InitChain does not know it and checks blocks only.
"""

from __future__ import annotations

from ...errors import InvalidGenesis

DEFAULT_MAX_AGE_BLOCKS = 100_000
"""CometBFT v0.38's default ``evidence.max_age_num_blocks``."""
DEFAULT_MAX_AGE_NS = 48 * 3600 * 10**9
"""CometBFT v0.38's default ``evidence.max_age_duration`` (48 h, in nanoseconds)."""


def evidence_max_age(
    unbonding_blocks: int, block_interval_ns: int | None = None
) -> tuple[int, int]:
    """The evidence window a new genesis gets: ``(max_age_num_blocks, max_age_duration_ns)``,
    CometBFT's defaults shortened below the unbonding period: at most ``unbonding_blocks - 1``
    blocks and, when the shortest block interval is known, at most that many intervals.

    Raises:
        InvalidGenesis: ``unbonding_blocks`` below 2 (no window of a block fits under it) or a
            block interval that is not positive.
    """
    if unbonding_blocks < 2:
        raise InvalidGenesis(
            "staking.params.unbonding_blocks must be at least 2: double-sign evidence needs a "
            "window of at least one block shorter than the unbonding period"
        )
    blocks = min(DEFAULT_MAX_AGE_BLOCKS, unbonding_blocks - 1)
    if block_interval_ns is None:
        return blocks, DEFAULT_MAX_AGE_NS
    if block_interval_ns <= 0:
        raise InvalidGenesis("the block interval must be positive")
    return blocks, min(DEFAULT_MAX_AGE_NS, blocks * block_interval_ns)


def check_evidence_max_age(
    max_age_num_blocks: int,
    max_age_duration_ns: int,
    unbonding_blocks: int,
    block_interval_ns: int | None = None,
) -> None:
    """Evidence must expire before the stake it would slash can have left: ``max_age_num_blocks
    < unbonding_blocks`` and, when the shortest block interval is known, ``max_age_duration <
    unbonding_blocks x interval`` (an unbonding period lasts at least that long). Units:
    blocks, nanoseconds.

    Raises:
        InvalidGenesis: naming the param, its value and the bound.
    """
    if max_age_num_blocks >= unbonding_blocks:
        raise InvalidGenesis(
            f"consensus_params.evidence.max_age_num_blocks ({max_age_num_blocks}) must be below "
            f"staking.params.unbonding_blocks ({unbonding_blocks}): older evidence could slash "
            "stake that has already unbonded"
        )
    if block_interval_ns is None:
        return
    unbonding_ns = unbonding_blocks * block_interval_ns
    if max_age_duration_ns >= unbonding_ns:
        raise InvalidGenesis(
            f"consensus_params.evidence.max_age_duration ({max_age_duration_ns} ns) must be "
            f"below the unbonding period ({unbonding_blocks} blocks of at least "
            f"{block_interval_ns} ns = {unbonding_ns} ns): older evidence could slash stake "
            "that has already unbonded"
        )
