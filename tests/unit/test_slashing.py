"""Downtime and double-sign slashing, jail, tombstone and unjail, driven block by block."""

from __future__ import annotations

import json
from pathlib import Path

from chain_driver import Driver, genesis_app_state, signed
from harness import addr_of, seeded_key

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.address import to_bech32
from abci_app.modules.slashing.messages import MsgUnjail
from abci_app.modules.staking.messages import MsgCreateValidator, MsgDelegate, MsgUndelegate
from abci_app.modules.staking.state import consensus_address

SLASHING = {
    "signed_blocks_window": 10,
    "min_signed_per_window": 500_000_000,
    "downtime_jail_seconds": 60,
    "slash_fraction_downtime": 10_000_000,
    "slash_fraction_double_sign": 50_000_000,
}
B_KEY = bytes(seeded_key(9000).verify_key)
B_CONS = consensus_address(B_KEY)
B_OP = addr_of(seeded_key(0))
BOND = 4 * 10**12


def chain(tmp_path: Path) -> Driver:
    """Genesis validator A plus validator B (operator: test account 0) with 4,000 MDT."""
    d = Driver.open(tmp_path / "s.sqlite")
    state = genesis_app_state(3, 10**15, {"unbonding_blocks": 50})
    state["slashing"] = {"params": SLASHING}
    d.init_chain(state)
    create = MsgCreateValidator(B_KEY, BOND, "B", "", 10**8, 2 * 10**8, 10**7)
    assert d.block([signed(0, [create], 0)])[1] == [0]
    d.block([])
    return d


def q(d: Driver, path: str) -> dict:  # type: ignore[type-arg]
    res = d.query(path)
    assert res.code == 0, res.log
    return json.loads(res.value)  # type: ignore[no-any-return]


def updates(d: Driver) -> list[tuple[bytes, int]]:
    resp = d.last_response()
    assert resp is not None
    return [(u.pub_key.ed25519, u.power) for u in resp.validator_updates]


