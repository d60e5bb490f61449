"""Yuma epoch cost: one epoch at 256 uids (64 validators each weighting all 256 uids), as the
pure function and as the chain runs it (reading neurons, stakes, weights and bonds from SQLite,
writing bonds, payouts and the metagraph); then 32 such subnets staggered over one tempo,
timing the subnets' end-block step of every block.

    .venv/bin/python bench/epoch_bench.py [--subnets 32] [--uids 256] [--validators 64]

Prints one JSON object. Builds its state in a temporary folder; no network.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from abci_app.address import module_address
from abci_app.modules.bank.state import credit
from abci_app.modules.subnets.endblock import end_block, epoch_input, run_subnet_epoch
from abci_app.modules.subnets.epoch import run_epoch
from abci_app.modules.subnets.params import Hyperparams
from abci_app.modules.subnets.state import (
    SUBNET_EMISSION_POOL,
    SUBNET_STAKE_POOL,
    Neuron,
    Subnet,
    change_stake,
    get_hyperparams,
    get_subnet,
    neurons,
    set_hyperparams,
    set_neuron,
    set_subnet,
    set_uid,
    set_weights_row,
)
from abci_app.state.db import StateDB
from abci_app.state.overlay import Overlay


def build(db: StateDB, subnets: int, uids: int, validators: int, seed: int) -> int:
    """Write ``subnets`` full subnets into ``db`` and commit; return the committed height."""
    rng = random.Random(seed)
    state = Overlay(db)
    hp = Hyperparams(max_allowed_uids=uids, max_allowed_validators=validators)
    for netuid in range(1, subnets + 1):
        owner = module_address(f"owner{netuid}")
        set_subnet(state, Subnet(netuid, owner, 1, 0, hp.min_burn, n=uids, pending_emission=10**12))
        set_hyperparams(state, netuid, hp)
        credit(state, SUBNET_EMISSION_POOL, 10**12)
        for uid in range(uids):
            hotkey = module_address(f"hk{netuid}/{uid}")
            set_neuron(state, netuid, Neuron(uid, hotkey, registered_at=1, last_update=10))
            set_uid(state, netuid, hotkey, uid)
            if uid < validators:
                amount = rng.randrange(10**12, 10**14)
                credit(state, SUBNET_STAKE_POOL, amount)
                change_stake(state, hotkey, netuid, hotkey, amount)
                row = tuple((j, rng.randrange(1, 65536)) for j in range(uids))
                set_weights_row(state, netuid, uid, row)
    db.commit(db.stage(10, state.writes))
    return 10


def cpu_ms(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.process_time()
    fn()
    return (time.process_time() - start) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--subnets", type=int, default=32)
    ap.add_argument("--uids", type=int, default=256)
    ap.add_argument("--validators", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mt-epoch-") as tmp:
        db = StateDB(Path(tmp) / "state.sqlite")
        t0 = time.perf_counter()
        height = build(db, args.subnets, args.uids, args.validators, seed=1)
        build_s = time.perf_counter() - t0

        s1 = get_subnet(db, 1)
        assert s1 is not None
        hp = get_hyperparams(db, 1)
        inp = epoch_input(Overlay(db), s1, hp, height, neurons(db, 1))
        pure = [cpu_ms(lambda: run_epoch(inp)) for _ in range(args.repeat)]
        chained = [
            cpu_ms(lambda: run_subnet_epoch(Overlay(db), s1, hp, height))
            for _ in range(args.repeat)
        ]

        # one tempo of blocks: each subnet's epoch falls in its own block (netuid staggering)
        per_block = []
        epochs_in_block = []
        for h in range(height + 1, height + hp.tempo + 2):
            state = Overlay(db)
            per_block.append(cpu_ms(lambda h=h, state=state: end_block(state, h)))
            epochs_in_block.append(
                sum(1 for n in range(1, args.subnets + 1) if (h + n + 1) % (hp.tempo + 1) == 0)
            )
        db.close()
    quiet = [t for t, e in zip(per_block, epochs_in_block, strict=True) if e == 0]
    busy = [t for t, e in zip(per_block, epochs_in_block, strict=True) if e > 0]
    result = {
        "date": datetime.now().date().isoformat(),
        "cores": os.cpu_count(),
        "subnets": args.subnets,
        "uids": args.uids,
        "validators": args.validators,
        "weights_per_epoch": args.validators * args.uids,
        "state_build_seconds": round(build_s, 1),
        "epoch_function_ms": {
            "median": round(statistics.median(pure), 1),
            "max": round(max(pure), 1),
        },
        "epoch_in_chain_ms": {
            "median": round(statistics.median(chained), 1),
            "max": round(max(chained), 1),
        },
        "blocks_in_one_tempo": len(per_block),
        "max_epochs_in_one_block": max(epochs_in_block),
        "end_block_ms_without_epoch": {
            "median": round(statistics.median(quiet), 2),
            "max": round(max(quiet), 2),
        },
        "end_block_ms_with_epoch": {
            "median": round(statistics.median(busy), 1),
            "max": round(max(busy), 1),
        },
        "command": "python bench/epoch_bench.py "
        f"--subnets {args.subnets} --uids {args.uids} --validators {args.validators}",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
