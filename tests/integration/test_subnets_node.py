"""Subnets end to end on a real node, driven through the ``moderntensor`` CLI only.

A subnet with 3 validators and 10 miners: weights committed and revealed through the CLI, two
epochs run, the metagraph shows incentive and dividends, and balances and stakes grew by exactly
what the epoch emitted. Then registration into the full subnet: refused while every neuron is
immune, then the right neuron is pruned and a freshly registered (immune) one is spared. A
second subnet without commit-reveal shows set_weights and its rate limit.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from harness import LocalNode, addr_of, run_cli, seeded_key, wait_until

from abci_app.client.keyring import Keyring

pytestmark = pytest.mark.integration

VALIDATORS = [f"val{i}" for i in range(3)]
MINERS = [f"miner{i}" for i in range(10)]
LATE = ["late1", "late2"]
NAMES = ["owner", *VALIDATORS, *MINERS, *LATE]
TEMPO = 30


class Net:
    def __init__(self, node: LocalNode) -> None:
        self.node = node
        self.keys = {
            name: Keyring(node.home.keyring).add(name, bytes(seeded_key(100 + i)))
            for i, name in enumerate(NAMES)
        }

    def mt(self, *args: str, ok: bool = True) -> Any:
        res = run_cli(self.node.root, "-o", "json", *args, node=self.node.rpc_url, timeout=120)
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
            TEMPO * 3,
            f"an epoch of subnet {netuid} after height {height}",
            poll=0.5,
        )

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
    stakes = net.parallel(
        [
            (
                "subnet",
                "add-stake",
                "1",
                "--hotkey",
                net.addr(v),
                "--amount",
                f"{1000 * (i + 1)}mdt",
                "--from",
                v,
            )
            for i, v in enumerate(VALIDATORS)
        ]
    )
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
    # A commit is revealed in the window after its own: start the commits just after that
    # epoch so that all three land in one window
    floors = net.wait_epoch_after(max(st["height"] for st in stakes))
    net.wait_epoch_after(floors["last_epoch"])
    commits = net.parallel(
        [
            ("subnet", "commit-weights", "1", "--weights", weights[v], "--from", v)
            for v in VALIDATORS
        ]
    )
    committed_at = max(c["height"] for c in commits)
    assert net.subnet(1)["last_epoch"] < min(c["height"] for c in commits)
    # revealing in the same window is too early
    early = net.mt("subnet", "reveal-weights", "1", "--from", "val0", ok=False)
    if net.subnet(1)["last_epoch"] < committed_at:  # (the window may just have closed)
        assert "code 141" in early.stderr
    net.wait_epoch_after(committed_at)
    reveals = net.parallel([("subnet", "reveal-weights", "1", "--from", v) for v in VALIDATORS])
    assert all(r["code"] == 0 for r in reveals)
    row = net.mt("subnet", "weights", "1", str(uid[net.addr("val0")]))
    assert row["commit"] is None and len(row["weights"]) == 9

    # two epochs with the revealed weights; compare what changed over the second one
    first = net.wait_epoch_after(max(r["height"] for r in reveals))
    epoch1, meta1, bal1 = net.snapshot()
    assert epoch1 >= first["last_epoch"]
    second = net.wait_epoch_after(epoch1)
    epoch2, meta2, bal2 = net.snapshot()
    assert epoch2 == second["last_epoch"] == epoch1 + TEMPO + 1
    event = epoch_event(net, epoch2)
    emitted = int(event["emission"])
    assert emitted > 0
    for m in MINERS:
        n = meta2[net.addr(m)]
        assert bal2[m] - bal1[m] == int(n["emission"]), m
    assert meta2[net.addr("miner0")]["incentive"] == 0
    assert all(meta2[net.addr(m)]["incentive"] > 0 for m in MINERS[2:])
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
    meta = net.mt("subnet", "metagraph", "1")["neurons"]
    oldest = max(n["registered_at"] for n in meta)
    net.mt("subnet", "set-hyperparams", "1", "immunity_period=20", "--from", "owner")
    with net.node.rpc() as rpc:
        rpc.wait_for_height(oldest + 21, timeout=60)
    meta = net.mt("subnet", "metagraph", "1")["neurons"]
    victim = min(meta, key=lambda n: (int(n["emission"]), n["registered_at"], n["uid"]))
    assert victim["hotkey"] == net.addr("miner0")  # it earned nothing
    late1 = net.mt("subnet", "register-neuron", "1", "--from", "late1")
    after = {n["uid"]: n for n in net.mt("subnet", "metagraph", "1")["neurons"]}
    assert after[victim["uid"]]["hotkey"] == net.addr("late1")
    assert after[victim["uid"]]["registered_at"] == late1["height"]
    # late1 is immune (and has the lowest emission, 0): late2 replaces someone else
    net.mt("subnet", "register-neuron", "1", "--from", "late2")
    after2 = {n["uid"]: n for n in net.mt("subnet", "metagraph", "1")["neurons"]}
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
    stake = net.mt("subnet", "stake", net.addr("val0"))  # its stake (with any dividends)
    assert [(p["netuid"], p["hotkey"]) for p in stake] == [(1, net.addr("val0"))]
    assert int(stake[0]["amount"]) >= 10 * 10**9
    assert net.mt("subnet", "stake", net.addr("miner0")) == []
