"""Every answer of a chain that uses every message type stays byte for byte as pinned.

The scenario (tests/behaviour_chain.py) records each FinalizeBlock response in full (codes,
logs, events, validator updates, app hash), CheckTx answers, PrepareProposal's choice, every
query route and a genesis export with its re-import; ``behaviour_pinned.json`` holds a digest of
each step. Refactorings must leave it unchanged; an intended change of behaviour regenerates it
(``python tests/behaviour_chain.py``) and says so in the commit message.
"""

from __future__ import annotations

import json

from behaviour_chain import PINNED, compute


def test_every_answer_matches_the_pinned_digests() -> None:
    pinned = json.loads(PINNED.read_text())
    got = compute()
    assert [name for name, _ in got["steps"]] == [name for name, _ in pinned["steps"]]
    pairs = zip(got["steps"], pinned["steps"], strict=True)
    changed = [name for (name, a), (_, b) in pairs if a != b]
    assert not changed, f"answers changed at: {changed} (diff with: behaviour_chain.py --dump)"


def test_the_scenario_reaches_every_message_outcome() -> None:
    """The pinned run saw success and the typical failure of each module, and every event."""
    summary = json.loads(PINNED.read_text())["summary"]
    for code in (0, 8, 9, 21, 22, 100, 101, 102, 104, 110, 111, 112, 113, 114, 115, 116, 117):
        assert code in summary["codes"], code
    assert {118, 119, 120} <= set(summary["codes"])
    assert set(range(130, 146)) | {150, 151, 152} <= set(summary["codes"]) | {146}
    for event in ("transfer", "fee", "slash", "jail", "tombstone", "unjail", "subnet_epoch"):
        assert event in summary["events"], event
    assert {"commit_expired", "registration_burn", "complete_unbonding"} <= set(summary["events"])
