"""Economic rules of staking, slashing and distribution an attacker cannot game (issue 14).

Each test is one reported attack replayed through the real message path (signed txs into
FinalizeBlock, results read back through queries); every one of them failed on the code before
the rules existed. The rule each follows is named in the test's docstring.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chain_driver import VALIDATOR_CONSENSUS, Driver, Sender, genesis_app_state
from harness import CHAIN_ID, addr_of, seeded_key

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app._proto.tendermint.crypto import keys_pb2
from abci_app.address import module_address, to_bech32
from abci_app.app import Application, FatalAppError
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.distribution.messages import MsgWithdrawRewards
from abci_app.modules.staking.messages import (
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from abci_app.modules.staking.state import consensus_address
from abci_app.state.db import StateDB

MDT = 10**9
BOND = 4_000 * MDT
ONE_PERCENT = 10**7
# validators A, B, C: operators are test accounts 0, 1, 2
OPS = [addr_of(seeded_key(i)) for i in range(3)]
KEYS = [bytes(seeded_key(9000 + i).verify_key) for i in range(3)]
CONS = [consensus_address(k) for k in KEYS]
A, B, C = 0, 1, 2
DELEGATOR, LATE, SMALL = 5, 6, 7


def q(d: Driver, path: str) -> object:
    res = d.query(path)
    assert res.code == 0, res.log
    return json.loads(res.value)


def chain(
    tmp_path: Path,
    slashing: dict[str, int] | None = None,
    staking: dict[str, int] | None = None,
) -> tuple[Driver, Sender]:
    """Genesis validator val0 plus A, B and C (4,000 MDT each, commission 0 with a 1-point
    max change), created in block 1; two more blocks so every power has settled."""
    d = Driver.open(tmp_path / "s.sqlite")
    state = genesis_app_state(8, 10**15, {"unbonding_blocks": 50, **(staking or {})})
    if slashing:
        state["slashing"] = {"params": slashing}
    d.init_chain(state)
    s = Sender()
    create = [
        s.tx(i, MsgCreateValidator(KEYS[i], BOND, f"v{i}", "", 0, 10**9, ONE_PERCENT))
        for i in (A, B, C)
    ]
    assert d.block(create)[1] == [0, 0, 0]
    d.block([])
    d.block([])
    return d, s


def power(d: Driver, v: int) -> int:
    """The voting power CometBFT has for validator ``v`` (stable: no change in flight)."""
    return int(q(d, f"/validator/{to_bech32(OPS[v])}")["power"])  # type: ignore[index]


def tokens(d: Driver, v: int) -> int:
    return int(q(d, f"/validator/{to_bech32(OPS[v])}")["tokens"])  # type: ignore[index]


def holdings(d: Driver, i: int) -> int:
    """What account ``i`` has at stake: its delegations' worth plus its unbonding entries."""
    who = to_bech32(addr_of(seeded_key(i)))
    bonded = sum(int(x["tokens"]) for x in q(d, f"/delegations/{who}")["delegations"])  # type: ignore[attr-defined]
    leaving = sum(int(x["amount"]) for x in q(d, f"/unbonding/{who}")["unbonding"])  # type: ignore[attr-defined]
    return bonded + leaving


def double_sign(d: Driver, v: int, height: int, at_power: int, txs: list[bytes] | None = None):  # type: ignore[no-untyped-def]
    """A block carrying CometBFT's evidence that ``v`` double-signed at ``height``, when its
    voting power was ``at_power``."""
    evidence = abci.Misbehavior(
        type=abci.DUPLICATE_VOTE,
        validator=abci.Validator(address=CONS[v], power=at_power),
        height=height,
        total_voting_power=4 * at_power,
    )
    resp = d.finalize(txs or [], misbehavior=[evidence])
    d.app.commit()
    d.height += 1
    return resp


