"""Subnets end to end on a real node, driven through the ``moderntensor`` CLI only.

A subnet with 3 validators and 10 miners: weights committed and revealed through the CLI, an
epoch runs on them, the metagraph shows incentive and dividends, and balances and stakes grew by
exactly what the epoch emitted. Then registration into the full subnet: refused while every
neuron is immune, then the right neuron is pruned and a freshly registered (immune) one is
spared. A second subnet without commit-reveal shows set_weights and its rate limit.

Every wait is on the chain's own answers (the windows commit_weights events name, epochs, tx
heights), and every window a CLI tx must land in is sized from the blocks the CLI calls took on
this node (harness.CliCost), so a loaded machine gets longer windows, not missed ones.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from harness import CliCost, LocalNode, addr_of, seeded_key, wait_until

from abci_app.client.keyring import Keyring

pytestmark = pytest.mark.integration

VALIDATORS = [f"val{i}" for i in range(3)]
MINERS = [f"miner{i}" for i in range(10)]
LATE = ["late1", "late2"]
NAMES = ["owner", *VALIDATORS, *MINERS, *LATE]
TEMPO = 30
"""The subnet's tempo on an idle machine; a loaded one gets a longer one (CliCost.window)."""
STAKE_MDT = {"val0": 1000, "val1": 2000, "val2": 2000}
"""val2 alone disagrees (on miner1) and holds 40% of the stake: below kappa (half), so consensus
follows val0 and val1 and miner1 earns. (At an even split, the dividends of a few epochs could
tip val2 above half and zero miner1 as well: two neurons earning nothing.)"""


class Net:
    def __init__(self, node: LocalNode) -> None:
        self.node = node
        self.cli = CliCost(node)
        self.tempo = TEMPO
        """Subnet 1's tempo once the test has set it."""
        self.keys = {
            name: Keyring(node.home.keyring).add(name, bytes(seeded_key(100 + i)))
            for i, name in enumerate(NAMES)
        }

    def mt(self, *args: str, ok: bool = True) -> Any:
        res = self.cli.run(self.node.root, "-o", "json", *args)
        if ok:
            assert res.returncode == 0, (args, res.stdout, res.stderr)
            return json.loads(res.stdout)
        return res

    def parallel(self, calls: list[tuple[str, ...]]) -> list[Any]:
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda a: self.mt(*a), calls))

    def addr(self, name: str) -> str:
        return self.keys[name].address

    def query(self, path: str) -> Any:
        """Reads go through the SDK's RPC client (fast); every tx goes through the CLI."""
        with self.node.rpc() as rpc:
            res = rpc.abci_query(path)
            assert res.code == 0, res.log
            return res.json()

    def balance(self, name: str) -> int:
        return int(self.query(f"/account/{self.addr(name)}")["balance"])

    def subnet(self, netuid: int) -> dict[str, Any]:
        return next(s for s in self.query("/subnets") if s["netuid"] == netuid)

    def wait_epoch_after(self, height: int, netuid: int = 1) -> dict[str, Any]:
        """Wait until the subnet's last epoch is after ``height``; return the subnet."""
        return wait_until(
            lambda: (s := self.subnet(netuid))["last_epoch"] > height and s,
            self.blocks_timeout(self.tempo + 1),
            f"an epoch of subnet {netuid} after height {height}",
            poll=0.5,
        )

    def blocks_timeout(self, blocks: int) -> float:
        """Seconds to allow for ``blocks`` blocks (0.2 s each here; 3 times that, plus 30 s)."""
        return blocks * 0.6 + 30

    def wait_height(self, height: int) -> None:
        self.node.wait_height(height, self.blocks_timeout(max(0, height - self.node.height())))

    def snapshot(self) -> tuple[int, dict[str, Any], dict[str, int]]:
        """(last epoch, metagraph by hotkey, balances) read between two epochs."""
        for _ in range(5):
            before = self.subnet(1)["last_epoch"]
            meta = {n["hotkey"]: n for n in self.query("/subnet/1/metagraph")["neurons"]}
            balances = {name: self.balance(name) for name in ["owner", *VALIDATORS, *MINERS]}
            if self.subnet(1)["last_epoch"] == before:
                return before, meta, balances
        raise AssertionError("an epoch ran during every snapshot attempt")


