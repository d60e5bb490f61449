"""Genesis files that every parse rule accepted but that broke the books once the chain ran
(issue 14's review): InitChain now writes the genesis and refuses it unless every invariant
holds and no entry completes before the first block, and ``genesis validate`` runs the same
dry run. Each case was accepted before; the comment says what it let happen.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from chain_driver import Driver, Sender, genesis_app_state
from harness import CHAIN_ID, addr_of, seeded_key

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.address import module_address, to_bech32
from abci_app.app import FatalAppError
from abci_app.errors import InvalidGenesis
from abci_app.modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
)
from abci_app.node import genesis_file
from abci_app.state.keys import HOTKEY_STAKE, SUBNET

MDT = 10**9
OP = to_bech32(addr_of(seeded_key(3)))
BONDED = to_bech32(module_address("bonded_pool"))
UNBONDING = to_bech32(module_address("unbonding_pool"))
DISTRIBUTION = to_bech32(module_address("distribution"))
VALIDATOR = {
    "operator": OP,
    "pub_key": base64.b64encode(bytes(seeded_key(777).verify_key)).decode(),
    "tokens": str(1_000 * MDT),
    "moniker": "bonded",
}


def bonded(validator: dict[str, Any], **staking: Any) -> dict[str, Any]:
    """The test genesis (val0 by gen_tx) plus an already-bonded validator and its pool."""
    state = genesis_app_state(4)
    state["staking"] = {"validators": [validator], **staking}
    state["accounts"].append({"address": BONDED, "balance": validator["tokens"]})  # type: ignore[attr-defined]
    return state


def delegation(delegator: str, shares: int = 1_000 * MDT) -> dict[str, str]:
    return {"delegator": delegator, "validator": OP, "shares": str(shares)}


def unbonding(completion: int, amount: int = 5) -> dict[str, Any]:
    return {
        "delegator": OP,
        "validator": OP,
        "completion_height": completion,
        "amount": str(amount),
    }


def with_account(state: dict[str, Any], address: str, balance: int) -> dict[str, Any]:
    state["accounts"].append({"address": address, "balance": str(balance)})
    return state


CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        # 1 base unit delegated bought the 1,000 MDT no share owned; undelegated, it took them
        "tokens no share owns",
        bonded({**VALIDATOR, "delegator_shares": "0"}),
        "no share owns them",
    ),
    (
        # its rewards and, after unbonding, its tokens were paid into the bonded pool: every
        # node checking invariants stopped at the first block
        "a module account delegates",
        with_account(
            bonded(VALIDATOR, delegations=[delegation(BONDED)], unbonding=[unbonding(3)]),
            UNBONDING,
            5,
        ),
        f"the module account {BONDED} delegates",
    ),
    (
        # end-block releases entries completing at exactly its height: 5 base units locked
        "an unbonding entry completing before the first block",
        with_account(
            bonded(VALIDATOR, delegations=[delegation(OP)], unbonding=[unbonding(0)]),
            UNBONDING,
            5,
        ),
        "staking.unbonding[0] completes at height 0, before the first block 1",
    ),
    (
        # the delegation's pending rewards were negative: a withdrawal took from the pool
        "a reward start past the accumulator",
        {
            **bonded(VALIDATOR, delegations=[delegation(OP)]),
            "distribution": {
                "validators": [{"validator": OP, "accumulator": "0", "commission": "0"}],
                "delegations": [{"delegator": OP, "validator": OP, "start": str(10**30)}],
            },
        },
        "reward start past the accumulator",
    ),
]


def init(state: dict[str, Any], path: Path) -> None:
    d = Driver.open(path)
    try:
        d.init_chain(state)
    finally:
        d.close()


@pytest.mark.parametrize(("name", "state", "reason"), CASES, ids=[c[0] for c in CASES])
def test_init_chain_refuses_a_genesis_that_breaks_the_books(
    tmp_path: Path, name: str, state: dict[str, Any], reason: str
) -> None:
    with pytest.raises(FatalAppError) as e:
        init(copy.deepcopy(state), tmp_path / "s.sqlite")
    assert reason in str(e.value), str(e.value)
    assert "\n" not in str(e.value)  # one line for the operator
    file = {
        "genesis_time": "2026-01-01T00:00:00Z",
        "chain_id": CHAIN_ID,
        "consensus_params": genesis_file.DEFAULT_CONSENSUS_PARAMS,
        "app_state": state,
    }
    with pytest.raises(InvalidGenesis) as refused:  # `genesis validate` says the same
        genesis_file.validate(file)
    assert reason in refused.value.log()


def exported_subnet(tmp_path: Path) -> dict[str, Any]:
    """The app_state exported from a chain with a subnet, one neuron and stake on it."""
    d = Driver.open(tmp_path / "live.sqlite")
    state = genesis_app_state(4)
    state["subnets"] = {"params": {"min_lock_cost": MDT}}
    d.init_chain(state)
    s = Sender()
    assert d.block([s.tx(0, MsgRegisterSubnet(max_cost=MDT))])[1] == [0]
    assert d.block([s.tx(1, MsgRegisterNeuron(1, max_cost=MDT))])[1] == [0]
    assert d.block([s.tx(2, MsgAddSubnetStake(1, addr_of(seeded_key(1)), 7 * MDT))])[1] == [0]
    exported = genesis_file.export(d.app.db, {})["app_state"]
    d.close()
    return exported  # type: ignore[no-any-return]


def test_subnet_records_are_held_to_the_invariants(tmp_path: Path) -> None:
    """Exported subnet records are restored byte for byte; a hand-edited one that gives the
    subnet to a module account (its owner's cut was paid into that pool) or that makes the
    stake totals disagree with the stakers' parts (a staker could withdraw more than the
    pool holds for it) is refused, while the untouched export imports."""
    exported = exported_subnet(tmp_path)
    init(copy.deepcopy(exported), tmp_path / "ok.sqlite")  # the export itself is fine
    records = exported["subnets"]["records"]

    def edited(prefix: bytes, change: Any) -> dict[str, Any]:
        state = copy.deepcopy(exported)
        for rec in state["subnets"]["records"]:
            if bytes.fromhex(rec[0]).startswith(prefix):
                rec[1] = change(bytes.fromhex(rec[1])).hex()
        return state

    def owned_by_pool(raw: bytes) -> bytes:
        subnet = json.loads(raw)
        subnet["owner"] = module_address("distribution").hex()
        return json.dumps(subnet, sort_keys=True, separators=(",", ":")).encode()

    assert any(bytes.fromhex(k).startswith(SUBNET) for k, _ in records)
    with pytest.raises(FatalAppError, match=f"the module account {DISTRIBUTION} owns a subnet"):
        init(edited(SUBNET, owned_by_pool), tmp_path / "a.sqlite")
    more = edited(HOTKEY_STAKE, lambda raw: (int.from_bytes(raw, "big") + 1).to_bytes(8, "big"))
    pool = next(
        a for a in more["accounts"] if a["address"] == to_bech32(module_address("subnet_stake"))
    )
    pool["balance"] = str(int(pool["balance"]) + 1)  # the pool check alone is satisfied
    with pytest.raises(FatalAppError, match="differ from the sum of their stakers' parts"):
        init(more, tmp_path / "b.sqlite")


def test_init_chain_checks_entries_against_its_initial_height(tmp_path: Path) -> None:
    """The first block's height comes from CometBFT (genesis.json's initial_height)."""
    state = with_account(
        bonded(VALIDATOR, delegations=[delegation(OP)], unbonding=[unbonding(7)]), UNBONDING, 5
    )
    d = Driver.open(tmp_path / "h.sqlite")
    request = abci.RequestInitChain(
        chain_id=CHAIN_ID, app_state_bytes=json.dumps(state).encode(), initial_height=8
    )
    with pytest.raises(FatalAppError, match="completes at height 7, before the first block 8"):
        d.app.init_chain(request)
    d.close()
    init(state, tmp_path / "ok.sqlite")  # from height 1 on, the entry completes at block 7


def test_genesis_validate_prints_the_broken_rule_in_one_line(tmp_path: Path) -> None:
    """What a coordinator sees: `moderntensor genesis validate` exits 1 with the rule, one
    line, no traceback, before any node starts on the file."""
    from click.testing import CliRunner

    from abci_app.cli.main import cli

    path = tmp_path / "genesis.json"
    state = bonded({**VALIDATOR, "delegator_shares": "0"})
    doc = {
        "genesis_time": "2026-01-01T00:00:00Z",
        "chain_id": CHAIN_ID,
        "consensus_params": genesis_file.DEFAULT_CONSENSUS_PARAMS,
        "app_state": state,
    }
    path.write_text(json.dumps(doc))
    res = CliRunner().invoke(cli, ["genesis", "validate", str(path)])
    assert res.exit_code == 1, res.output
    assert "no share owns them" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1, res.output
