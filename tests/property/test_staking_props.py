"""Random staking histories keep every invariant, agree on two instances, and move exact tokens."""

from __future__ import annotations

import json
import random
from pathlib import Path

from chain_driver import VALIDATOR_OPERATOR, Driver, fee_of, genesis_app_state, signed
from harness import addr_of, seeded_key

from abci_app.address import to_bech32
from abci_app.invariants import check_invariants
from abci_app.modules.staking.messages import (
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from abci_app.tx import Message

N = 8
UNBONDING_BLOCKS = 3
PARAMS = {
    "unbonding_blocks": UNBONDING_BLOCKS,
    "max_validators": 4,
    "min_self_bond": 10**9,
    "power_reduction": 10**9,
}


def random_msg(rng: random.Random, i: int) -> Message:
    ops = [addr_of(seeded_key(j)) for j in range(N)] + [addr_of(VALIDATOR_OPERATOR)]
    kind = rng.randrange(6)
    amount = rng.choice([1, 10**6, 10**9, 3 * 10**9 + 7, 10**12, 10**16])
    if kind == 0:
        return MsgCreateValidator(
            bytes(seeded_key(5000 + rng.randrange(12)).verify_key),
            rng.choice([10**8, 10**9, 5 * 10**12]),
            f"v{i}",
            "",
            10**8,
            2 * 10**8,
            10**7,
        )
    if kind == 1:
        return MsgDelegate(rng.choice(ops), amount)
    if kind == 2:
        return MsgUndelegate(rng.choice(ops), amount)
    if kind == 3:
        return MsgRedelegate(rng.choice(ops), rng.choice(ops), amount)
    if kind == 4:
        return MsgEditValidator("", "", True, rng.choice([9 * 10**7, 10**8, 2 * 10**8, 10**9]))
    return MsgUndelegate(rng.choice(ops), 5 * 10**12)


def history(seed: int, blocks: int) -> list[list[bytes]]:
    rng = random.Random(seed)
    nonces = [0] * N
    out = []
    for _ in range(blocks):
        txs = []
        for _ in range(rng.randrange(0, 8)):
            i = rng.randrange(N)
            txs.append(signed(i, [random_msg(rng, i)], nonces[i]))
            nonces[i] += 1
        out.append(txs)
    return out


def test_random_staking_histories_keep_invariants_and_agree(tmp_path: Path) -> None:
    for seed in range(4):
        a = Driver.open(tmp_path / f"a{seed}.sqlite")
        b = Driver.open(tmp_path / f"b{seed}.sqlite")
        state = genesis_app_state(N, 10**16, PARAMS)
        assert a.init_chain(state) == b.init_chain(state)
        codes: set[int] = set()
        updates = 0
        for txs in history(seed, 30):
            ha, ca = a.block(txs)  # the driver's app checks invariants after every block
            hb, cb = b.block(txs)
            assert (ha, ca) == (hb, cb)
            codes.update(ca)
            updates += len(a.last_response().validator_updates)  # type: ignore[union-attr]
            assert check_invariants(a.app.db) == []
        assert 0 in codes and len(codes) > 3, codes  # successes and several kinds of refusal
        assert updates > 0
        a.close()
        b.close()


def _q(d: Driver, path: str) -> object:
    res = d.query(path)
    assert res.code == 0, res.log
    return json.loads(res.value)


def test_undelegation_is_exact_and_released_after_the_unbonding_period(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2, 10**16, PARAMS))
    me = to_bech32(addr_of(seeded_key(0)))
    val = addr_of(VALIDATOR_OPERATOR)
    _, codes = d.block([signed(0, [MsgDelegate(val, 7 * 10**9 + 3)], 0)])
    assert codes == [0]
    bal0 = int(_q(d, f"/account/{me}")["balance"])  # type: ignore[index]
    undelegate = signed(0, [MsgUndelegate(val, 7 * 10**9 + 3)], 1)
    _, codes = d.block([undelegate])
    assert codes == [0]
    events = d.last_response().tx_results[0].events  # type: ignore[union-attr]
    (claim,) = [e for e in events if e.type == "withdraw_rewards"]
    reward = int(next(a.value for a in claim.attributes if a.key == "amount"))
    assert reward > 0  # the delegation earned its share of one block's rewards
    bal1 = int(_q(d, f"/account/{me}")["balance"])  # type: ignore[index]
    assert bal1 == bal0 - fee_of(undelegate) + reward
    (entry,) = _q(d, f"/unbonding/{me}")["unbonding"]  # type: ignore[misc]
    assert entry["amount"] == str(7 * 10**9 + 3)
    assert entry["completion_height"] == d.height + UNBONDING_BLOCKS
    while d.height < entry["completion_height"] - 1:
        d.block([])
        assert int(_q(d, f"/account/{me}")["balance"]) == bal1  # type: ignore[index]
    d.block([])
    assert int(_q(d, f"/account/{me}")["balance"]) == bal1 + 7 * 10**9 + 3  # type: ignore[index]
    assert _q(d, f"/unbonding/{me}")["unbonding"] == []
    assert _q(d, f"/delegations/{me}")["delegations"] == []
    d.close()