def test_downtime_slashes_jails_and_unjail_waits_for_the_jail_time(tmp_path: Path) -> None:
    d = chain(tmp_path)
    supply0 = int(q(d, "/supply")["total"]) - int(q(d, "/supply")["minted"])
    jailed_at = None
    for _ in range(20):
        d.block([], absent=frozenset({B_CONS}))
        if (B_KEY, 0) in updates(d):
            jailed_at = d.height
            break
    assert jailed_at is not None, "B was never jailed for downtime"
    v = q(d, f"/validator/{to_bech32(B_OP)}")
    assert v["jailed"] is True
    assert int(v["tokens"]) == BOND - BOND // 100  # 1% burned
    supply = q(d, "/supply")
    assert int(supply["total"]) - int(supply["minted"]) == supply0 - BOND // 100
    # too early: the block time has not passed jailed_until (blocks are 6 s apart here)
    _, codes = d.block([signed(0, [MsgUnjail()], 1)])
    assert codes == [117]
    for _ in range(10):
        d.block([])
    _, codes = d.block([signed(0, [MsgUnjail()], 2)])
    assert codes == [0]
    assert updates(d) == [(B_KEY, (BOND - BOND // 100) // 10**9)]
    _, codes = d.block([signed(0, [MsgUnjail()], 3)])
    assert codes == [116]  # not jailed any more
    d.close()


def test_a_validator_that_signs_is_never_slashed(tmp_path: Path) -> None:
    d = chain(tmp_path)
    for h in range(30):
        # misses 4 of every 10 blocks: under the 50% limit
        d.block([], absent=frozenset({B_CONS}) if h % 10 < 4 else frozenset())
    v = q(d, f"/validator/{to_bech32(B_OP)}")
    assert v["jailed"] is False and v["tokens"] == str(BOND)
    d.close()


def test_double_sign_slashes_unbonding_too_and_tombstones(tmp_path: Path) -> None:
    d = chain(tmp_path)
    delegator = to_bech32(addr_of(seeded_key(1)))
    d.block([signed(1, [MsgDelegate(B_OP, 10**12)], 0)])
    d.block([])
    infraction = d.height + 1
    power = int(q(d, f"/validator/{to_bech32(B_OP)}")["power"])  # its power at the infraction
    d.block([signed(1, [MsgUndelegate(B_OP, 10**11)], 1)])  # unbonding after the infraction
    before = q(d, f"/validator/{to_bech32(B_OP)}")
    evidence = abci.Misbehavior(
        type=abci.DUPLICATE_VOTE,
        validator=abci.Validator(address=B_CONS, power=power),
        height=infraction,
        total_voting_power=10,
    )
    resp = d.finalize([], misbehavior=[evidence])
    d.app.commit()
    d.height += 1
    tokens = int(before["tokens"])
    after = q(d, f"/validator/{to_bech32(B_OP)}")
    # 5% of its power at the infraction, of which the unbonding entry paid 5% of itself
    assert int(after["tokens"]) == tokens - (power * 10**9 * 5 // 100 - 10**11 * 5 // 100)
    assert after["jailed"] is True
    (entry,) = q(d, f"/unbonding/{delegator}")["unbonding"]  # type: ignore[misc]
    assert entry["amount"] == str(10**11 - 10**11 * 5 // 100)
    assert "tombstone" in [e.type for e in resp.events]
    assert (B_KEY, 0) in [(u.pub_key.ed25519, u.power) for u in resp.validator_updates]
    # a second piece of evidence changes nothing; unjail is refused for ever
    resp = d.finalize([signed(0, [MsgUnjail()], 1)], misbehavior=[evidence])
    d.app.commit()
    d.height += 1
    assert [r.code for r in resp.tx_results] == [118]
    assert q(d, f"/validator/{to_bech32(B_OP)}")["tokens"] == after["tokens"]
    d.close()


def test_double_sign_reaches_tokens_redelegated_after_the_infraction(tmp_path: Path) -> None:
    from chain_driver import VALIDATOR_OPERATOR

    from abci_app.modules.staking.messages import MsgRedelegate
    from abci_app.node import genesis_file

    d = chain(tmp_path)
    a_op = addr_of(VALIDATOR_OPERATOR)
    d.block([signed(1, [MsgDelegate(B_OP, 10**12)], 0)])
    d.block([signed(2, [MsgDelegate(B_OP, 10**12)], 0)])
    d.block([signed(2, [MsgRedelegate(B_OP, a_op, 10**12)], 1)])  # before the infraction ...
    d.block([])  # ... and in the power CometBFT had at it
    infraction = d.height + 1
    power = int(q(d, f"/validator/{to_bech32(B_OP)}")["power"])
    d.block([signed(1, [MsgRedelegate(B_OP, a_op, 10**12)], 1)])  # after: slashable
    mover, early = to_bech32(addr_of(seeded_key(1))), to_bech32(addr_of(seeded_key(2)))
    before = {
        a["validator"]: int(a["tokens"]) for a in q(d, f"/delegations/{mover}")["delegations"]
    }  # type: ignore[attr-defined]
    early_before = q(d, f"/delegations/{early}")["delegations"]
    a_before = int(q(d, f"/validator/{to_bech32(a_op)}")["tokens"])
    # the redelegation entries survive an export/import unchanged
    exported = genesis_file.export(d.app.db, {})
    assert len(exported["app_state"]["staking"]["redelegations"]) == 2
    other = Driver.open(tmp_path / "import.sqlite")
    assert other.init_chain(exported["app_state"]) == d.app.db.app_hash
    other.close()
    evidence = abci.Misbehavior(
        type=abci.DUPLICATE_VOTE,
        validator=abci.Validator(address=B_CONS, power=power),
        height=infraction,
        total_voting_power=10,
    )
    d.finalize([], misbehavior=[evidence])
    d.app.commit()
    d.height += 1
    after = {a["validator"]: int(a["tokens"]) for a in q(d, f"/delegations/{mover}")["delegations"]}  # type: ignore[attr-defined]
    cut = before[to_bech32(a_op)] - after[to_bech32(a_op)]
    assert cut == 10**12 * 5 // 100  # 5% of what was moved after the infraction
    assert int(q(d, f"/validator/{to_bech32(a_op)}")["tokens"]) == a_before - cut
    assert q(d, f"/delegations/{early}")["delegations"] == early_before  # moved before: untouched
    d.close()
