"""Genesis range checks against each number's encoding and CometBFT's limits (issue 13): one
failing example per rule. On main each of these was accepted (and later halted or corrupted the
chain: a nonce at U64_MAX overflowed its 8 bytes on the next tx, power_reduction 1 let the total
power pass CometBFT's maximum, unbonding_blocks near 2^64 overflowed the completion height) or
escaped InitChain as a non-genesis exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chain_driver import genesis_app_state

from abci_app.errors import InvalidGenesis
from abci_app.genesis import parse_app_state
from abci_app.modules.subnets.state import Subnet
from abci_app.state.keys import SUBNET, netuid_bytes


def with_(section: str, key: str, value: Any) -> dict[str, Any]:
    state = genesis_app_state(2)
    if section == "params":
        state["params"] = {key: value}
    else:
        state[section] = {"params": {key: value}}
    return state


def subnet_record(**fields: int) -> dict[str, Any]:
    state = genesis_app_state(2)
    sub = Subnet(1, b"\x01" * 20, 1, 0, 10**9)
    raw = json.loads(sub.encode())
    raw.update({k: v for k, v in fields.items()})
    state["subnets"] = {
        "records": [[(SUBNET + netuid_bytes(1)).hex(), json.dumps(raw).encode().hex()]]
    }
    return state


CASES: list[tuple[str, Any, str]] = [
    ("nonce at 2^63 - 1", "nonce", "nonce must be below"),
    ("balance of 21 digits", "balance", "more than 20 digits"),
    ("power_reduction 15", with_("staking", "power_reduction", 15), "at least 16"),
    ("max_validators 10,001", with_("staking", "max_validators", 10_001), "MaxVotesCount"),
    ("unbonding_blocks 2^32 + 1", with_("staking", "unbonding_blocks", 2**32 + 1), r"\[1, 2\^32\]"),
    ("signed_blocks_window 0", with_("slashing", "signed_blocks_window", 0), r"\[1, 2\^32\]"),
    (
        "downtime_jail_seconds 2^40",
        with_("slashing", "downtime_jail_seconds", 2**40),
        r"\[1, 2\^32\]",
    ),
    ("halving_interval 2^33", with_("distribution", "halving_interval", 2**33), r"\[1, 2\^32\]"),
    (
        "lock_reduction_interval 2^33",
        with_("subnets", "lock_reduction_interval", 2**33),
        r"\[1, 2\^32\]",
    ),
    ("max_tx_bytes 2^30", with_("params", "max_tx_bytes", 2**30), "largest block"),
    ("max_msgs_per_tx 1,001", with_("params", "max_msgs_per_tx", 1_001), "max_msgs_per_tx"),
    ("memo over tx", with_("params", "max_memo_bytes", 10**6), "max_memo_bytes"),
    ("param of 25 digits", with_("params", "min_fee", "1" * 25), "params.min_fee"),
    ("param above u64", with_("params", "min_fee", 2**64), "params.min_fee"),
    ("subnet burn above u64", subnet_record(burn=2**64), "subnet.burn"),
    ("subnet stake negative", subnet_record(total_stake=-1), "subnet.total_stake"),
    ("subnet height at 2^63", subnet_record(registered_at=2**63), "subnet.registered_at"),
]


@pytest.mark.parametrize(("name", "state", "reason"), CASES, ids=[c[0] for c in CASES])
def test_each_range_rule_refuses_its_example(name: str, state: Any, reason: str) -> None:
    if state == "nonce":
        state = genesis_app_state(2)
        state["accounts"][0]["nonce"] = 2**63 - 1  # type: ignore[index]
    elif state == "balance":
        state = genesis_app_state(2)
        state["accounts"][0]["balance"] = "1" * 21  # type: ignore[index]
    with pytest.raises(InvalidGenesis, match=reason):
        parse_app_state(state)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"params": {"min_fee": ' + b"9" * 5000 + b"}}",  # past Python's 4,300 digits
        b"[" * 100_000 + b"]" * 100_000,  # nesting past the recursion limit
        b'{"accounts": "\xff\xfe"}',  # not UTF-8
    ],
)
def test_any_unparsable_app_state_is_invalid_genesis(raw: bytes) -> None:
    with pytest.raises(InvalidGenesis, match="not valid JSON"):
        parse_app_state(raw)


def test_values_at_the_limits_are_accepted() -> None:
    state = genesis_app_state(2)
    state["accounts"][0]["nonce"] = 2**63 - 2  # type: ignore[index]
    state["staking"] = {"params": {"power_reduction": 16, "max_validators": 10_000}}
    parse_app_state(state)
