"""Random histories of subnet stake moves, registrations (with pruning) and weights across
many epochs, on two app instances: after every block the stake each neuron will weigh in the
next epoch (the metagraph's ``epoch_stake``) equals a model's: the lowest stake the hotkey held
since the last epoch, tx by tx (a removal and a re-add in one block count), restarting at its
stake after each epoch and at 0 on registration. The app hashes agree after every block, and
every invariant holds (the driver checks them).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from chain_driver import Driver, genesis_app_state, signed
from harness import addr_of, seeded_key

from abci_app.address import from_bech32
from abci_app.modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgRemoveSubnetStake,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
)
from abci_app.modules.subnets.schedule import is_epoch_block
from abci_app.tx import Message

N = 10
MDT = 10**9
TEMPO = 4
UIDS = 4
HP = {
    "tempo": TEMPO,
    "commit_reveal": 0,
    "weights_rate_limit": 0,
    "max_allowed_uids": UIDS,
    "max_allowed_validators": UIDS,
    "immunity_period": 6,
    "target_registrations_per_interval": 32,  # the chain's cap: 96 per interval
}


def q(d: Driver, path: str) -> object:
    res = d.query(path)
    assert res.code == 0, res.log
    return json.loads(res.value)


def hotkey(i: int) -> bytes:
    return addr_of(seeded_key(i))


class Run:
    def __init__(self, tmp: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.a = Driver.open(tmp / f"a{seed}.sqlite")
        self.b = Driver.open(tmp / f"b{seed}.sqlite")
        state = genesis_app_state(N, 10**14)
        state["subnets"] = {"params": {"min_lock_cost": MDT}}
        assert self.a.init_chain(state) == self.b.init_chain(state)
        self.nonces = [0] * N
        names = tuple(sorted(HP))
        setup = [
            [self.tx(0, MsgRegisterSubnet(max_cost=MDT))],
            [self.tx(0, MsgSetSubnetHyperparams(1, names, tuple(HP[k] for k in names)))],
        ]
        for txs in setup:
            assert self.both(txs) == [0]
        self.floor: dict[bytes, int] = {}  # the model: registered hotkey -> floor
        self.epochs = 0
        self.seen: set[str] = set()  # what the history exercised

    def tx(self, i: int, msg: Message) -> bytes:
        self.nonces[i] += 1
        return signed(i, [msg], self.nonces[i] - 1)

    def both(self, txs: list[bytes]) -> list[int]:
        ha, ca = self.a.block(txs)
        hb, cb = self.b.block(txs)
        assert ha == hb and ca == cb
        return ca

    def metagraph(self) -> dict[bytes, dict[str, object]]:
        neurons = q(self.a, "/subnet/1/metagraph")["neurons"]  # type: ignore[index]
        return {from_bech32(n["hotkey"]): n for n in neurons}

    def block(self) -> None:
        rng = self.rng
        before = self.metagraph()
        stake = {h: int(n["stake"]) for h, n in before.items()}  # type: ignore[call-overload]
        uids = sorted(int(n["uid"]) for n in before.values())  # type: ignore[call-overload]
        planned: list[tuple[str, bytes, int]] = []
        txs = []
        for _ in range(rng.randrange(0, 6)):
            i = rng.randrange(1, N)
            kind = rng.random()
            if kind < 0.2 or not before:
                txs.append(self.tx(i, MsgRegisterNeuron(1, max_cost=10**12)))
                planned.append(("register", hotkey(i), 0))
                continue
            hk = rng.choice(sorted(before))
            amount = rng.choice([1, 7, MDT, 5 * MDT, 40 * MDT])
            if kind < 0.55:
                txs.append(self.tx(i, MsgAddSubnetStake(1, hk, amount)))
                planned.append(("add", hk, amount))
            elif kind < 0.9:
                txs.append(self.tx(i, MsgRemoveSubnetStake(1, hk, amount)))
                planned.append(("remove", hk, amount))
            else:
                row = tuple(u for u in uids if rng.random() < 0.6)
                weights = tuple(rng.randrange(1, 65_536) for _ in row)
                txs.append(self.tx(i, MsgSetWeights(1, row, weights)))
                planned.append(("weights", hk, 0))
        codes = self.both(txs)
        after = self.metagraph()
        for (kind, hk, amount), code in zip(planned, codes, strict=True):
            if code != 0:
                continue
            self.seen.add(kind)
            if kind == "add":
                stake[hk] = stake.get(hk, 0) + amount
            elif kind == "remove":
                stake[hk] -= amount
                if hk in self.floor:
                    if stake[hk] < self.floor[hk]:
                        self.seen.add("lowered")
                    self.floor[hk] = min(self.floor[hk], stake[hk])
            elif kind == "register":
                pruned = {h for h in self.floor if h not in after}
                self.seen |= {"prune"} if pruned else set()
                self.floor = {h: f for h, f in self.floor.items() if h not in pruned}
                self.floor[hk] = 0
        if is_epoch_block(1, TEMPO, self.a.height):
            self.epochs += 1
            self.floor = {h: int(n["stake"]) for h, n in after.items()}  # type: ignore[call-overload]
        got = {h: int(n["epoch_stake"]) for h, n in after.items()}  # type: ignore[call-overload]
        assert got == self.floor, (self.a.height, got, self.floor)


def test_random_stake_histories_weigh_the_lowest_stake_since_the_last_epoch(
    tmp_path: Path,
) -> None:
    seen: set[str] = set()
    for seed in range(2):
        run = Run(tmp_path, seed)
        for _ in range(60):
            run.block()
        assert run.epochs == 12 and any(run.floor.values())
        seen |= run.seen
        run.a.close()
        run.b.close()
    # the histories exercised every way a floor moves
    assert seen == {"add", "remove", "lowered", "register", "prune", "weights"}, seen
