"""Scoring, moving averages, weights, the digits task, task loading, pending commits on disk."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from abci_app.client.commits import CommitEntry, CommitStore
from abci_app.errors import BadForwardRequest, WeightsRateLimited
from abci_app.neurons.scoring import MovingScores, round_score, weights_from_scores
from abci_app.neurons.tasks.base import TaskLoadError, load_task
from abci_app.neurons.tasks.digits import DigitsTask
from abci_app.neurons.weights import lifts_at


def test_round_score_counts_quality_and_latency() -> None:
    assert round_score(1.0, 0.0, 2.0, 0.2) == 1.0
    assert round_score(1.0, 1.0, 2.0, 0.2) == pytest.approx(0.9)
    assert round_score(0.5, 1.0, 2.0, 0.2) == pytest.approx(0.45)
    # a timeout scores 0, as do nonsense values a bug or a task could produce
    for quality, latency in ((1.0, 2.0), (1.0, 5.0), (math.nan, 0.1), (1.5, 0.1), (-0.1, 0.1)):
        assert round_score(quality, latency, 2.0, 0.2) == 0.0
    assert round_score(1.0, math.inf, 2.0, 0.2) == 0.0


def test_the_same_answers_later_score_lower() -> None:
    """A copier returns the original's answers after the original answered: always lower."""
    for latency in (0.001, 0.05, 0.5, 1.9):
        assert round_score(0.9, latency + 0.002, 2.0, 0.2) < round_score(0.9, latency, 2.0, 0.2)


def test_moving_scores_reset_on_a_new_hotkey_and_stay_bounded() -> None:
    ema = MovingScores(alpha=0.5)
    assert ema.update(1, "a", 1.0) == 0.5
    assert ema.update(1, "a", 1.0) == 0.75
    assert ema.update(1, "b", 1.0) == 0.5  # uid 1 now belongs to someone else
    ema.update(2, "c", 0.2)
    ema.keep_only({1: "b"})  # uid 2 left the subnet
    assert ema.scores == {1: 0.5}
    back = MovingScores.from_json(json.loads(json.dumps(ema.to_json())), alpha=0.5)
    assert back.scores == ema.scores and back.hotkeys == ema.hotkeys
    # a tampered file cannot inject nonsense
    bad = MovingScores.from_json({"3": ["x", "nan"], "4": ["y", 7.0], "5": ["z", 0.25]}, 0.5)
    assert bad.scores == {5: 0.25}


def test_weights_are_u16_normalised_to_the_best() -> None:
    assert weights_from_scores({}) == ((), ())
    assert weights_from_scores({1: 0.0, 2: 0.0}) == ((), ())
    uids, weights = weights_from_scores({3: 0.5, 1: 1.0, 2: 0.25, 4: 0.0, 5: 1e-9})
    assert uids == (1, 2, 3) and weights == (65535, 16383, 32767)


def test_digits_scores_accuracy_and_zero_for_garbage() -> None:
    task = DigitsTask()
    ch = task.challenge(random.Random(7), 20)
    assert len(ch.inputs) == 20 and all(len(x) == 64 for x in ch.inputs)
    assert all(0 <= p <= 16 for x in ch.inputs for p in x)
    assert task.score(ch, list(ch.expected)) == 1.0
    half = [e if i % 2 else (e + 1) % 10 for i, e in enumerate(ch.expected)]
    assert task.score(ch, half) == 0.5
    for garbage in (None, "7", {"outputs": 1}, ch.expected[:-1], [True] * 20, [1.0] * 20):
        assert task.score(ch, garbage) == 0.0
    # a challenge's inputs are perturbed copies: not found verbatim in the data set
    images = {tuple(x) for x, _ in task.held_out}
    assert sum(tuple(x) in images for x in ch.inputs) < 20


