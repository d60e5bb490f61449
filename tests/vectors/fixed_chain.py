"""A fixed block sequence whose tx bytes and app hashes are pinned in transfer_chain.json.

Any change that alters consensus output (encoding, hashing, execution, fees) changes a pinned
value and fails test_vectors.py. If the change is intended, regenerate the file with
``python tests/vectors/fixed_chain.py`` and say so in the commit message.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from chain_driver import Driver, genesis_app_state, transfer  # noqa: E402

VECTOR_FILE = HERE / "transfer_chain.json"


def fixed_blocks() -> list[list[bytes]]:
    return [
        [],
        [transfer(0, 1, 1_000_000, 0), transfer(1, 2, 2_000_000, 0)],
        [transfer(0, 2, 5, 1), transfer(0, 2, 10**18, 2), transfer(2, 0, 7, 0, fee=999)],
        [transfer(0, 1, 3, 2), b"\x00garbage", transfer(1, 1, 11, 1)],
        [transfer(3, 0, 10**15 - 1_000, 0), transfer(3, 0, 1, 1)],
    ]


def compute() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Driver.open(Path(tmp) / "state.sqlite")
        genesis_hash = d.init_chain(genesis_app_state(4))
        blocks = []
        for txs in fixed_blocks():
            app_hash, codes = d.block(txs)
            blocks.append(
                {"txs": [t.hex() for t in txs], "codes": codes, "app_hash": app_hash.hex()}
            )
        d.close()
    return {"genesis_app_hash": genesis_hash.hex(), "blocks": blocks}


if __name__ == "__main__":
    VECTOR_FILE.write_text(json.dumps(compute(), indent=2) + "\n")
    print(f"wrote {VECTOR_FILE.name}")
