"""Chain-level bounds on subnet hyperparameters (issue 13): an owner cannot configure an epoch
past the caps (uids, validators, their product), a tempo below the floor, a burn below the
floor, or registrations past the per-block and per-interval caps (subtensor: only root sets
``MaxRegistrationsPerBlock`` and ``TargetRegistrationsPerInterval``); the genesis cannot hold a
subnet past them either, nor caps its defaults break; registrations a lowered uid limit lets
through never carry the pair past ``max_weights_per_epoch``. On main an owner could set 4,096
uids and validators, tempo 1, a burn of 1 base unit and 4,096 registrations per block: an epoch
at 1,024 uids took ~8 s every other block, and one block could replace a whole subnet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chain_driver import Driver, Sender, genesis_app_state

from abci_app.errors import InvalidGenesis, InvalidHyperparams
from abci_app.genesis import parse_app_state
from abci_app.modules.subnets.messages import (
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgSetSubnetHyperparams,
)
from abci_app.modules.subnets.params import Hyperparams, SubnetParams

CHAIN = SubnetParams()


def hyper(**values: int) -> MsgSetSubnetHyperparams:
    names = tuple(sorted(values))
    return MsgSetSubnetHyperparams(1, names, tuple(values[k] for k in names))


BREAKING = [
    ({"max_allowed_uids": CHAIN.max_uids_cap + 1}, "max_allowed_uids is capped"),
    ({"max_allowed_uids": 4096, "max_allowed_validators": 4096}, "capped"),  # the issue's
    (
        {
            "max_allowed_uids": CHAIN.max_uids_cap,
            "max_allowed_validators": CHAIN.max_validators_cap,
        },
        "max_allowed_uids x max_allowed_validators",
    ),
    ({"tempo": CHAIN.min_tempo - 1}, "tempo must be at least"),
    ({"tempo": 1}, "tempo must be at least"),
    ({"min_burn": CHAIN.min_burn_floor - 1}, "min_burn must be at least"),
    ({"min_burn": 1}, "min_burn must be at least"),
    (
        {"max_registrations_per_block": CHAIN.max_registrations_per_block_cap + 1},
        "max_registrations_per_block is capped",
    ),
    ({"max_registrations_per_block": 4096}, "max_registrations_per_block is capped"),
    (
        {"target_registrations_per_interval": CHAIN.max_target_registrations_cap + 1},
        "target_registrations_per_interval is capped",
    ),
    ({"target_registrations_per_interval": 65_535}, "target_registrations_per_interval is capped"),
]


@pytest.mark.parametrize(("values", "reason"), BREAKING)
def test_each_bound_refuses_its_owner_change(
    tmp_path: Path, values: dict[str, int], reason: str
) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2))
    s = Sender()
    assert d.block([s.tx(0, MsgRegisterSubnet(max_cost=10**15))])[1] == [0]
    before = d.query("/subnet/1/hyperparams").value
    _, codes = d.block([s.tx(0, hyper(**values))])
    assert codes == [InvalidHyperparams.code]
    assert reason in d.last_response().tx_results[0].log
    assert d.query("/subnet/1/hyperparams").value == before
    d.close()


def test_values_at_the_bounds_are_accepted(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2))
    s = Sender()
    d.block([s.tx(0, MsgRegisterSubnet(max_cost=10**15))])
    at_caps = {
        "max_allowed_uids": CHAIN.max_uids_cap,
        "max_allowed_validators": CHAIN.max_weights_per_epoch // CHAIN.max_uids_cap,
        "tempo": CHAIN.min_tempo,
        "min_burn": CHAIN.min_burn_floor,
        "max_registrations_per_block": CHAIN.max_registrations_per_block_cap,
        "target_registrations_per_interval": CHAIN.max_target_registrations_cap,
    }
    assert d.block([s.tx(0, hyper(**at_caps))])[1] == [0]
    d.block([])  # in force from the next block
    hp = json.loads(d.query("/subnet/1/hyperparams").value)
    assert {k: hp[k] for k in at_caps} == at_caps
    d.close()


def test_a_lowered_uid_limit_keeps_the_epoch_within_max_weights_per_epoch(
    tmp_path: Path,
) -> None:
    """An owner lowers max_allowed_uids and raises max_allowed_validators to the product cap
    (256 x 64) while registrations later in the same block (they meet the old limits) fill the
    subnet past the new uid limit. The limit is raised to the neurons there are (the next-block
    rule) and the validators are lowered so the pair stays within max_weights_per_epoch;
    before, the pair ended at 266 x 64 = 17,024 > 16,384 weight entries an epoch may read."""
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(267))
    s = Sender()
    assert d.block([s.tx(0, MsgRegisterSubnet(max_cost=10**15))])[1] == [0]
    per_block = CHAIN.max_registrations_per_block_cap
    wide = hyper(
        max_allowed_uids=300,
        max_allowed_validators=32,
        max_registrations_per_block=per_block,
        target_registrations_per_interval=CHAIN.max_target_registrations_cap,
        adjustment_interval=1,
    )
    assert d.block([s.tx(0, wide)])[1] == [0]
    for first in range(1, 251, per_block):
        accounts = range(first, min(first + per_block, 251))
        _, codes = d.block([s.tx(i, MsgRegisterNeuron(1, 10**15)) for i in accounts])
        assert codes == [0] * len(accounts)
    narrow = hyper(max_allowed_uids=256, max_allowed_validators=64)  # 16,384: at the cap
    late = [s.tx(i, MsgRegisterNeuron(1, 10**15)) for i in range(251, 251 + per_block)]
    _, codes = d.block([s.tx(0, narrow), *late])
    assert codes == [0] * (1 + per_block)  # the registrations meet the old limits
    assert json.loads(d.query("/subnet/1").value)["n"] == 266
    hp = json.loads(d.query("/subnet/1/hyperparams").value)
    assert hp["max_allowed_uids"] == 266
    assert hp["max_allowed_validators"] == CHAIN.max_weights_per_epoch // 266 == 61
    d.close()


def test_the_default_tempo_floor_allows_short_test_subnets() -> None:
    assert CHAIN.min_tempo <= 10


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"max_uids_cap": 4097}, "max_uids_cap must be in"),
        ({"max_uids_cap": 0}, "max_uids_cap must be in"),
        ({"max_validators_cap": 2000}, "max_validators_cap must be in"),
        ({"min_tempo": 0}, "min_tempo must be in"),
        ({"min_burn_floor": 0}, "min_burn_floor must be at least"),
        ({"min_lock_cost": 0}, "min_lock_cost must be at least"),
        ({"max_weights_per_epoch": 0}, "max_weights_per_epoch must be at least"),
        ({"max_registrations_per_block_cap": 0}, "max_registrations_per_block_cap must be in"),
        ({"max_registrations_per_block_cap": 4097}, "max_registrations_per_block_cap must be in"),
        ({"max_target_registrations_cap": 0}, "max_target_registrations_cap must be in"),
        ({"max_target_registrations_cap": 65_536}, "max_target_registrations_cap must be in"),
        ({"max_uids_cap": 100}, "default hyperparameters"),  # a new subnet's 256 uids
        ({"min_tempo": 400}, "default hyperparameters"),  # the default tempo is 360
        ({"min_burn_floor": 10**18}, "default hyperparameters"),
    ],
)
def test_genesis_refuses_bad_bounds(params: dict[str, int], reason: str) -> None:
    state = genesis_app_state(2)
    state["subnets"] = {"params": params}
    with pytest.raises(InvalidGenesis, match=reason):
        parse_app_state(state)


def test_genesis_refuses_a_subnet_past_the_bounds() -> None:
    from abci_app.state.keys import HYPERPARAMS, netuid_bytes

    wide = Hyperparams(max_allowed_uids=4096, max_allowed_validators=8)
    wide.validate()  # within the absolute ranges: only the chain's caps refuse it
    state = genesis_app_state(2)
    state["subnets"] = {"records": [[(HYPERPARAMS + netuid_bytes(1)).hex(), wide.encode().hex()]]}
    with pytest.raises(InvalidGenesis, match=r"subnets.records\[0\].*max_allowed_uids is capped"):
        parse_app_state(state)
    with pytest.raises(InvalidHyperparams):
        wide.check_bounds(CHAIN)