def test_digits_reference_models_rank_as_documented() -> None:
    task = DigitsTask()
    ch = task.challenge(random.Random(11), 200)
    acc = {m: task.score(ch, task.reference_miner(m)(ch.inputs)) for m in task.models}
    assert acc["knn"] > 0.9 and acc["logreg"] > 0.85
    assert 0.3 < acc["tree"] < 0.8 and acc["constant"] < 0.25
    with pytest.raises(TaskLoadError):
        task.reference_miner("gpt")


@pytest.mark.parametrize(
    "inputs",
    [
        [],
        "x",
        [[0] * 63],
        [[17] + [0] * 63],
        [[0.5] + [0] * 63],
        [[True] + [0] * 63],
        [[0] * 64] * 257,
    ],
)
def test_digits_refuses_bad_inputs(inputs: object) -> None:
    with pytest.raises(BadForwardRequest):
        DigitsTask().check_inputs(inputs)


def test_a_task_is_one_file(tmp_path: Path) -> None:
    path = tmp_path / "parity.py"
    path.write_text(
        "from abci_app.neurons.tasks.base import Challenge, Task\n"
        "class Parity(Task):\n"
        "    name = 'parity'\n"
        "    models = ('exact',)\n"
        "    def challenge(self, rng, n):\n"
        "        xs = [rng.randrange(1000) for _ in range(n)]\n"
        "        return Challenge(xs, [x % 2 for x in xs])\n"
        "    def score(self, ch, outputs):\n"
        "        return float(outputs == ch.expected)\n"
        "    def check_inputs(self, inputs):\n"
        "        return inputs\n"
        "    def reference_miner(self, model):\n"
        "        return lambda xs: [x % 2 for x in xs]\n"
    )
    task = load_task(f"{path}:Parity")
    ch = task.challenge(random.Random(1), 5)
    assert task.score(ch, task.reference_miner("exact")(ch.inputs)) == 1.0
    for bad in ("nope", f"{path}:Missing", f"{tmp_path / 'absent.py'}:X", "json:JSONDecoder"):
        with pytest.raises(TaskLoadError):
            load_task(bad)


def test_pending_commits_keep_their_window_and_old_entries_still_load(tmp_path: Path) -> None:
    """The validator keeps its commits in the SDK's store with the commit tx and the reveal
    window; entries written before those fields existed (the CLI's) still load."""
    store = CommitStore(tmp_path / "commits")
    entry = CommitEntry(1, "mt1x", [1, 2], [65535, 7], "ab" * 32, 0, 10, "AB12", 22, 32)
    store.save(b"\x01" * 32, entry)
    (tmp_path / "commits" / ("02" * 32 + ".json")).write_text(
        json.dumps(
            {
                "netuid": 1,
                "hotkey": "mt1y",
                "uids": [3],
                "weights": [9],
                "salt": "cd" * 16,
                "version_key": 0,
                "height": 11,
            }
        )
    )
    (tmp_path / "commits" / ("03" * 32 + ".json")).write_text("{not json")
    got = dict(store.entries())
    assert got[b"\x01" * 32] == entry
    old = got[b"\x02" * 32]
    assert (old.tx_hash, old.reveal_from, old.reveal_until) == ("", 0, 0)
    assert b"\x03" * 32 not in got  # unreadable: skipped
    store.delete(b"\x01" * 32)
    store.delete(b"\x01" * 32)  # twice is fine
    assert b"\x01" * 32 not in dict(store.entries())


def test_scores_are_saved_atomically(tmp_path: Path) -> None:
    ema = MovingScores(alpha=0.5)
    ema.update(4, "mt1z", 0.5)
    ema.save(tmp_path / "state" / "scores.json")
    back = MovingScores.from_json(json.loads((tmp_path / "state" / "scores.json").read_text()), 0.5)
    assert back.scores == {4: 0.25} and not list((tmp_path / "state").glob("*.tmp"))


def test_rate_limit_height_is_read_from_the_refusal() -> None:
    err = WeightsRateLimited(
        "uid 0 sent weights at height 40; weights_rate_limit is 10 blocks, next allowed at "
        "height 50"
    )
    assert lifts_at(err, 45, 10) == 50
    assert lifts_at(WeightsRateLimited("later"), 45, 10) == 55


