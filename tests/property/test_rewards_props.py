"""Block rewards: the halving schedule, exact splits, and no token created or lost."""

from __future__ import annotations

import json
import random
from pathlib import Path

from chain_driver import VALIDATOR_OPERATOR, Driver, fee_of, genesis_app_state, signed
from harness import addr_of, seeded_key

from abci_app.address import to_bech32
from abci_app.modules.bank.module_accounts import COMMUNITY_POOL
from abci_app.modules.distribution.messages import MsgWithdrawRewards
from abci_app.modules.distribution.params import DistributionParams
from abci_app.modules.distribution.rewards import block_reward
from abci_app.modules.distribution.state import DISTRIBUTION_POOL
from abci_app.modules.staking.messages import MsgCreateValidator, MsgDelegate, MsgUndelegate
from abci_app.modules.staking.state import consensus_address

REWARD = 240_000_000


def q(d: Driver, path: str) -> dict:  # type: ignore[type-arg]
    res = d.query(path)
    assert res.code == 0, res.log
    return json.loads(res.value)  # type: ignore[no-any-return]


def test_halving_schedule_and_cap() -> None:
    p = DistributionParams()
    assert block_reward(p, 1) == REWARD
    assert block_reward(p, 8_759_999) == REWARD
    assert block_reward(p, 8_760_000) == REWARD // 2
    assert block_reward(p, 3 * 8_760_000) == REWARD // 8
    assert block_reward(p, 10**12) == 0
    # total emission converges below the 21M cap: 0.24 MDT * 8.76M blocks * 2 = 4.2M MDT
    total = sum(block_reward(p, h * p.halving_interval) * p.halving_interval for h in range(64))
    assert total <= 2 * REWARD * p.halving_interval <= p.max_supply


def test_single_validator_gets_everything_minus_nothing(tmp_path: Path) -> None:
    """One validator signs and proposes: all minted tokens and fees go to it, split exactly
    into commission (10%) and its self-delegation's reward."""
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(1))
    op = to_bech32(addr_of(VALIDATOR_OPERATOR))
    d.block([])  # block 1: nobody signed block 0 yet; its reward goes to the community pool
    for _ in range(4):
        d.block([])
    r = q(d, f"/rewards/{op}")
    paid_blocks = 4  # blocks 2..5 each paid the signers of the block before
    assert int(r["commission"]) == paid_blocks * (REWARD * 10**8 // 10**9)
    delegator_share = int(r["rewards"][0]["amount"])
    assert (
        paid_blocks * REWARD * 9 // 10 - paid_blocks
        <= delegator_share
        <= paid_blocks * REWARD * 9 // 10
    )
    pool = q(d, f"/account/{to_bech32(DISTRIBUTION_POOL)}")["balance"]
    owed = q(d, f"/validator_rewards/{op}")
    # the pool holds exactly what is owed: the commission and the outstanding rewards, which are
    # the delegator's share plus the floor dust of its payout
    assert int(pool) == int(owed["commission"]) + int(owed["outstanding"])
    assert int(owed["outstanding"]) == paid_blocks * REWARD * 9 // 10
    community = q(d, f"/account/{to_bech32(COMMUNITY_POOL)}")["balance"]
    assert int(community) == REWARD  # block 1's reward: nobody had signed block 0
    bal = int(q(d, f"/account/{op}")["balance"])
    withdraw = signed(1000, [MsgWithdrawRewards(b"")], 0)
    _, codes = d.block([withdraw])
    assert codes == [0]
    after = int(q(d, f"/account/{op}")["balance"])
    # the withdrawal block first paid one more block's reward, then the tx took everything
    assert after == bal - fee_of(withdraw) + int(r["total"]) + REWARD
    assert q(d, f"/rewards/{op}")["commission"] == "0"
    d.close()


def test_rewards_follow_power_and_never_create_tokens(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    params = {"unbonding_blocks": 3, "max_validators": 5}
    d.init_chain(genesis_app_state(6, 10**15, params))
    genesis_supply = 6 * 10**15 + 10**13  # six test accounts and the validator operator
    rng = random.Random(5)
    nonces = [0] * 6
    for i in range(3):  # three more validators with different stakes and commissions
        msg = MsgCreateValidator(
            bytes(seeded_key(8000 + i).verify_key),
            (i + 1) * 10**12,
            f"r{i}",
            "",
            (i * 5) * 10**7,
            5 * 10**8,
            10**7,
        )
        d.block([signed(i, [msg], nonces[i])])
        nonces[i] += 1
    ops = [addr_of(seeded_key(i)) for i in range(3)] + [addr_of(VALIDATOR_OPERATOR)]
    missing = consensus_address(bytes(seeded_key(8000).verify_key))
    for h in range(40):
        txs = []
        for _ in range(rng.randrange(0, 4)):
            i = rng.randrange(3, 6)
            kind = rng.random()
            if kind < 0.5:
                m = MsgDelegate(rng.choice(ops), rng.randrange(1, 10**12))
            elif kind < 0.7:
                m = MsgUndelegate(rng.choice(ops), rng.randrange(1, 10**11))
            else:
                m = MsgWithdrawRewards(b"")
            txs.append(signed(i, [m], nonces[i]))
            nonces[i] += 1
        # every third block one validator missed the vote: it earns nothing for that block
        d.block(txs, absent=frozenset({missing}) if h % 3 == 0 else frozenset())
        minted = int(q(d, "/params/distribution")["minted"])
        assert int(q(d, "/supply")["total"]) == genesis_supply + minted
    assert minted == (40 + 3) * REWARD  # every block minted, none lost
    d.close()


def test_minting_stops_at_the_max_supply(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    state = genesis_app_state(1, 21_000_000 * 10**9 - 10**13 - REWARD - 5)
    d.init_chain(state)
    for _ in range(3):
        d.block([])
    assert q(d, "/supply")["total"] == str(21_000_000 * 10**9)
    assert q(d, "/params/distribution")["minted"] == str(REWARD + 5)
    d.close()
