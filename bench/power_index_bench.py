"""A block with one delegation against the number of validator records (issue 13 follow-up):
end-block reads the active set from the power index, so the time stays flat; ``--full-scan``
times the previous rule (decode and sort every record) for comparison.

    .venv/bin/python bench/power_index_bench.py --validators 10,2000,10000 [--full-scan]

Each run builds a chain in a temporary folder: N accounts each create a validator at the
minimum self-bond (what 1 MDT a record buys an attacker), max_validators 100, invariants off;
then 30 blocks of one delegation each, timed (FinalizeBlock + Commit). Prints one JSON object
per N. The bound is counted, not timed, in tests/unit/test_power_index.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from chain_driver import Driver, Sender, genesis_app_state  # noqa: E402
from harness import addr_of, seeded_key  # noqa: E402

from abci_app.address import to_bech32  # noqa: E402
from abci_app.modules.staking import endblock  # noqa: E402
from abci_app.modules.staking import state as staking_state  # noqa: E402
from abci_app.modules.staking.messages import MsgCreateValidator, MsgDelegate  # noqa: E402

MDT = 10**9
BASE = 3_000  # accounts BASE + i: clear of the genesis validator's seeded keys


def run(n: int, blocks: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Driver.open(Path(tmp) / "s.sqlite")
        d.app.check_invariants = False
        state = genesis_app_state(0)
        state["accounts"] += [  # type: ignore[operator]
            {"address": to_bech32(addr_of(seeded_key(BASE + i))), "balance": str(100 * MDT)}
            for i in range(n + 1)
        ]
        d.init_chain(state)
        s = Sender()
        txs = [
            s.tx(
                BASE + i,
                MsgCreateValidator(
                    bytes(seeded_key(50_000 + i).verify_key), MDT + i, f"v{i}", "", 0, 0, 0
                ),
            )
            for i in range(n)
        ]
        for start in range(0, n, 500):
            d.block(txs[start : start + 500])
        target = addr_of(seeded_key(BASE + n - 1))
        times = []
        for _ in range(blocks):
            tx = s.tx(BASE + n, MsgDelegate(target, 1))
            t0 = time.perf_counter()
            d.block([tx])
            times.append(time.perf_counter() - t0)
        d.close()
    return {
        "validators": n,
        "block_ms_median": round(statistics.median(times) * 1000, 2),
        "block_ms_max": round(max(times) * 1000, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--validators", default="10,2000,10000")
    ap.add_argument("--blocks", type=int, default=30)
    ap.add_argument("--full-scan", action="store_true", help="time the previous rule instead")
    args = ap.parse_args()
    if args.full_scan:  # the pre-index end-block: every record decoded and sorted
        endblock.indexed_active_set = lambda st, p: staking_state.active_set(  # type: ignore[assignment]
            staking_state.all_validators(st), p
        )
    for n in (int(x) for x in args.validators.split(",")):
        print(json.dumps({"full_scan": args.full_scan, **run(n, args.blocks)}))


if __name__ == "__main__":
    main()