def test_neuron_commands_fail_with_one_line(tmp_path: Path) -> None:
    """A missing key or an unknown task is one ``Error:`` line and exit 1, no traceback."""
    from harness import run_cli

    res = run_cli(tmp_path, "neuron", "validator", "--netuid", "1", "--from", "nobody")
    assert res.returncode == 1 and "no key named 'nobody'" in res.stderr
    assert "Traceback" not in res.stderr
    from abci_app.client.keyring import Keyring

    Keyring(tmp_path / "keyring", backend="test").add("x")
    res = run_cli(tmp_path, "neuron", "miner", "--netuid", "1", "--from", "x", "--task", "nope")
    assert res.returncode == 1 and "unknown task 'nope'" in res.stderr
    assert "Traceback" not in res.stderr


def test_damaged_or_edited_validator_state_is_ignored_entry_by_entry(tmp_path: Path) -> None:
    """What a validator reads back from its state folder cannot reach a tx or stop it: a commit
    entry of the wrong shape (a salt that is not hex made every later step raise, and the
    validator never committed again), one whose weights no longer hash to its name, and score
    entries that are not a uid with a hotkey and an average in [0, 1] are each skipped."""
    import asyncio

    from harness import seeded_key

    from abci_app.address import from_bech32
    from abci_app.client.aio import AsyncChain
    from abci_app.client.keyring import Key
    from abci_app.modules.subnets.messages import commit_hash
    from abci_app.neurons.weights import WeightSetter

    key = Key("val", seeded_key(700))
    salt = b"\x07" * 32
    digest = commit_hash(from_bech32(key.address), 1, [3, 4], [65535, 9], salt, 0)
    good = CommitEntry(1, key.address, [3, 4], [65535, 9], salt.hex(), 0, 10, "AB", 21, 42)
    store = CommitStore(tmp_path / "commits")
    store.save(digest, good)
    record = json.loads((tmp_path / "commits" / f"{digest.hex()}.json").read_text())
    bad_fields: list[dict[str, object]] = [
        {"salt": "not hex"},
        {"salt": ""},
        {"uids": [3, True]},
        {"uids": [3, 70_000]},
        {"uids": [3]},
        {"weights": "65535,9"},
        {"height": -1},
        {"reveal_until": 1e30},
        {"hotkey": 5},
    ]
    for i, change in enumerate(bad_fields):
        name = f"{i + 16:064x}.json"
        (tmp_path / "commits" / name).write_text(json.dumps({**record, **change}))
    # well formed, but its weights are not those its name commits to
    edited = {**record, "weights": [65535, 65535]}
    other = commit_hash(from_bech32(key.address), 1, [3, 4], [1, 1], salt, 0)
    (tmp_path / "commits" / f"{other.hex()}.json").write_text(json.dumps(edited))
    assert sorted(d for d, _ in store.entries()) == sorted([digest, other])

    async def load() -> list[bytes]:
        async with AsyncChain("http://127.0.0.1:1") as chain:  # (no call is made)
            return [c.digest for c in WeightSetter(chain, key, 1, store).pending]

    assert asyncio.run(load()) == [digest]

    scores = {
        "1": ["mt1a", 0.5],
        "2": ["mt1b", 1.5],
        "3": ["mt1c", "0.5"],
        "4": [7, 0.5],
        "-5": ["mt1d", 0.5],
        "70000": ["mt1e", 0.5],
        "6": ["mt1f"],
        "7": ["mt1g", True],
        "x": ["mt1h", 0.5],
        "8": ["mt1i", 1],
    }
    back = MovingScores.from_json(scores, 0.3)  # type: ignore[arg-type]
    assert back.scores == {1: 0.5, 8: 1.0} and back.hotkeys == {1: "mt1a", 8: "mt1i"}
    with pytest.raises(ValueError):
        MovingScores.from_json([1, 2], 0.3)  # type: ignore[arg-type]
