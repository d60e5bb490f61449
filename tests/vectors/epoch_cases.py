"""Fixed epoch inputs (in the JSON form of ``moderntensor subnet simulate-epoch``) and their
pinned outputs. Regenerate deliberately (``python tests/vectors/epoch_cases.py``) only when the
epoch's definition changes on purpose: the vectors exist to catch accidental changes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from abci_app.modules.subnets.epoch import run_epoch
from abci_app.modules.subnets.epoch_json import epoch_output_json, parse_epoch_input

VECTOR_FILE = Path(__file__).with_name("epoch_vectors.json")

HAND_CASE: dict[str, Any] = {
    # uid 0 (stake 3) weights miners 2 and 3 equally, uid 1 (stake 1) weights only miner 2
    "height": 100,
    "params": {
        "kappa": 32767,
        "bonds_moving_average": 900000,
        "activity_cutoff": 5000,
        "max_allowed_validators": 64,
    },
    "stake": [3, 1, 0, 0],
    "last_update": [100, 100, 100, 100],
    "registered_at": [0, 0, 0, 0],
    "weights": {"0": [[2, 1], [3, 1]], "1": [[2, 1]]},
    "emission": 1000,
}


def seeded_case(seed: int, n: int, n_val: int) -> dict[str, Any]:
    rng = random.Random(seed)
    height = 5_000
    case: dict[str, Any] = {
        "height": height,
        "params": {
            "kappa": 32767,
            "bonds_moving_average": 900000,
            "activity_cutoff": 1_000,
            "max_allowed_validators": max(1, n_val - 1),
        },
        "stake": [rng.randrange(10**9, 10**12) if i < n_val else 0 for i in range(n)],
        "last_update": [rng.randrange(height - 1_500, height + 1) for _ in range(n)],
        "registered_at": [rng.randrange(0, 4_000) for _ in range(n)],
        "weights": {
            str(i): [[j, rng.randrange(0, 65536)] for j in sorted(rng.sample(range(n), n // 2))]
            for i in range(n_val)
        },
        "bonds": {
            str(i): [[j, rng.randrange(1, 65536)] for j in sorted(rng.sample(range(n), n // 3))]
            for i in range(n_val)
        },
        "emission": rng.randrange(10**9, 10**12),
    }
    return case


def cases() -> list[dict[str, Any]]:
    return [HAND_CASE, seeded_case(1, 16, 4), seeded_case(2, 64, 12), seeded_case(3, 128, 32)]


def compute() -> list[dict[str, Any]]:
    return [
        {"input": c, "output": epoch_output_json(run_epoch(parse_epoch_input(c)))} for c in cases()
    ]


if __name__ == "__main__":
    VECTOR_FILE.write_text(json.dumps(compute()) + "\n")
    print(f"wrote {VECTOR_FILE.name}")