def test_set_changes_are_diffs_and_a_validator_leaving_gets_power_zero(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2, 10**16, PARAMS))
    cons = bytes(seeded_key(7000).verify_key)
    create = MsgCreateValidator(cons, 5 * 10**9, "newbie", "", 10**8, 2 * 10**8, 10**7)
    d.block([signed(0, [create], 0)])
    ups = d.last_response().validator_updates  # type: ignore[union-attr]
    assert [(u.pub_key.ed25519, u.power) for u in ups] == [(cons, 5)]
    d.block([signed(1, [MsgDelegate(addr_of(seeded_key(0)), 10**9)], 0)])
    ups = d.last_response().validator_updates  # type: ignore[union-attr]
    assert [(u.pub_key.ed25519, u.power) for u in ups] == [(cons, 6)]
    d.block([])
    assert list(d.last_response().validator_updates) == []  # type: ignore[union-attr]
    d.block([signed(0, [MsgUndelegate(addr_of(seeded_key(0)), 5 * 10**9)], 1)])
    ups = d.last_response().validator_updates  # type: ignore[union-attr]
    # the operator's self-bond fell below the minimum: jailed, removed with power 0
    assert [(u.pub_key.ed25519, u.power) for u in ups] == [(cons, 0)]
    v = _q(d, f"/validator/{to_bech32(addr_of(seeded_key(0)))}")
    assert v["jailed"] is True and v["power"] == 0  # type: ignore[index]
    # the last validator leaving would empty the set: nothing is sent, CometBFT keeps it
    _, codes = d.block([signed(1000, [MsgUndelegate(addr_of(VALIDATOR_OPERATOR), 10**12)], 0)])
    assert codes == [0]
    resp = d.last_response()
    assert resp is not None and list(resp.validator_updates) == []
    assert "validator_set_kept" in [e.type for e in resp.events]
    d.close()


def test_commission_edits_are_bounded(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(1, 10**16, {**PARAMS, "commission_change_blocks": 1}))
    cons = bytes(seeded_key(7001).verify_key)
    d.block([signed(0, [MsgCreateValidator(cons, 10**9, "c", "", 10**8, 2 * 10**8, 10**7)], 0)])
    _, codes = d.block(
        [
            signed(0, [MsgEditValidator("", "", True, 10**8 + 3 * 10**7)], 1),  # +2 points: no
            signed(0, [MsgEditValidator("", "", True, 3 * 10**8)], 2),  # above max: no
            signed(0, [MsgEditValidator("", "", True, 10**8 + 10**7)], 3),  # +1 point: ok
            signed(0, [MsgEditValidator("renamed", "", False, 0)], 4),
        ]
    )
    assert codes == [110, 110, 0, 0]
    v = _q(d, f"/validator/{to_bech32(addr_of(seeded_key(0)))}")
    assert v["commission_rate"] == str(11 * 10**7) and v["moniker"] == "renamed"  # type: ignore[index]
    d.close()
