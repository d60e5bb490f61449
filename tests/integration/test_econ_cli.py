"""The economic rules as a user meets them: the `moderntensor` command against a live node, each
refusal with its code and hint and no traceback (the rules themselves are tested block by
block in tests/unit/test_econ_*.py; transitive redelegation and the double-sign slash at the
infraction's power on a localnet in tests/e2e/test_slashing_localnet.py)."""

from __future__ import annotations

import json
import subprocess

import pytest
from harness import CliCost, LocalNode, wait_until

pytestmark = pytest.mark.integration


def refused(res: subprocess.CompletedProcess[str], code: int) -> None:
    assert res.returncode == 1, res.stdout
    assert f"code {code}" in res.stderr and "hint:" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_economic_rules_through_the_cli(node_factory: type) -> None:
    n: LocalNode = node_factory()
    n.init().start(min_height=2)

    cli = CliCost(n)

    def mt(*args: str) -> subprocess.CompletedProcess[str]:
        return cli.run(n.root, *args)

    def js(*args: str) -> object:
        res = mt("-o", "json", *args)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    # every module account is listed with its balance, and none accepts a transfer
    accounts = {a["name"]: a for a in js("query", "module-accounts")}  # type: ignore[attr-defined]
    assert {"bonded_pool", "community_pool", "distribution", "fee_collector"} <= set(accounts)
    assert int(accounts["bonded_pool"]["balance"]) > 0
    assert "community_pool" in mt("query", "module-accounts").stdout
    pool = accounts["bonded_pool"]["address"]
    refused(mt("tx", "transfer", "--from", "dev", "--to", pool, "--amount", "1"), 104)

    # the genesis validator changed its commission at genesis: the next change waits a day
    refused(mt("tx", "staking", "edit-validator", "--from", "dev", "--commission", "11"), 120)

    # undelegating --all closes a delegation
    assert mt("keys", "add", "alice").returncode == 0
    alice = mt("keys", "show", "alice").stdout.strip()
    assert mt("tx", "transfer", "--from", "dev", "--to", alice, "--amount", "10mdt").returncode == 0
    op = js("query", "staking", "validators")["validators"][0]["operator"]  # type: ignore[index]
    args = ("tx", "staking", "delegate", "--from", "alice", "--validator", op)
    assert mt(*args, "--amount", "3mdt").returncode == 0
    both = mt("tx", "staking", "undelegate", "--from", "alice", "--validator", op, "--amount", "1")
    assert both.returncode == 0  # (a partial one first)
    gone = mt("tx", "staking", "undelegate", "--from", "alice", "--validator", op, "--all")
    assert gone.returncode == 0, gone.stderr
    assert js("query", "staking", "delegations", alice)["delegations"] == []  # type: ignore[index]
    assert (
        sum(int(e["amount"]) for e in js("query", "staking", "unbonding", alice)["unbonding"])
        == 3 * 10**9
    )  # type: ignore[attr-defined]

    # a registration shows what it may burn and never burns more than --max-cost
    cheap = mt("subnet", "register", "--from", "dev", "--max-cost", "1")
    assert "burning at most 0.000000001 MDT" in cheap.stderr
    refused(cheap, 150)
    reg = mt("subnet", "register", "--from", "dev")
    assert reg.returncode == 0, reg.stderr
    assert "burning at most 1,000.000000000 MDT" in reg.stderr  # the lock cost, shown first
    # the second commit must reach the chain while the first is pending: a tempo of
    # CliCost.window of the slowest calls so far (at least 20 blocks)
    hp = (f"tempo={cli.window(20)}", "weights_rate_limit=0")
    assert mt("subnet", "set-hyperparams", "1", *hp, "--from", "dev").returncode == 0
    assert mt("subnet", "register-neuron", "1", "--from", "dev").returncode == 0
    # weights need a validator permit: stake on the hotkey; the first epoch after it starts its
    # stake floor, the second grants the permit (~42 blocks at tempo 20)
    dev = mt("keys", "show", "dev").stdout.strip()
    staked = mt("subnet", "add-stake", "1", "--hotkey", dev, "--amount", "10mdt", "--from", "dev")
    assert staked.returncode == 0, staked.stderr
    wait_until(
        lambda: js("subnet", "metagraph", "1")["neurons"][0]["validator_permit"],  # type: ignore[index]
        120,
        "the validator permit of the second epoch",
    )

    # a second commit while the first is pending is refused, not replacing it
    first = mt("subnet", "commit-weights", "1", "--weights", "0=1", "--from", "dev")
    assert first.returncode == 0, first.stderr
    refused(mt("subnet", "commit-weights", "1", "--weights", "0=2", "--from", "dev"), 152)

    # the supply accounts for every burn, by reason
    supply = js("query", "supply")
    burned = supply["burned"]  # type: ignore[index]
    assert int(burned["subnet_lock"]) == 1_000 * 10**9 and int(burned["registration"]) > 0
    assert "subnet_lock" in mt("query", "supply").stdout
