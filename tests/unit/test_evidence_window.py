"""The evidence window is shorter than the unbonding period (issue 13 review), wherever a
genesis is written or checked: ``genesis init`` / ``new_genesis``, ``node init``, ``localnet``
(see test_localnet_preset.py), ``genesis validate`` and InitChain.

CometBFT hands the app double-sign evidence until it is older than both
``consensus_params.evidence.max_age_num_blocks`` and ``max_age_duration``. Before, every
genesis got CometBFT's 100,000 blocks and 48 h whatever ``unbonding_blocks`` said: with the
fast preset's 100-block unbonding, a double sign could be punished ~99,900 blocks after the
stake that signed it had left (the slash then fell on whoever still delegated), and ``genesis
validate`` passed such a file. Each test here failed on that code.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from chain_driver import Driver, genesis_app_state, genesis_document
from click.testing import CliRunner
from harness import CHAIN_ID

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.app import FatalAppError
from abci_app.cli.main import cli
from abci_app.errors import InvalidGenesis
from abci_app.modules.slashing.evidence_window import (
    DEFAULT_MAX_AGE_BLOCKS,
    DEFAULT_MAX_AGE_NS,
    check_evidence_max_age,
    evidence_max_age,
)
from abci_app.node import genesis_file
from abci_app.node.cometbft import CometBFTError, parse_go_duration

SECOND = 10**9


def genesis_doc(unbonding: int, evidence: dict[str, str] | None = None) -> dict[str, Any]:
    """A complete genesis.json with ``unbonding`` blocks of unbonding and, if given, the
    evidence params as written (default: CometBFT's, as ``cometbft init`` writes them)."""
    consensus = copy.deepcopy(genesis_file.DEFAULT_CONSENSUS_PARAMS)
    consensus["evidence"].update(evidence or {})
    state = genesis_app_state(2, staking_params={"unbonding_blocks": unbonding})
    return genesis_document(state, consensus)


def test_new_genesis_keeps_the_window_below_the_unbonding_period() -> None:
    mainnet = genesis_file.new_genesis(CHAIN_ID)["consensus_params"]["evidence"]
    assert mainnet["max_age_num_blocks"] == str(DEFAULT_MAX_AGE_BLOCKS)  # 100,000 < 1,814,400
    assert mainnet["max_age_duration"] == str(DEFAULT_MAX_AGE_NS)
    fast = genesis_file.new_genesis(CHAIN_ID, staking_params={"unbonding_blocks": 100})
    assert fast["consensus_params"]["evidence"]["max_age_num_blocks"] == "99"
    timed = genesis_file.new_genesis(
        CHAIN_ID, staking_params={"unbonding_blocks": 100}, block_interval_ns=SECOND
    )["consensus_params"]["evidence"]
    assert (timed["max_age_num_blocks"], timed["max_age_duration"]) == ("99", str(99 * SECOND))
    with pytest.raises(InvalidGenesis, match="unbonding_blocks must be at least 2"):
        genesis_file.new_genesis(CHAIN_ID, staking_params={"unbonding_blocks": 1})


@pytest.mark.parametrize(
    ("unbonding", "evidence", "interval", "reason"),
    [
        (100, {}, None, r"max_age_num_blocks \(100000\) must be below .*unbonding_blocks \(100\)"),
        (100, {"max_age_num_blocks": "100"}, None, "max_age_num_blocks"),  # equal: too old
        (
            100,
            {"max_age_num_blocks": "99"},
            SECOND,
            r"max_age_duration \(172800000000000 ns\) must be below the unbonding period",
        ),
        (100, {"max_age_num_blocks": "99", "max_age_duration": str(100 * SECOND)}, SECOND, "ns"),
        (10**6, {"max_age_num_blocks": "abc"}, None, "must be a positive integer"),
        (10**6, {"max_age_num_blocks": "-5"}, None, "must be a positive integer"),
        (10**6, {"max_age_duration": "0"}, None, "must be positive"),
        (10**6, {"max_age_duration": "9" * 40}, None, "must be a positive integer"),
    ],
)
def test_validate_refuses_an_evidence_window_past_the_unbonding_period(
    unbonding: int, evidence: dict[str, str], interval: int | None, reason: str
) -> None:
    with pytest.raises(InvalidGenesis, match=reason):
        genesis_file.validate(genesis_doc(unbonding, evidence), interval)


def test_validate_accepts_a_window_just_below_it() -> None:
    evidence = {"max_age_num_blocks": "99", "max_age_duration": str(100 * SECOND - 1)}
    genesis_file.validate(genesis_doc(100, evidence), SECOND)
    genesis_file.validate(genesis_doc(100, {"max_age_num_blocks": "99"}))  # time unknown
    check_evidence_max_age(*evidence_max_age(7, 250_000_000), 7, 250_000_000)  # what it writes


def test_genesis_validate_cli_names_the_rule_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "genesis.json"
    path.write_text(json.dumps(genesis_doc(100)))
    res = CliRunner().invoke(cli, ["genesis", "validate", str(path)])
    assert res.exit_code == 1, res.output
    assert "max_age_num_blocks (100000) must be below" in res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    bad = CliRunner().invoke(cli, ["genesis", "validate", str(path), "--block-time", "fast"])
    assert bad.exit_code == 2 and "not a duration" in bad.output
    made = tmp_path / "made.json"
    args = ["genesis", "init", str(made), "--chain-id", CHAIN_ID, "--block-time", "500ms"]
    args += ["--staking-param", "unbonding_blocks=40"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    evidence = json.loads(made.read_text())["consensus_params"]["evidence"]
    assert evidence["max_age_num_blocks"] == "39"
    assert evidence["max_age_duration"] == str(39 * SECOND // 2)


def test_init_chain_refuses_the_params_cometbft_runs_with(tmp_path: Path) -> None:
    """A genesis.json nobody validated still cannot start a chain whose evidence outlives
    its unbonding period: InitChain sees the consensus params CometBFT uses."""
    state = genesis_app_state(2, staking_params={"unbonding_blocks": 100})
    d = Driver.open(tmp_path / "a.sqlite")
    request = abci.RequestInitChain(chain_id=CHAIN_ID, app_state_bytes=json.dumps(state).encode())
    request.consensus_params.block.max_gas = 1_000_000  # (CometBFT always sends the block bound)
    request.consensus_params.evidence.max_age_num_blocks = 100_000
    request.consensus_params.evidence.max_age_duration.FromNanoseconds(DEFAULT_MAX_AGE_NS)
    with pytest.raises(FatalAppError, match="max_age_num_blocks"):
        d.app.init_chain(request)
    request.consensus_params.evidence.max_age_num_blocks = 99
    d.app.init_chain(request)  # (the duration is not checked: InitChain knows no block time)
    d.close()


def test_export_keeps_the_window_below_the_unbonding_period(tmp_path: Path) -> None:
    """An export's consensus params are its base genesis' (or CometBFT's defaults), with a
    window in blocks that reaches the unbonding period shortened below it."""
    d = Driver.open(tmp_path / "e.sqlite")
    d.init_chain(genesis_app_state(2, staking_params={"unbonding_blocks": 12}))
    d.block([])
    for base in ({}, genesis_doc(12)):
        evidence = genesis_file.export(d.app.db, base)["consensus_params"]["evidence"]
        assert evidence["max_age_num_blocks"] == "11"
    kept = genesis_doc(12, {"max_age_num_blocks": "5", "max_age_duration": "7"})
    assert genesis_file.export(d.app.db, kept)["consensus_params"] == kept["consensus_params"]
    d.close()


@pytest.mark.parametrize(
    ("text", "ns"),
    [("1s", SECOND), ("200ms", 2 * 10**8), ("1m30s", 90 * SECOND), ("1.5s", 3 * SECOND // 2)],
)
def test_go_durations(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize("text", ["", "1", "-1s", "1s2", "s", "1.s", "9" * 70 + "s", "1 s"])
def test_malformed_go_durations(text: str) -> None:
    with pytest.raises(CometBFTError, match="not a duration"):
        parse_go_duration(text)
