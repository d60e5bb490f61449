"""Genesis tooling: gen_tx rules, file checks, example files, and export -> import round trip."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from chain_driver import (
    VALIDATOR_CONSENSUS,
    VALIDATOR_OPERATOR,
    Driver,
    genesis_app_state,
    transfer,
)
from harness import CHAIN_ID, REPO, addr_of, seeded_key

from abci_app.address import module_address, to_bech32
from abci_app.errors import InvalidGenesis
from abci_app.genesis import parse_app_state
from abci_app.modules.staking.genesis import make_gentx
from abci_app.node import genesis_file
from abci_app.state.store import Store

POOL = to_bech32(module_address("bonded_pool"))


def base() -> dict[str, Any]:
    return genesis_app_state(2)


def broken(mutate: Any) -> dict[str, Any]:
    state = copy.deepcopy(base())
    mutate(state)
    return state


def _set(path: list[Any], value: Any) -> Any:
    def f(state: dict[str, Any]) -> None:
        target = state
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value

    return f


OTHER_KEY = bytes(seeded_key(3000).verify_key)
EXPORTED_VAL = {
    "operator": to_bech32(addr_of(seeded_key(0))),
    "pub_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "tokens": "5000000000",
    "moniker": "x",
}


def _with_pool() -> Any:
    """A consistent bonded validator, plus an unbonding entry the unbonding pool lacks."""

    def f(state: dict[str, Any]) -> None:
        op = EXPORTED_VAL["operator"]
        state["staking"] = {
            "validators": [EXPORTED_VAL],
            "delegations": [{"delegator": op, "validator": op, "shares": "5000000000"}],
            "unbonding": [
                {"delegator": op, "validator": op, "completion_height": 9, "amount": "5"}
            ],
        }
        state["accounts"].append({"address": POOL, "balance": "5000000000"})

    return f


BAD: list[tuple[str, Any, str]] = [
    (
        "gen_tx signed for another chain",
        _set(
            ["gen_txs", 0],
            make_gentx(VALIDATOR_OPERATOR, OTHER_KEY, 10**12, "v", "other").to_dict(),
        ),
        "signature does not verify",
    ),
    (
        "gen_tx altered after signing",
        _set(["gen_txs", 0, "self_bond"], "1000000000001"),
        "signature does not verify",
    ),
    (
        "gen_tx operator key mismatch",
        _set(["gen_txs", 0, "operator_pub_key"], bytes(seeded_key(5).verify_key).hex()),
        "does not belong to",
    ),
    ("gen_tx unknown field", _set(["gen_txs", 0, "extra"], 1), "unknown field(s) in gen_txs[0]"),
    ("gen_tx bad consensus key", _set(["gen_txs", 0, "pub_key"], "AAAA"), "32-byte ed25519"),
    ("gen_tx operator without account", lambda s: s["accounts"].pop(), "is not a genesis account"),
    ("gen_tx bond over balance", _set(["accounts", 2, "balance"], "10"), "exceeds the operator"),
    (
        "gen_tx below min self bond",
        _set(["staking"], {"params": {"min_self_bond": 10**13}}),
        "min_self_bond",
    ),
    (
        "duplicate consensus key",
        lambda s: s["gen_txs"].append(
            make_gentx(
                seeded_key(0), bytes(VALIDATOR_CONSENSUS.verify_key), 10**12, "dup", CHAIN_ID
            ).to_dict()
        ),
        "used twice",
    ),
    (
        "unknown staking param",
        _set(["staking"], {"params": {"nope": 1}}),
        "unknown field(s) in staking.params",
    ),
    ("zero max_validators", _set(["staking"], {"params": {"max_validators": 0}}), "max_validators"),
    (
        "bonded validator without delegations",
        _set(["staking"], {"validators": [EXPORTED_VAL]}),
        "delegations hold 0 shares",
    ),
    (
        "bonded validator without pool balance",
        _set(
            ["staking"],
            {
                "validators": [EXPORTED_VAL],
                "delegations": [
                    {
                        "delegator": EXPORTED_VAL["operator"],
                        "validator": EXPORTED_VAL["operator"],
                        "shares": "5000000000",
                    }
                ],
            },
        ),
        "bonded pool",
    ),
    (
        "delegation to unknown validator",
        _set(["staking"], {"delegations": [{"delegator": POOL, "validator": POOL, "shares": "1"}]}),
        "unknown validator",
    ),
    ("unbonding pool mismatch", _with_pool(), "unbonding pool"),
]


@pytest.mark.parametrize(("name", "mutate", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_validator_genesis_is_rejected(name: str, mutate: Any, message: str) -> None:
    with pytest.raises(InvalidGenesis) as e:
        parse_app_state(broken(mutate), CHAIN_ID)
    assert message in e.value.log(), e.value.log()


def test_genesis_file_checks() -> None:
    g = genesis_file.new_genesis(CHAIN_ID)
    with pytest.raises(InvalidGenesis, match="no validators"):
        genesis_file.validate(g)
    with pytest.raises(InvalidGenesis, match="1-50 characters"):
        genesis_file.new_genesis("x" * 51)
    alice = to_bech32(addr_of(seeded_key(0)))
    genesis_file.add_account(g, alice, 1)
    with pytest.raises(InvalidGenesis, match="already in the genesis"):
        genesis_file.add_account(g, alice, 1)
    with pytest.raises(InvalidGenesis, match="bonded pool"):
        genesis_file.add_account(g, POOL, 1)
    assert [a["address"] for a in g["app_state"]["accounts"]] == [alice]  # nothing half-added
    bad_time = {**genesis_file.new_genesis(CHAIN_ID), "genesis_time": "yesterday"}
    with pytest.raises(InvalidGenesis, match="RFC 3339"):
        genesis_file.validate(bad_time)
    missing = genesis_file.new_genesis(CHAIN_ID)
    del missing["consensus_params"]
    with pytest.raises(InvalidGenesis, match="missing consensus_params"):
        genesis_file.validate(missing)


def test_a_genesis_time_before_1970_or_an_initial_height_past_int64_is_refused(
    tmp_path: Path,
) -> None:
    """Block 1's time is the genesis time, and block times are kept as unsigned unix seconds:
    on main a genesis_time of 1969 passed `genesis validate` and InitChain, and every node
    stopped at block 1 (FinalizeBlock: OverflowError, "can't convert negative int to
    unsigned"); an initial_height of 30 digits or 2^63 - 1 passed too (CometBFT's heights are
    int64). Both are refused in one line, by the file check and by InitChain."""
    from abci_app._proto.tendermint.abci import types_pb2 as abci
    from abci_app.app import FatalAppError

    ok = {**genesis_file.new_genesis(CHAIN_ID), "app_state": genesis_app_state(2)}
    genesis_file.validate({**ok, "genesis_time": "1970-01-01T00:00:00Z"})
    genesis_file.validate({**ok, "initial_height": str(2**62)})
    for key, value, error in (
        ("genesis_time", "1969-12-31T23:59:59Z", "1970-01-01"),
        ("genesis_time", "1969-12-31T23:59:59.999999Z", "1970-01-01"),
        ("genesis_time", "0001-01-01T00:00:00Z", "1970-01-01"),
        ("initial_height", str(2**63 - 1), "initial_height"),
        ("initial_height", "9" * 30, "initial_height"),
        ("initial_height", "٣", "initial_height"),
    ):
        with pytest.raises(InvalidGenesis, match=error) as e:
            genesis_file.validate({**ok, key: value})
        assert "\n" not in str(e.value), (key, value)
    for seconds, height in ((-1, 1), (0, 2**63 - 1)):
        d = Driver.open(tmp_path / f"s{seconds}{height}.sqlite")
        req = abci.RequestInitChain(
            chain_id=CHAIN_ID,
            app_state_bytes=json.dumps(genesis_app_state(2)).encode(),
            initial_height=height,
        )
        req.time.seconds = seconds
        with pytest.raises(FatalAppError, match=r"genesis_time|initial_height"):
            d.app.init_chain(req)
        assert d.app.genesis is None
        d.close()


@pytest.mark.parametrize("path", sorted((REPO / "genesis").glob("*.json")), ids=lambda p: p.name)
def test_example_genesis_files_validate(path: Path) -> None:
    state = genesis_file.validate(genesis_file.load(path))
    assert state.gen_txs or state.validators


def test_export_then_import_gives_the_same_app_hash(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "a.sqlite")
    d.init_chain(genesis_app_state(4))
    for n in range(5):
        d.block([transfer(0, 1, 100 + n, n), transfer(2, 3, 7, n)])
    d.block([transfer(3, 0, 10**18, 0)])  # a failed message: fee and nonce charged
    exported = genesis_file.export(d.app.db, {})
    assert exported["initial_height"] == "7"
    h_before = d.app.db.app_hash
    h7, _ = d.block([transfer(1, 0, 5, 5)])
    dump_after = dict(Store.iter_prefix(d.app.db.store, b""))
    d.close()

    fresh = Driver.open(tmp_path / "b.sqlite")
    assert fresh.init_chain(exported["app_state"]) == h_before
    # block 7 on the imported chain gives the same state as on the original
    fresh.height = 6
    assert fresh.block([transfer(1, 0, 5, 5)])[0] == h7
    assert dict(Store.iter_prefix(fresh.app.db.store, b"")) == dump_after
    nonces = {a["address"]: a.get("nonce", 0) for a in exported["app_state"]["accounts"]}
    assert nonces[to_bech32(addr_of(seeded_key(0)))] == 5
    json.dumps(exported)  # serialisable as a file
    fresh.close()
