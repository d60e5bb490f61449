"""Pinned outputs of the Yuma epoch for fixed inputs, and one case worked out by hand."""

from __future__ import annotations

import json

from epoch_cases import HAND_CASE, VECTOR_FILE, cases, compute

from abci_app.modules.subnets.epoch import run_epoch
from abci_app.modules.subnets.epoch_json import parse_epoch_input


def test_epoch_outputs_match_pinned_vectors() -> None:
    pinned = json.loads(VECTOR_FILE.read_text())
    assert [p["input"] for p in pinned] == cases()
    for i, (got, want) in enumerate(zip(compute(), pinned, strict=True)):
        assert got["output"] == want["output"], f"case {i}: epoch output changed"


def test_hand_computed_case() -> None:
    """uid 0 (3/4 of the stake) weights miners 2 and 3 at 1/2 each; uid 1 (1/4) weights miner 2
    at 1. Consensus (kappa ~ 1/2): miner 2 -> 1/2 (only uid 0's 1/2 reaches 3/4 support),
    miner 3 -> 1/2. Rank: miner 2 = 3/4*1/2 + 1/4*1/2 = 1/2, miner 3 = 3/8; incentive 4/7, 3/7;
    trust of miner 2 = (1/2) / (3/8 + 1/4) = 4/5. Bonds: miner 2 held 3/4 by uid 0 and 1/4 by
    uid 1, miner 3 wholly by uid 0; dividends uid 0 = 3/4*4/7 + 3/7 = 6/7, uid 1 = 1/7.
    Emission 1000: miners 550 -> 314 + 235 (dust 1), validators 300 -> 257 + 42 (dust 1), owner
    its 15%, 150; the dust (2) goes to the community pool, nothing is recycled."""
    out = run_epoch(parse_epoch_input(HAND_CASE))

    def near(got: tuple[int, ...], *fractions: float) -> bool:
        """Each u16 within one unit of the exact fraction (the integer path floors)."""
        return all(abs(g - f * 65535) <= 1 for g, f in zip(got, fractions, strict=True))

    assert out.validator_permit == (True, True, False, False)
    assert near(out.consensus, 0, 0, 1 / 2, 1 / 2)
    assert near(out.incentive, 0, 0, 4 / 7, 3 / 7)
    assert near(out.trust, 0, 0, 4 / 5, 1)
    assert near(out.validator_trust, 1, 1 / 2, 0, 0)
    assert near(out.rank, 0, 0, 1 / 2, 3 / 8)
    assert near(out.dividends, 6 / 7, 1 / 7, 0, 0)
    assert out.miner_emission == (0, 0, 314, 235)
    assert out.validator_emission == (257, 42, 0, 0)
    assert out.owner_emission == 150
    assert (out.dust_emission, out.recycled_emission) == (2, 0)
