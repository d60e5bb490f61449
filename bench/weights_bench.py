"""Weight calibration (issue 13): microseconds per weight unit of every message type at its
worst case, in-process (no sockets, no cometbft), for txs seen first in the block (FinalizeBlock
decodes and verifies them: the cold path) on a state built to the chain's bounds: 64
validators each delegator delegates to (max_delegations; others hold 63 and delegate or
redelegate to a 64th, or withdraw from one), a subnet at max_uids_cap (1,024)
uids where every registration prunes, 32 subnets (max_subnets), 1,024-entry weight rows.

For each type a block of K such txs is finalized; (block time - empty block time) / K is the
cost of one tx, divided by its weight (weights.tx_weight) gives microseconds per unit. The
slowest type may cost at most 2x the fastest per unit. Also: the worst block, a block filled
to block.max_gas with the slowest type per unit, and its execution time.

    .venv/bin/python bench/weights_bench.py [--repeat 3]

Prints one JSON object. No network.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from chain_driver import DEFAULT_BOUNDS, Driver, Sender, genesis_app_state  # noqa: E402
from harness import addr_of, seeded_key  # noqa: E402

from abci_app.app import Application  # noqa: E402
from abci_app.execution import execute_tx, load_context  # noqa: E402
from abci_app.modules.bank.messages import MsgTransfer  # noqa: E402
from abci_app.modules.distribution.messages import MsgWithdrawRewards  # noqa: E402
from abci_app.modules.slashing.messages import MsgUnjail  # noqa: E402
from abci_app.modules.staking.messages import (  # noqa: E402
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from abci_app.modules.subnets.messages import (  # noqa: E402
    MsgAddSubnetStake,
    MsgCommitWeights,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgRemoveSubnetStake,
    MsgRevealWeights,
    MsgServeAxon,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
    commit_hash,
)
from abci_app.state.db import StateDB  # noqa: E402
from abci_app.tx import decode_tx  # noqa: E402
from abci_app.types import EventLog  # noqa: E402
from abci_app.weights import tx_weight  # noqa: E402

UIDS = DEFAULT_BOUNDS.max_uids_cap
VALS = 64  # validators each delegator delegates to: DEFAULT_BOUNDS.max_delegations
DELEGATORS = range(0, 20)
NEARLY_FULL = (range(500, 520), range(600, 620))
"""Delegators at max_delegations - 1 (63 delegations): a delegation to a 64th validator
counts them against the cap, a withdrawal from one validator must not scan them."""
OPERATORS = range(2000, 2000 + VALS)
NEURONS = range(0, UIDS)  # hotkeys of subnet 1 (accounts 0..1023)
NEWCOMERS = range(3000, 3100)  # register into the full subnet, pruning
ACCOUNTS = 3100


def hyper(netuid: int, **values: int) -> MsgSetSubnetHyperparams:
    names = tuple(sorted(values))
    return MsgSetSubnetHyperparams(netuid, names, tuple(values[k] for k in names))


def op(i: int) -> bytes:
    return addr_of(seeded_key(i))


class Bench:
    def __init__(self, root: Path) -> None:
        db = StateDB(root / "state.sqlite")
        self.d = Driver(Application(db, check_invariants=False), db.height)
        state = genesis_app_state(ACCOUNTS, balance=10**15)
        accounts = state["accounts"]
        assert isinstance(accounts, list)
        del accounts[1000]  # seeded_key(1000) is the genesis validator's operator (listed last)
        # the genesis (root, in subtensor's terms) lets a whole subnet register in one block,
        # so the set-up is quick; message weights do not depend on these two caps
        state["subnets"] = {
            "params": {
                "min_lock_cost": 10**9,
                "lock_reduction_interval": 1,
                "max_registrations_per_block_cap": UIDS,
                "max_target_registrations_cap": UIDS,
            }
        }
        self.d.init_chain(state)
        self.s = Sender()
        self.d.block([])

    def block(self, txs: list[bytes]) -> list[int]:
        codes: list[int] = []
        for i in range(0, len(txs), 2_000):
            codes += self.d.block(txs[i : i + 2_000])[1]
        return codes

    def until_epoch(self, netuid: int, tempo: int) -> None:
        while True:
            self.d.block([])
            if (self.d.height + netuid + 1) % (tempo + 1) == 0:
                return

    def setup(self) -> None:
        s, b = self.s, self.block
        # 64 validators; 20 delegators delegate to every one of them (max_delegations)
        codes = b(
            [
                s.tx(
                    i,
                    MsgCreateValidator(
                        bytes(seeded_key(10_000 + i).verify_key),
                        10**9,
                        "v",
                        "",
                        10**8,
                        5 * 10**8,
                        10**7,
                    ),
                )
                for i in OPERATORS
            ]
        )
        assert not any(codes), codes
        txs = []
        for i in DELEGATORS:
            for half in (OPERATORS[:32], OPERATORS[32:]):
                txs.append(s.tx(i, *[MsgDelegate(op(v), 10**10) for v in half]))
        assert not any(b(txs))
        txs = []
        for i in (*NEARLY_FULL[0], *NEARLY_FULL[1]):
            for part in (OPERATORS[:32], OPERATORS[32 : VALS - 1]):
                txs.append(s.tx(i, *[MsgDelegate(op(v), 10**10) for v in part]))
        assert not any(b(txs))
        for _ in range(3):  # rewards accrue: every delegation has something to settle
            self.d.block([])
        # 31 subnets (register_subnet then scans max_subnets); subnet 1 at the uid cap
        for n in range(31):  # one a block: the lock cost decays back within a block
            assert not any(b([s.tx(2900 + n, MsgRegisterSubnet(max_cost=10**15))]))
        setup_hp = hyper(
            1,
            max_allowed_uids=UIDS,
            max_allowed_validators=16,
            tempo=4,
            immunity_period=0,
            weights_rate_limit=0,
            commit_reveal=0,
            max_registrations_per_block=UIDS,
            target_registrations_per_interval=UIDS,
        )
        assert not any(b([s.tx(2900, setup_hp)]))
        reveal_hp = hyper(
            2,
            max_allowed_uids=UIDS,
            max_allowed_validators=16,
            tempo=4,
            weights_rate_limit=0,
            immunity_period=10**6,
            max_registrations_per_block=UIDS,
            target_registrations_per_interval=UIDS,
        )
        assert not any(b([s.tx(2901, reveal_hp)]))
        assert not any(b([s.tx(i, MsgRegisterNeuron(1, 10**15)) for i in NEURONS]))
        assert not any(b([s.tx(i, MsgRegisterNeuron(2, 10**15)) for i in range(UIDS)]))
        stake = [s.tx(i, MsgAddSubnetStake(n, op(i), 10**12)) for i in range(16) for n in (1, 2)]
        assert not any(b(stake))
        for _ in range(2):  # the first epochs start the stake floors, the second grant permits
            self.until_epoch(1, 4)
            self.until_epoch(2, 4)

    def cases(self) -> list[tuple[str, Callable[[], list[bytes]]]]:
        s = self.s
        full = tuple(range(UIDS))
        weights = tuple((7 * u) % 65_000 + 1 for u in full)
        fresh = iter(range(100_000, 200_000))
        salt = b"s" * 32

        def reveal_setup() -> list[bytes]:
            for _ in range(2):  # the commit_weights case's commits expire (code 152 before)
                self.until_epoch(2, 4)
            commits = [
                s.tx(i, MsgCommitWeights(2, commit_hash(op(i), 2, full, weights, salt, 0)))
                for i in range(16)
            ]
            codes = self.block(commits)
            assert not any(codes), codes
            self.until_epoch(2, 4)
            return [s.tx(i, MsgRevealWeights(2, full, weights, salt, 0)) for i in range(16)]

        return [
            (
                "transfer",
                lambda: [s.tx(100 + k, MsgTransfer(op(next(fresh)), 1)) for k in range(200)],
            ),
            (
                "create_validator",
                lambda: [
                    s.tx(
                        200 + k,
                        MsgCreateValidator(
                            bytes(seeded_key(20_000 + k).verify_key),
                            10**9,
                            "n",
                            "",
                            0,
                            10**8,
                            10**7,
                        ),
                    )
                    for k in range(50)
                ],
            ),
            (
                "edit_validator",
                lambda: [s.tx(i, MsgEditValidator("renamed", "", False, 0)) for i in OPERATORS],
            ),
            (
                "delegate",
                lambda: [
                    s.tx(300 + k, MsgDelegate(op(OPERATORS[k % VALS]), 10**10)) for k in range(100)
                ],
            ),
            ("withdraw_rewards", lambda: [s.tx(i, MsgWithdrawRewards(b"")) for i in DELEGATORS]),
            (
                "withdraw_rewards (one validator, 63 delegations)",
                lambda: [s.tx(i, MsgWithdrawRewards(op(OPERATORS[0]))) for i in NEARLY_FULL[0]],
            ),
            (
                "delegate (a 64th validator)",
                lambda: [
                    s.tx(i, MsgDelegate(op(OPERATORS[VALS - 1]), 10**10)) for i in NEARLY_FULL[0]
                ],
            ),
            (
                "redelegate (to a 64th validator)",
                lambda: [
                    s.tx(i, MsgRedelegate(op(OPERATORS[0]), op(OPERATORS[VALS - 1]), 10**9))
                    for i in NEARLY_FULL[1]
                ],
            ),
            (
                "undelegate",
                lambda: [s.tx(i, MsgUndelegate(op(OPERATORS[0]), 10**9)) for i in DELEGATORS],
            ),
            (
                "redelegate",
                lambda: [
                    s.tx(i, MsgRedelegate(op(OPERATORS[1]), op(OPERATORS[2]), 10**9))
                    for i in DELEGATORS
                ],
            ),
            ("unjail (refused: not jailed)", lambda: [s.tx(i, MsgUnjail()) for i in OPERATORS]),
            (
                "register_subnet (past max_subnets)",
                lambda: [s.tx(2950 + k, MsgRegisterSubnet(max_cost=10**15)) for k in range(20)],
            ),
            (
                "set_subnet_hyperparams",
                lambda: [s.tx(2900, hyper(1, kappa=30_000 + k)) for k in range(20)],
            ),
            (
                "serve_axon",
                lambda: [s.tx(16 + k, MsgServeAxon(1, "10.0.0.7", 8091, 4, 1)) for k in range(100)],
            ),
            (
                "add_subnet_stake",
                lambda: [
                    s.tx(400 + k, MsgAddSubnetStake(1, op(k % 16), 10**9)) for k in range(100)
                ],
            ),
            (
                "remove_subnet_stake",
                lambda: [s.tx(i, MsgRemoveSubnetStake(1, op(i), 10**9)) for i in range(16)],
            ),
            (
                "set_weights (1,024 entries)",
                lambda: [s.tx(i, MsgSetWeights(1, full, weights, 0)) for i in range(16)],
            ),
            (
                "commit_weights",
                lambda: [s.tx(i, MsgCommitWeights(2, b"c" * 32)) for i in range(16)],
            ),
            ("reveal_weights (1,024 entries)", reveal_setup),
            (
                "register_neuron (full: prunes)",
                lambda: [s.tx(i, MsgRegisterNeuron(1, 10**15)) for i in NEWCOMERS[:20]],
            ),
        ]

    def measure(self, name: str, make: Callable[[], list[bytes]]) -> dict[str, object]:
        """The txs' execution in FinalizeBlock (decode, verify, fee, ante, handler, events),
        timed on a scratch branch of the next block's state, best of three; then the block is
        finalized and committed for real. Per-block steps (rewards, epochs, app hash) are
        not the txs' work and are not in the time."""
        txs = make()
        app = self.d.app
        best = float("inf")
        for _ in range(3):
            state = app._block_base()
            ctx = load_context(state, self.d.height + 1, EventLog())  # cold: decode, verify
            t0 = time.process_time()  # CPU time: other processes on the machine do not count
            results = [execute_tx(state, raw, ctx) for raw in txs]
            best = min(best, time.process_time() - t0)
        elapsed = best * 1e3
        self.d.block(txs)
        codes = sorted({r.code for r in results})
        weight = [
            tx_weight(t.size, t.messages, ctx.bounds)
            for t in (decode_tx(raw, ctx.params, ctx.chain_id) for raw in txs)
        ]
        us_per_tx = elapsed * 1e3 / len(txs)
        return {
            "message": name,
            "txs": len(txs),
            "codes": codes,
            "weight": max(weight),
            "us_per_tx": round(us_per_tx, 1),
            "us_per_unit": round(us_per_tx / max(weight), 3),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mt-weights-") as tmp:
        bench = Bench(Path(tmp))
        t0 = time.perf_counter()
        bench.setup()
        setup_s = time.perf_counter() - t0
        rows = [bench.measure(name, make) for name, make in bench.cases()]
        bench.d.close()
    per_unit = [float(r["us_per_unit"]) for r in rows]  # type: ignore[arg-type]
    slowest = max(rows, key=lambda r: float(r["us_per_unit"]))  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "date": datetime.now().date().isoformat(),
                "cores": os.cpu_count(),
                "setup_seconds": round(setup_s, 1),
                "table": rows,
                "slowest_over_fastest": round(max(per_unit) / min(per_unit), 2),
                "max_gas": 1_000_000,
                "worst_block_ms_at_max_gas": round(float(slowest["us_per_unit"]) * 1_000_000 / 1e3),  # type: ignore[arg-type]
                "worst_type": slowest["message"],
                "command": "python bench/weights_bench.py",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