@pytest.fixture
def net(node_factory: type) -> Net:
    accounts = [(addr_of(seeded_key(100 + i)), 10**14) for i in range(len(NAMES))]
    node: LocalNode = node_factory(accounts=accounts)
    node.init().start(min_height=2)
    return Net(node)


def epoch_event(net: Net, height: int) -> dict[str, str]:
    with net.node.rpc() as rpc:
        res = rpc.call("block_results", height=str(height))
    for ev in res.get("finalize_block_events") or []:
        if ev["type"] == "subnet_epoch":
            return {a["key"]: a["value"] for a in ev["attributes"]}
    raise AssertionError(f"no subnet_epoch event at height {height}")


def _event(done: dict[str, Any], kind: str, key: str) -> str:
    """The value of attribute ``key`` of the first ``kind`` event of a tx result (CLI JSON)."""
    for ev in done["events"]:
        if ev["type"] == kind:
            for a in ev["attributes"]:
                if a["key"] == key:
                    return str(a["value"])
    raise AssertionError(f"no {kind}.{key} in {done['events']}")


def test_subnet_lifecycle_through_the_cli(net: Net) -> None:
    reg = net.mt("subnet", "register", "--from", "owner")
    assert reg["code"] == 0
    net.mt(
        "subnet",
        "set-hyperparams",
        "1",
        f"tempo={TEMPO}",
        "weights_rate_limit=0",
        "immunity_period=1000000",
        "adjustment_interval=100000",
        "max_registrations_per_block=13",  # all 13 may land in one block
        "target_registrations_per_interval=6",  # at most 18 in the (one) interval
        "--from",
        "owner",
    )
    net.parallel([("subnet", "register-neuron", "1", "--from", k) for k in VALIDATORS + MINERS])
    meta = net.mt("subnet", "metagraph", "1")["neurons"]
    assert len(meta) == 13
    uid = {n["hotkey"]: n["uid"] for n in meta}
    # The reveal windows below must hold a round of CLI calls: the tempo is as many blocks as
    # CliCost.window gives for the slowest of the 13 registrations (4 at a time), at least
    # TEMPO. It is set with the stakes, in one round of calls (in force from the next block).
    net.tempo = net.cli.window(TEMPO)
    stakes = [
        ("subnet", "add-stake", "1", "--hotkey", net.addr(v), "--amount", f"{mdt}mdt", "--from", v)
        for v, mdt in STAKE_MDT.items()
    ]
    tempo = ("subnet", "set-hyperparams", "1", f"tempo={net.tempo}", "--from", "owner")
    staked = net.parallel([*stakes, tempo])
    miner_uids = [uid[net.addr(m)] for m in MINERS]
    # miner0 gets nothing from anyone (it will be the pruning victim); val2 disagrees on miner1
    weights = {
        v: ",".join(f"{u}={(k + 1) * 100 if k else 0}" for k, u in enumerate(miner_uids))
        for v in VALIDATORS
    }
    weights["val2"] = ",".join(
        f"{u}={(k + 1) * 100 if k > 1 else 0}" for k, u in enumerate(miner_uids)
    )
    # commit-reveal is on by default: set_weights is refused with its code
    refused = net.mt(
        "subnet", "set-weights", "1", "--weights", weights["val0"], "--from", "val0", ok=False
    )
    assert refused.returncode == 1 and "code 139" in refused.stderr
    # weights need a validator permit: the first epoch after the stake starts its stake floor
    # (an epoch weighs the lowest stake held since the previous one), the second grants it.
    # A commit is revealed in the window after its own, the one its commit_weights event names.
    # Committed just after that second epoch, the three land in one window, a tempo ahead of
    # their reveal window.
    floors = net.wait_epoch_after(max(st["height"] for st in staked))
    net.wait_epoch_after(floors["last_epoch"])
    commits = net.parallel(
        [
            ("subnet", "commit-weights", "1", "--weights", weights[v], "--from", v)
            for v in VALIDATORS
        ]
    )
    windows = {
        v: (
            int(_event(c, "commit_weights", "reveal_from")),
            int(_event(c, "commit_weights", "reveal_until")),
        )
        for v, c in zip(VALIDATORS, commits, strict=True)
    }
    # so a reveal one call later is before its window opens: refused, naming the window
    first_v = min(VALIDATORS, key=lambda v: windows[v])
    early = net.mt("subnet", "reveal-weights", "1", "--from", first_v, ok=False)
    assert early.returncode == 1 and "code 141" in early.stderr, early.stderr
    assert "too early" in early.stderr and "{}..{}".format(*windows[first_v]) in early.stderr
    for opens in sorted({w[0] for w in windows.values()}):  # one round per window (one, idle)
        group = [v for v in VALIDATORS if windows[v][0] == opens]
        net.wait_height(opens)
        done = net.parallel([("subnet", "reveal-weights", "1", "--from", v) for v in group])
        for v, r in zip(group, done, strict=True):
            assert r["code"] == 0 and windows[v][0] <= r["height"] <= windows[v][1], (v, r)
    row = net.mt("subnet", "weights", "1", str(uid[net.addr("val0")]))
    assert row["commit"] is None and len(row["weights"]) == 9

    # the next epoch runs on the three revealed rows (each validator earns dividends by its own
    # bonds, so each row counted): compare what it changed
    epoch1, meta1, bal1 = net.snapshot()
    second = net.wait_epoch_after(epoch1)
    epoch2, meta2, bal2 = net.snapshot()
    assert epoch2 == second["last_epoch"] == epoch1 + net.tempo + 1
    event = epoch_event(net, epoch2)
    emitted = int(event["emission"])
    assert emitted > 0
    for m in MINERS:
        n = meta2[net.addr(m)]
        assert bal2[m] - bal1[m] == int(n["emission"]), m
    assert meta2[net.addr("miner0")]["incentive"] == 0
    assert all(meta2[net.addr(m)]["incentive"] > 0 for m in MINERS[1:])  # miner1: see STAKE_MDT
    for v in VALIDATORS:
        n = meta2[net.addr(v)]
        assert n["validator_permit"] and n["dividends"] > 0
        assert int(n["stake"]) - int(meta1[net.addr(v)]["stake"]) == int(n["emission"]), v
        assert bal2[v] == bal1[v]  # dividends go to subnet stake, not the balance
    assert bal2["owner"] - bal1["owner"] == int(event["owner"])
    paid = sum(int(n["emission"]) for n in meta2.values()) + int(event["owner"])
    assert event["recycled"] == "0"  # miners and validators earned: nothing recycled
    assert paid + int(event["dust"]) == emitted  # the splits' dust went to the community pool

    # pruning: full and everyone immune -> refused; then the lowest-emission mortal goes
    net.mt(
        "subnet",
        "set-hyperparams",
        "1",
        "max_allowed_uids=13",
        "max_allowed_validators=13",
        "--from",
        "owner",
    )
    full = net.mt("subnet", "register-neuron", "1", "--from", "late1", ok=False)
    assert full.returncode == 1 and "code 135" in full.stderr
    # an immunity period the 13 have outlived, and that a neuron registered from now on keeps
    # through the calls after its registration (CliCost.window, at least 20 blocks)
    youngest = max(n["registered_at"] for n in net.query("/subnet/1/metagraph")["neurons"])
    immunity = net.cli.window(20)
    net.mt("subnet", "set-hyperparams", "1", f"immunity_period={immunity}", "--from", "owner")
    net.wait_height(youngest + immunity)
    meta = net.query("/subnet/1/metagraph")["neurons"]
    victim = min(meta, key=lambda n: (int(n["emission"]), n["registered_at"], n["uid"]))
    assert victim["hotkey"] == net.addr("miner0")  # the one neuron that earned nothing
    assert int(victim["emission"]) == 0
    late1 = net.mt("subnet", "register-neuron", "1", "--from", "late1")
    assert _event(late1, "register_neuron", "pruned") == net.addr("miner0")
    after = {n["uid"]: n for n in net.query("/subnet/1/metagraph")["neurons"]}
    assert after[victim["uid"]]["hotkey"] == net.addr("late1")
    assert after[victim["uid"]]["registered_at"] == late1["height"]
    # late1 is immune (and has the lowest emission, 0): late2 replaces someone else
    late2 = net.mt("subnet", "register-neuron", "1", "--from", "late2")
    assert late2["height"] - late1["height"] < immunity, "late2 came after late1's immunity"
    assert _event(late2, "register_neuron", "pruned") not in ("", net.addr("late1"))
    after2 = {n["uid"]: n for n in net.query("/subnet/1/metagraph")["neurons"]}
    assert after2[victim["uid"]]["hotkey"] == net.addr("late1")
    assert net.addr("late2") in {n["hotkey"] for n in after2.values()}
    assert len(after2) == 13


