"""``moderntensor subnet simulate-epoch``: the chain's epoch function on a JSON file, and clear
errors (exit 1, no traceback) for every kind of bad file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "vectors"))
from epoch_cases import HAND_CASE, seeded_case

from abci_app.cli.main import cli
from abci_app.modules.subnets.epoch import run_epoch
from abci_app.modules.subnets.epoch_json import epoch_output_json, parse_epoch_input


def simulate(tmp_path: Path, doc: object) -> tuple[int, str]:
    f = tmp_path / "epoch.json"
    f.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    res = CliRunner().invoke(cli, ["subnet", "simulate-epoch", "--input", str(f)])
    return res.exit_code, res.output


@pytest.mark.parametrize("case", [HAND_CASE, seeded_case(5, 40, 6)])
def test_prints_exactly_the_chain_epoch(tmp_path: Path, case: dict[str, object]) -> None:
    code, out = simulate(tmp_path, case)
    assert code == 0, out
    got = json.loads(out)
    assert got == json.loads(json.dumps(epoch_output_json(run_epoch(parse_epoch_input(case)))))
    emission = got["emission"]
    assert (
        sum(emission["miners"])
        + sum(emission["validators"])
        + emission["owner"]
        + emission["recycled"]
        + emission["dust"]
        == case["emission"]
    )
    assert len(got["incentive"]) == len(case["stake"])  # type: ignore[arg-type]


def _broken(**changes: object) -> dict[str, object]:
    doc = json.loads(json.dumps(HAND_CASE))
    for k, v in changes.items():
        if v is None:
            del doc[k]
        else:
            doc[k] = v
    return doc


@pytest.mark.parametrize(
    "doc,message",
    [
        ("{not json", "not valid JSON"),
        ([], "input must be a JSON object"),
        (_broken(stake=None), "missing stake"),
        (_broken(extra=1), "unknown field(s) in input: extra"),
        (_broken(last_update=[1, 2]), "last_update has 2 entries, stake has 4"),
        (_broken(stake=[1, -1, 0, 0]), "stake[1] must be an integer"),
        (_broken(weights={"9": [[1, 1]]}), "'9' is not a uid below 4"),
        (_broken(weights={"0": [[1, 70000]]}), "weights[0][0] value"),
        (_broken(weights={"0": [[1, 1], [1, 2]]}), "names a uid twice"),
        (_broken(params={"kappa": 1}), "params is missing"),
        (_broken(emission="1000"), "emission must be an integer"),
    ],
)
def test_bad_files_get_a_clear_error(tmp_path: Path, doc: object, message: str) -> None:
    code, out = simulate(tmp_path, doc)
    assert code == 1
    assert message in out, out
    assert "Traceback" not in out


def test_missing_file(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["subnet", "simulate-epoch", "--input", str(tmp_path / "nope.json")]
    )
    assert res.exit_code == 1 and "cannot read" in res.output


def test_the_shipped_example_runs() -> None:
    """README: `subnet simulate-epoch --input examples/epoch.json` (uids 0 and 1 are staked
    validators, 2..4 miners)."""
    example = Path(__file__).parents[2] / "examples" / "epoch.json"
    res = CliRunner().invoke(cli, ["subnet", "simulate-epoch", "--input", str(example)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    doc = json.loads(example.read_text())
    assert out["validator_permit"][:2] == [True, True]
    e = out["emission"]
    paid = sum(e["miners"]) + sum(e["validators"]) + e["owner"]
    assert paid + e["recycled"] + e["dust"] == doc["emission"]
    assert out["incentive"][2] > 0 and out["incentive"][3] > 0