def test_redelegation_hops_do_not_escape_a_double_sign_slash(tmp_path: Path) -> None:
    """Cosmos x/staking ``BeginRedelegation``: a redelegation out of a validator the delegator's
    stake is still redelegating into is refused (``HasReceivingRedelegation``, "transitive
    redelegation"), so the stake the offender had at the infraction stays slashable."""
    d, s = chain(tmp_path)
    d.block([s.tx(DELEGATOR, MsgDelegate(OPS[A], 100 * MDT))])
    d.block([])
    d.block([])
    infraction, at_power = d.height, power(d, A)
    _, codes = d.block([s.tx(DELEGATOR, MsgRedelegate(OPS[A], OPS[B], 100 * MDT))])
    assert codes == [0]
    _, codes = d.block([s.tx(DELEGATOR, MsgRedelegate(OPS[B], OPS[C], 100 * MDT))])
    assert codes == [119]  # TransitiveRedelegation
    before_a = tokens(d, A)
    double_sign(d, A, infraction, at_power)
    assert holdings(d, DELEGATOR) == 95 * MDT  # 5% of what it had at stake at the infraction
    # the offender's own tokens pay the rest of 5% of its power at the infraction
    assert tokens(d, A) == before_a - (at_power * MDT * 5 // 100 - 5 * MDT)


def test_unbonding_from_the_destination_does_not_escape_the_slash(tmp_path: Path) -> None:
    """A slash reaches redelegated stake that moved on from the destination by unbonding (the
    "undelegation after redelegation" bypass Cosmos SDK v0.50 closed in ``SlashRedelegation``)."""
    d, s = chain(tmp_path)
    d.block([s.tx(DELEGATOR, MsgDelegate(OPS[A], 100 * MDT))])
    d.block([])
    d.block([])
    infraction, at_power = d.height, power(d, A)
    _, codes = d.block(
        [
            s.tx(DELEGATOR, MsgRedelegate(OPS[A], OPS[B], 100 * MDT)),
            s.tx(DELEGATOR, MsgUndelegate(OPS[B], 100 * MDT)),
        ]
    )
    assert codes == [0, 0]
    double_sign(d, A, infraction, at_power)
    who = to_bech32(addr_of(seeded_key(DELEGATOR)))
    assert q(d, f"/delegations/{who}")["delegations"] == []
    (entry,) = q(d, f"/unbonding/{who}")["unbonding"]  # type: ignore[misc]
    assert entry["amount"] == str(95 * MDT)


def test_double_sign_is_slashed_at_the_power_of_the_infraction(tmp_path: Path) -> None:
    """Cosmos x/staking ``Slash(consAddr, infractionHeight, power, slashFactor)``: the amount is
    slashFactor x the power at the infraction (CometBFT's Misbehavior carries it), so stake
    delegated after the double sign does not pay for it in full."""
    d, s = chain(tmp_path)
    infraction, at_power = d.height, power(d, B)
    assert at_power == BOND // MDT
    d.block([s.tx(LATE, MsgDelegate(OPS[B], BOND))])  # after the infraction: not its stake
    d.block([])
    resp = double_sign(d, B, infraction, at_power)
    burned = BOND * 5 // 100
    assert tokens(d, B) == 2 * BOND - burned
    (slash,) = [e for e in resp.events if e.type == "slash"]
    assert {a.key: a.value for a in slash.attributes}["amount"] == str(burned)
    assert holdings(d, LATE) == BOND - burned // 2  # shares the burn, not 5% of its own stake


def test_commission_jumps_in_one_tx_are_refused(tmp_path: Path) -> None:
    """Cosmos x/staking ``Commission.ValidateNewRate``: at most one change per
    ``commission_change_blocks`` (Cosmos: 24 h since ``UpdateTime``, which creation sets),
    an increase of at most ``max_change_rate``; 32 messages in one tx do not add up."""
    d, s = chain(tmp_path)
    edits = [MsgEditValidator("", "", True, (k + 1) * ONE_PERCENT) for k in range(32)]
    _, codes = d.block([s.tx(A, *edits)])
    assert codes != [0]
    assert q(d, f"/validator/{to_bech32(OPS[A])}")["commission_rate"] == "0"  # type: ignore[index]


def test_commission_changes_once_per_window_and_each_within_max_change(tmp_path: Path) -> None:
    d, s = chain(tmp_path, staking={"commission_change_blocks": 10})
    while d.height < 10:  # created at height 1: the first change is due at height 11
        _, codes = d.block([s.tx(A, MsgEditValidator("", "", True, ONE_PERCENT))])
        assert codes == [120]  # CommissionChangeTooSoon (the log says from which height)
    _, codes = d.block(
        [
            s.tx(A, MsgEditValidator("", "", True, ONE_PERCENT)),
            s.tx(A, MsgEditValidator("", "", True, 2 * ONE_PERCENT)),  # same window
            s.tx(A, MsgEditValidator("renamed", "", False, 0)),  # not a commission change
        ]
    )
    assert codes == [0, 120, 0]
    while d.height < 20:  # the next one at 21
        d.block([])
    _, codes = d.block(
        [
            s.tx(A, MsgEditValidator("", "", True, 3 * ONE_PERCENT)),  # +2 points > max change
            s.tx(A, MsgEditValidator("", "", True, 2 * ONE_PERCENT)),
        ]
    )
    assert codes == [110, 0]
    v = q(d, f"/validator/{to_bech32(OPS[A])}")
    assert v["commission_rate"] == str(2 * ONE_PERCENT) and v["moniker"] == "renamed"  # type: ignore[index]


MODULE_ACCOUNTS = (
    "bonded_pool",
    "unbonding_pool",
    "fee_collector",
    "distribution",
    "community_pool",
    "subnet_stake",
    "subnet_emission",
)


def test_module_accounts_never_receive_transfers(tmp_path: Path) -> None:
    """Cosmos x/bank ``BlockedAddrs``: module accounts are not valid recipients of a send
    (the tokens would either break the pool's invariant and halt every checking node, or be
    lost)."""
    d, s = chain(tmp_path)
    for name in MODULE_ACCOUNTS:
        target = to_bech32(module_address(name))
        before = q(d, f"/account/{target}")["balance"]  # type: ignore[index]
        tx = s.tx(3, MsgTransfer(to=module_address(name), amount=1))
        assert d.check(tx).code == 104  # ModuleAccountRecipient, refused before the mempool
        _, codes = d.block([tx])  # a proposer including it anyway: refused, fee charged
        assert codes == [104]
        if name not in ("distribution", "fee_collector", "community_pool"):  # these move per block
            assert q(d, f"/account/{target}")["balance"] == before  # type: ignore[index]


def test_module_accounts_are_listed_with_their_balances(tmp_path: Path) -> None:
    d, _ = chain(tmp_path)
    listed = q(d, "/module_accounts")
    assert [a["name"] for a in listed] == sorted(MODULE_ACCOUNTS)  # type: ignore[attr-defined]
    for a in listed:  # type: ignore[attr-defined]
        assert a["address"] == to_bech32(module_address(a["name"]))
        assert a["balance"] == q(d, f"/account/{a['address']}")["balance"]  # type: ignore[index]
    bonded = next(a for a in listed if a["name"] == "bonded_pool")  # type: ignore[attr-defined]
    assert int(bonded["balance"]) == 3 * BOND + 10**12  # A, B, C and val0


def test_a_slashed_delegation_is_closed_by_undelegating_what_the_query_shows(
    tmp_path: Path,
) -> None:
    """Cosmos x/staking ``ValidateUnbondAmount``: the shares of the amount asked, capped at the
    delegation; here shares left worth nothing go with it, so a delegation always closes."""
    d, s = chain(tmp_path)
    double_sign(d, B, d.height, power(d, B))  # 5% burned: a share is worth 0.95 base units
    who = to_bech32(addr_of(seeded_key(SMALL)))
    d.block([s.tx(SMALL, MsgDelegate(OPS[B], 20))])
    (shown,) = q(d, f"/delegations/{who}")["delegations"]  # type: ignore[misc]
    _, codes = d.block([s.tx(SMALL, MsgUndelegate(OPS[B], int(shown["tokens"])))])
    assert codes == [0]
    assert q(d, f"/delegations/{who}")["delegations"] == []


def test_a_fully_slashed_validator_sells_no_shares_and_its_delegators_can_leave(
    tmp_path: Path,
) -> None:
    """Cosmos x/staking ``Validator.InvalidExRate``: no delegation into a validator whose
    tokens are 0 while shares remain (its shares are worth nothing); ``--all`` closes a
    delegation even when it is worth 0."""
    d, s = chain(tmp_path, slashing={"slash_fraction_double_sign": 10**9})
    double_sign(d, B, d.height, power(d, B))
    assert tokens(d, B) == 0
    _, codes = d.block([s.tx(SMALL, MsgDelegate(OPS[B], 10 * MDT))])
    assert codes == [121]  # ValidatorHasNoTokens
    op = to_bech32(OPS[B])
    assert q(d, f"/delegations/{op}")["delegations"][0]["tokens"] == "0"  # type: ignore[index]
    _, codes = d.block([s.tx(B, MsgUndelegate(OPS[B], 0, all=True))])
    assert codes == [0]
    assert q(d, f"/delegations/{op}")["delegations"] == []
    assert q(d, f"/unbonding/{op}")["unbonding"] == []  # nothing to release
    # with every share gone, the validator is fresh again: shares sell 1:1
    _, codes = d.block([s.tx(SMALL, MsgDelegate(OPS[B], 10 * MDT))])
    assert codes == [0]
    assert holdings(d, SMALL) == 10 * MDT


def test_undelegate_all_closes_a_delegation(tmp_path: Path) -> None:
    d, s = chain(tmp_path)
    d.block([s.tx(SMALL, MsgDelegate(OPS[C], 7 * MDT + 3))])
    _, codes = d.block([s.tx(SMALL, MsgUndelegate(OPS[C], 0, all=True))])
    assert codes == [0]
    who = to_bech32(addr_of(seeded_key(SMALL)))
    assert q(d, f"/delegations/{who}")["delegations"] == []
    (entry,) = q(d, f"/unbonding/{who}")["unbonding"]  # type: ignore[misc]
    assert entry["amount"] == str(7 * MDT + 3)
    # all with an amount, or neither: refused before execution
    assert d.check(s.tx(SMALL, MsgUndelegate(OPS[C], 5, all=True))).code == 9
    s.nonces[SMALL] -= 1


def test_unbonding_and_redelegation_entries_are_bounded(tmp_path: Path) -> None:
    """Cosmos x/staking ``MaxEntries`` (7): a delegator cannot grow the lists a slash walks
    through without bound; entries of one block for one pair are one entry."""
    d, s = chain(tmp_path, staking={"max_entries": 2})
    d.block([s.tx(SMALL, MsgDelegate(OPS[A], 10 * MDT))])
    codes = [d.block([s.tx(SMALL, MsgUndelegate(OPS[A], MDT))])[1][0] for _ in range(3)]
    assert codes == [0, 0, 122]  # MaxEntriesReached
    _, codes = d.block(
        [s.tx(SMALL, MsgUndelegate(OPS[A], MDT)), s.tx(SMALL, MsgUndelegate(OPS[A], MDT))]
    )
    assert codes == [122, 122]
    codes = [
        d.block(
            [s.tx(SMALL, MsgRedelegate(OPS[A], OPS[B], MDT), MsgRedelegate(OPS[A], OPS[B], MDT))]
        )[1][0]
        for _ in range(3)
    ]
    assert codes == [0, 0, 122]
    who = to_bech32(addr_of(seeded_key(SMALL)))
    assert len(q(d, f"/unbonding/{who}")["unbonding"]) == 2  # type: ignore[arg-type]


def community_pool(d: Driver) -> int:
    (pool,) = [a for a in q(d, "/module_accounts") if a["name"] == "community_pool"]  # type: ignore[attr-defined]
    return int(pool["balance"])


def test_rewards_of_a_block_nobody_signed_go_to_the_community_pool(tmp_path: Path) -> None:
    """Cosmos x/distribution ``AllocateTokens``: what is not paid to the proposer and the
    voters goes to the community pool (a module account), so it always has an owner."""
    d, _ = chain(tmp_path)
    everyone = frozenset(CONS) | {consensus_address(bytes(VALIDATOR_CONSENSUS.verify_key))}
    pool0 = community_pool(d)
    d.block([], absent=everyone)  # the previous block's votes: nobody signed
    assert community_pool(d) == pool0 + 240_000_000  # the block reward, no fees


def test_every_base_unit_of_the_distribution_pool_is_owed(tmp_path: Path) -> None:
    """The distribution pool holds exactly the validators' commission and outstanding rewards
    (Cosmos ``ValidatorOutstandingRewards``); rounding dust of a validator whose delegators all
    left goes to the community pool."""
    d, s = chain(tmp_path)
    # odd stakes make every split round
    d.block([s.tx(DELEGATOR, MsgDelegate(OPS[A], 3 * MDT + 1)), s.tx(LATE, MsgDelegate(OPS[C], 7))])
    for _ in range(5):
        d.block([])

    def owed() -> int:
        total = 0
        for v in q(d, "/validators")["validators"]:  # type: ignore[attr-defined]
            r = q(d, f"/validator_rewards/{v['operator']}")
            total += int(r["outstanding"]) + int(r["commission"])  # type: ignore[index]
        return total

    (dist,) = [a for a in q(d, "/module_accounts") if a["name"] == "distribution"]  # type: ignore[attr-defined]
    assert int(dist["balance"]) == owed()
    # C's operator and delegator leave: C's remaining dust has no owner but the community
    d.block(
        [
            s.tx(C, MsgUndelegate(OPS[C], 0, all=True)),
            s.tx(LATE, MsgUndelegate(OPS[C], 0, all=True)),
        ]
    )
    r = q(d, f"/validator_rewards/{to_bech32(OPS[C])}")
    assert r["outstanding"] == "0"  # type: ignore[index]
    (dist,) = [a for a in q(d, "/module_accounts") if a["name"] == "distribution"]  # type: ignore[attr-defined]
    assert int(dist["balance"]) == owed()
    _, codes = d.block([s.tx(DELEGATOR, MsgWithdrawRewards(b""))])
    assert codes == [0]


def test_the_supply_accounts_for_every_burn(tmp_path: Path) -> None:
    """total supply = genesis supply + minted - burned, with each burn counted by reason."""
    d, _ = chain(tmp_path, slashing={"slash_fraction_double_sign": 10**8})
    double_sign(d, B, d.height, power(d, B))
    supply = q(d, "/supply")
    burned = supply["burned"]  # type: ignore[index]
    assert int(burned["slash"]) == BOND // 10
    total_burned = sum(int(v) for v in burned.values())
    genesis = 8 * 10**15 + 10**13  # the test accounts and val0's operator
    assert int(supply["total"]) == genesis + int(supply["minted"]) - total_burned  # type: ignore[index]


def _init(path: Path, validators: list[abci.ValidatorUpdate], with_gentx: bool = True) -> None:
    app = Application(StateDB(path), check_invariants=True)
    state = genesis_app_state(2)
    if not with_gentx:
        state["gen_txs"] = []
    try:
        app.init_chain(
            abci.RequestInitChain(
                chain_id=CHAIN_ID,
                app_state_bytes=json.dumps(state).encode(),
                initial_height=1,
                validators=validators,
            )
        )
    finally:
        app.db.close()


def _update(key: bytes, power: int) -> abci.ValidatorUpdate:
    return abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=key), power=power)


def test_genesis_validators_must_be_backed_by_stake(tmp_path: Path) -> None:
    """Cosmos baseapp ``InitChain``: the validators in CometBFT's genesis.json must be exactly the
    set the app computes from its staked genesis; otherwise the app could neither slash nor
    remove a validator CometBFT has."""
    stranger = bytes(seeded_key(4242).verify_key)
    with pytest.raises(FatalAppError, match="not backed by stake"):
        _init(tmp_path / "a.sqlite", [_update(stranger, 10)], with_gentx=False)
    with pytest.raises(FatalAppError, match="not backed by stake"):
        _init(tmp_path / "b.sqlite", [_update(stranger, 10)])
    val0 = bytes(VALIDATOR_CONSENSUS.verify_key)
    with pytest.raises(FatalAppError, match="not backed by stake"):
        _init(tmp_path / "c.sqlite", [_update(val0, 5)])  # right key, wrong power
    _init(tmp_path / "d.sqlite", [_update(val0, 1000)])  # the very set the gen_tx bonds: accepted
    _init(tmp_path / "e.sqlite", [])  # none: the app's set is used