def test_set_weights_rate_limit_and_errors(net: Net) -> None:
    net.mt("subnet", "register", "--from", "owner")
    net.mt(
        "subnet",
        "set-hyperparams",
        "1",
        "commit_reveal=0",
        "weights_rate_limit=1000",
        "tempo=4",
        "max_registrations_per_block=2",
        "--from",
        "owner",
    )
    net.parallel([("subnet", "register-neuron", "1", "--from", k) for k in ("val0", "miner0")])
    uid = {n["hotkey"]: n["uid"] for n in net.query("/subnet/1/metagraph")["neurons"]}
    val, miner = uid[net.addr("val0")], uid[net.addr("miner0")]
    # weights need a validator permit: none before two epochs have seen stake on the hotkey
    early = net.mt(
        "subnet", "set-weights", "1", "--weights", f"{miner}=1", "--from", "val0", ok=False
    )
    assert early.returncode == 1 and "code 147" in early.stderr
    staked = net.mt(
        "subnet",
        "add-stake",
        "1",
        "--hotkey",
        net.addr("val0"),
        "--amount",
        "10mdt",
        "--from",
        "val0",
    )
    net.wait_epoch_after(net.wait_epoch_after(staked["height"])["last_epoch"])  # the permit
    first = net.mt("subnet", "set-weights", "1", "--weights", f"{miner}=100", "--from", "val0")
    again = net.mt("subnet", "set-weights", "1", "--weights", "1=200", "--from", "val0", ok=False)
    assert again.returncode == 1
    assert "code 138" in again.stderr
    assert f"next allowed at height {first['height'] + 1000}" in again.stderr
    assert "Traceback" not in again.stderr
    # bad arguments: clear errors, nothing sent
    bad = net.mt("subnet", "set-weights", "1", "--weights", "1:100", "--from", "val0", ok=False)
    assert bad.returncode == 2 and "UID=WEIGHT" in bad.stderr
    unknown = net.mt("subnet", "metagraph", "7", ok=False)
    assert unknown.returncode == 1 and "code 130" in unknown.stderr
    not_owner = net.mt("subnet", "set-hyperparams", "1", "tempo=5", "--from", "val0", ok=False)
    assert "code 132" in not_owner.stderr
    hp = net.mt("subnet", "hyperparams", "1")
    assert hp["commit_reveal"] == 0 and hp["weights_rate_limit"] == 1000
    assert net.mt("subnet", "weights", "1", str(val))["weights"] == [[miner, 100]]
    stake = net.mt("subnet", "stake", net.addr("val0"))["stake"]  # with any dividends
    assert [(p["netuid"], p["hotkey"]) for p in stake] == [(1, net.addr("val0"))]
    assert int(stake[0]["amount"]) >= 10 * 10**9
    assert net.mt("subnet", "stake", net.addr("miner0"))["stake"] == []
