"""Economic rules of subnets an attacker cannot game (issue 14): commit-reveal, registration
prices and caps, emission nobody earned.

Each test replays one reported attack through the real message path and reads the outcome back
through queries and events; each failed on the code before the rules existed.
"""

from __future__ import annotations

import json
from pathlib import Path

from chain_driver import Driver, Sender, fee_of, genesis_app_state
from harness import addr_of, seeded_key

from abci_app.modules.bank.state import get_account
from abci_app.modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgCommitWeights,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgRemoveSubnetStake,
    MsgRevealWeights,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
    commit_hash,
)

MDT = 10**9
LOCK = 10**12
N = 30
BALANCE = 10**14  # 30 accounts stay under max_supply, so blocks mint
OWNER, VALIDATOR = 0, 1
SALT = b"sixteen byte salt"[:16]
ANY_PRICE = 10**15  # a max_cost that never binds


def addr(i: int) -> bytes:
    return addr_of(seeded_key(i))


def balance(d: Driver, i: int) -> int:
    acct = get_account(d.app.db, addr(i))
    return acct.balance if acct else 0


def q(d: Driver, path: str) -> object:
    res = d.query(path)
    assert res.code == 0, res.log
    return json.loads(res.value)


def chain(tmp_path: Path) -> tuple[Driver, Sender]:
    d = Driver.open(tmp_path / "c.sqlite")
    state = genesis_app_state(N, BALANCE)
    state["subnets"] = {"params": {"min_lock_cost": LOCK, "lock_reduction_interval": 10}}
    d.init_chain(state)
    return d, Sender()


def hyper(netuid: int = 1, **values: int) -> MsgSetSubnetHyperparams:
    names = tuple(sorted(values))
    return MsgSetSubnetHyperparams(netuid, names, tuple(values[k] for k in names))


def subnet_with(d: Driver, s: Sender, **values: int) -> None:
    """Account 0 registers subnet 1 (block 1) and sets ``values`` (block 2)."""
    assert d.block([s.tx(OWNER, MsgRegisterSubnet(max_cost=LOCK))])[1] == [0]
    assert d.block([s.tx(OWNER, hyper(**values))])[1] == [0]


def register(d: Driver, s: Sender, i: int) -> int:
    """Account ``i`` registers on subnet 1 in a block of its own; returns its uid."""
    assert d.block([s.tx(i, MsgRegisterNeuron(1, max_cost=ANY_PRICE))])[1] == [0]
    uid = next(n["uid"] for n in q(d, "/subnet/1/metagraph")["neurons"] if n["hotkey"] == _b32(i))  # type: ignore[index]
    return int(uid)


def stake_for_permit(d: Driver, s: Sender) -> None:
    """The validator stakes on its own hotkey in a block of its own. The next epoch restarts
    its stake floor at that stake (Yuma weighs the lowest stake since the previous epoch) and
    the one after grants it the validator permit weights need (issue 13): with tempo 9, stake
    added in blocks 3..8 gives a permit from block 18 on."""
    stake = MsgAddSubnetStake(1, addr(VALIDATOR), 1_000 * MDT)
    assert d.block([s.tx(VALIDATOR, stake)])[1] == [0]


def _b32(i: int) -> str:
    from abci_app.address import to_bech32

    return to_bech32(addr(i))


def until(d: Driver, height: int) -> None:
    """Empty blocks until ``height`` is the last committed one."""
    while d.height < height:
        d.block([])


def epoch_event(d: Driver) -> dict[str, str]:
    resp = d.last_response()
    assert resp is not None
    (ev,) = [e for e in resp.events if e.type == "subnet_epoch"]
    return {a.key: a.value for a in ev.attributes}


# --- commit-reveal --------------------------------------------------------------------------
def test_a_reveal_does_not_pay_a_uid_that_changed_hands_after_the_commit(tmp_path: Path) -> None:
    """subtensor PR 1789 (commit-reveal weight inheritance): a revealed weight counts only for
    uids registered before the commit, so sniping a committed-to uid by pruning earns nothing."""
    d, s = chain(tmp_path)
    subnet_with(
        d,
        s,
        tempo=9,
        weights_rate_limit=0,
        max_allowed_uids=3,
        max_allowed_validators=3,
        immunity_period=2,
    )
    assert register(d, s, 3) == 0  # a miner, block 3
    assert register(d, s, VALIDATOR) == 1  # block 4
    assert register(d, s, 2) == 2  # another miner, block 5
    stake_for_permit(d, s)  # block 6
    until(d, 18)  # the epoch grants the validator permit weights need (issue 13)
    uids, weights = (0, 2), (65_535, 65_535)
    digest = commit_hash(addr(VALIDATOR), 1, uids, weights, SALT, 0)
    assert d.block([s.tx(VALIDATOR, MsgCommitWeights(1, digest))])[1] == [0]  # block 19
    attacker = 4
    assert register(d, s, attacker) == 0  # block 20: prunes the oldest, uid 0, and takes it
    until(d, 28)
    _, codes = d.block([s.tx(VALIDATOR, MsgRevealWeights(1, uids, weights, SALT, 0))])
    assert codes == [0]  # block 29, the reveal window
    until(d, 38)  # the epoch that uses the revealed weights
    meta = q(d, "/subnet/1/metagraph")["neurons"]  # type: ignore[index]
    assert meta[0]["hotkey"] == _b32(attacker)
    assert meta[0]["incentive"] == 0 and meta[0]["emission"] == "0"
    assert meta[2]["incentive"] == 65_535  # the honest miner, registered before the commit


def test_a_commit_keeps_the_reveal_window_it_was_given(tmp_path: Path) -> None:
    """subtensor keeps each commit's epoch (``WeightCommits``: commit_epoch, commit_block), so an
    owner changing the tempo moves no pending commit: raising it does not open the reveal early
    and lowering it does not expire an honest commit."""
    d, s = chain(tmp_path)
    subnet_with(d, s, tempo=9, weights_rate_limit=0)
    register(d, s, VALIDATOR)
    stake_for_permit(d, s)  # block 4; the epoch at block 18 grants the permit
    until(d, 19)
    uids, weights = (0,), (1,)
    digest = commit_hash(addr(VALIDATOR), 1, uids, weights, SALT, 0)
    assert d.block([s.tx(VALIDATOR, MsgCommitWeights(1, digest))])[1] == [0]  # block 20
    tx = d.last_response().tx_results[0]  # type: ignore[union-attr]
    (ev,) = [e for e in tx.events if e.type == "commit_weights"]
    window = {a.key: int(a.value) for a in ev.attributes if a.key.startswith("reveal_")}
    assert window == {"reveal_from": 29, "reveal_until": 38}
    assert d.block([s.tx(OWNER, hyper(tempo=65_535))])[1] == [0]  # block 21
    reveal = MsgRevealWeights(1, uids, weights, SALT, 0)
    assert d.block([s.tx(VALIDATOR, reveal)])[1] == [141]  # block 22: still too early
    until(d, 28)
    assert d.block([s.tx(VALIDATOR, reveal)])[1] == [0]  # block 29: its window
    assert q(d, "/subnet/1/weights/0")["weights"] == [[0, 1]]  # type: ignore[index]


def test_lowering_the_tempo_does_not_expire_an_honest_commit(tmp_path: Path) -> None:
    d, s = chain(tmp_path)
    subnet_with(d, s, tempo=9, weights_rate_limit=0)
    register(d, s, VALIDATOR)
    stake_for_permit(d, s)  # block 4
    until(d, 18)  # the epoch grants the permit
    assert d.block([s.tx(OWNER, hyper(tempo=99))])[1] == [0]  # block 19: epochs end 98, 198
    uids, weights = (0,), (7,)
    digest = commit_hash(addr(VALIDATOR), 1, uids, weights, SALT, 0)
    assert d.block([s.tx(VALIDATOR, MsgCommitWeights(1, digest))])[1] == [0]  # block 20
    assert d.block([s.tx(OWNER, hyper(tempo=10))])[1] == [0]  # epochs now every 11 blocks
    until(d, 98)
    assert d.block([s.tx(VALIDATOR, MsgRevealWeights(1, uids, weights, SALT, 0))])[1] == [0]
    meta = q(d, "/subnet/1/metagraph")["neurons"]  # type: ignore[index]
    assert meta[0]["missed_reveals"] == 0


def test_a_second_commit_does_not_replace_a_pending_one(tmp_path: Path) -> None:
    """A commit while the last one is unrevealed and its window still open is refused (the
    validator reveals first); the first commit stays revealable."""
    d, s = chain(tmp_path)
    subnet_with(d, s, tempo=9, weights_rate_limit=0)
    register(d, s, VALIDATOR)
    stake_for_permit(d, s)  # block 4
    until(d, 18)  # the epoch grants the permit
    first = commit_hash(addr(VALIDATOR), 1, (0,), (1,), SALT, 0)
    second = commit_hash(addr(VALIDATOR), 1, (0,), (2,), SALT, 0)
    _, codes = d.block(
        [s.tx(VALIDATOR, MsgCommitWeights(1, first)), s.tx(VALIDATOR, MsgCommitWeights(1, second))]
    )
    assert codes == [0, 152]  # CommitPending (block 19)
    until(d, 28)
    assert d.block([s.tx(VALIDATOR, MsgRevealWeights(1, (0,), (1,), SALT, 0))])[1] == [0]
    # revealed: the next commit is accepted
    assert d.block([s.tx(VALIDATOR, MsgCommitWeights(1, second))])[1] == [0]


def test_salts_shorter_than_16_bytes_are_refused(tmp_path: Path) -> None:
    """A short salt lets anyone brute-force the committed weights from the hash: reveals need
    at least 16 bytes (the CLI and the neuron loop use 32 random bytes)."""
    d, s = chain(tmp_path)
    subnet_with(d, s, tempo=9, weights_rate_limit=0)
    register(d, s, VALIDATOR)
    for salt in (b"", SALT[:15]):
        tx = s.tx(VALIDATOR, MsgRevealWeights(1, (0,), (1,), salt, 0))
        assert d.check(tx).code == 9  # InvalidMessage: refused before the mempool
        s.nonces[VALIDATOR] -= 1  # never executed
    assert d.check(s.tx(VALIDATOR, MsgRevealWeights(1, (0,), (1,), SALT, 0))).code == 140


# --- registration ---------------------------------------------------------------------------
def test_register_subnet_never_costs_more_than_its_max_cost(tmp_path: Path) -> None:
    """subtensor ``register_limit`` (``limit_price``): a registration fails cleanly when the
    price is above what the sender agreed to pay; the second subnet of a block costs double."""
    d, s = chain(tmp_path)
    before = BALANCE  # (nothing committed yet)
    second = s.tx(2, MsgRegisterSubnet(max_cost=LOCK))
    _, codes = d.block([s.tx(1, MsgRegisterSubnet(max_cost=LOCK)), second])
    assert codes == [0, 150]  # PriceAboveMax
    assert balance(d, 2) == before - fee_of(second)  # the fee only
    assert [x["netuid"] for x in q(d, "/subnets")] == [1]  # type: ignore[attr-defined]
    assert d.check(s.tx(2, MsgRegisterSubnet())).code == 9  # a max_cost must be given
    s.nonces[2] -= 1


def test_a_burn_raised_by_the_owner_applies_from_the_next_block(tmp_path: Path) -> None:
    """Price changes take effect from the next block, so no registrant in the same block pays
    a price it could not have seen."""
    d, s = chain(tmp_path)
    subnet_with(d, s, tempo=99)
    old = int(q(d, "/subnet/1")["burn"])  # type: ignore[index]
    before = balance(d, 3)
    registration = s.tx(3, MsgRegisterNeuron(1, max_cost=old))
    _, codes = d.block([s.tx(OWNER, hyper(min_burn=10 * MDT)), registration])
    assert codes == [0, 0]
    assert balance(d, 3) == before - fee_of(registration) - old
    assert int(q(d, "/subnet/1")["burn"]) == 10 * MDT  # type: ignore[index]
    _, codes = d.block(
        [s.tx(4, MsgRegisterNeuron(1, max_cost=old)), s.tx(5, MsgRegisterNeuron(1, 10 * MDT))]
    )
    assert codes == [150, 0]


def test_registrations_are_capped_per_block_and_per_interval(tmp_path: Path) -> None:
    """subtensor ``MaxRegistrationsPerBlock`` and ``TargetRegistrationsPerInterval`` x 3: one
    block cannot replace a whole subnet."""
    d, s = chain(tmp_path)
    subnet_with(
        d,
        s,
        tempo=99,
        max_allowed_uids=8,
        max_allowed_validators=8,
        immunity_period=0,
        adjustment_interval=40,
        target_registrations_per_interval=4,  # at most 12 per interval
    )
    for i in range(2, 10):  # fill the subnet, one per block (blocks 3..10)
        register(d, s, i)
    _, codes = d.block([s.tx(i, MsgRegisterNeuron(1, max_cost=ANY_PRICE)) for i in range(10, 18)])
    assert codes == [0] + [151] * 7  # RegistrationLimitReached: one per block
    hotkeys = {n["hotkey"] for n in q(d, "/subnet/1/metagraph")["neurons"]}  # type: ignore[index]
    assert len(hotkeys & {_b32(i) for i in range(2, 10)}) == 7  # one neuron replaced, not 8
    for i in range(11, 14):  # 12 registrations in this interval, then none until the next
        register(d, s, i)
    _, codes = d.block([s.tx(20, MsgRegisterNeuron(1, max_cost=ANY_PRICE))])
    assert codes == [151]
    until(d, 42)  # the interval that began at block 2 ended with block 42
    _, codes = d.block([s.tx(20, MsgRegisterNeuron(1, max_cost=ANY_PRICE))])
    assert codes == [0]


# --- emission -------------------------------------------------------------------------------
def test_emission_nobody_earned_is_recycled_not_paid_to_the_owner(tmp_path: Path) -> None:
    """An idle subnet (stake, no weights) pays nothing to its owner: what no miner or validator
    earned is recycled (burned; it can be minted again under the cap), as subtensor recycles
    emission no one is owed."""
    d, s = chain(tmp_path)
    subnet_with(d, s, tempo=9, commit_reveal=0)
    register(d, s, VALIDATOR)
    d.block([s.tx(OWNER, MsgAddSubnetStake(1, addr(VALIDATOR), 10_000 * MDT))])
    owner0 = balance(d, OWNER)
    burned0 = int(q(d, "/supply")["burned"]["recycled"])  # type: ignore[index]
    until(d, 8)
    ev = epoch_event(d)
    assert int(ev["emission"]) > 0
    assert ev["owner"] == "0" and ev["miners"] == "0" and ev["validators"] == "0"
    assert ev["recycled"] == ev["emission"]
    assert balance(d, OWNER) == owner0
    assert int(q(d, "/supply")["burned"]["recycled"]) == burned0 + int(ev["emission"])  # type: ignore[index]


def test_epoch_rounding_dust_goes_to_the_community_pool(tmp_path: Path) -> None:
    d, s = chain(tmp_path)
    subnet_with(d, s, tempo=9, commit_reveal=0, weights_rate_limit=0)
    for i in (VALIDATOR, 2, 3, 4):
        register(d, s, i)
    d.block([s.tx(VALIDATOR, MsgAddSubnetStake(1, addr(VALIDATOR), 7_777 * MDT + 1))])
    until(d, 18)  # the epoch grants the validator permit weights need
    d.block([s.tx(VALIDATOR, MsgSetWeights(1, (1, 2, 3), (1, 3, 7)))])
    until(d, 28)

    def pool() -> int:
        (acct,) = [a for a in q(d, "/module_accounts") if a["name"] == "community_pool"]  # type: ignore[attr-defined]
        return int(acct["balance"])

    until(d, 37)
    pool0 = pool()
    d.block([])  # block 38: the epoch
    ev = epoch_event(d)
    paid = sum(int(ev[k]) for k in ("owner", "miners", "validators", "recycled", "dust"))
    assert paid == int(ev["emission"])
    assert int(ev["miners"]) > 0 and int(ev["validators"]) > 0 and int(ev["owner"]) > 0
    (rewards,) = [e for e in d.last_response().events if e.type == "rewards"]  # type: ignore[union-attr]
    allocation_dust = int({a.key: a.value for a in rewards.attributes}["community_pool"])
    assert pool() - pool0 == int(ev["dust"]) + allocation_dust


def test_stake_added_for_an_epoch_block_captures_nothing(tmp_path: Path) -> None:
    """subtensor PR 737 (protect from fast stake/unstake): Yuma weighs a hotkey by the lowest
    stake it held since the previous epoch. Before, 50,000 MDT staked in the epoch block itself
    (and removed in the next) made the attacker the whole consensus: its miner took all the
    incentive and its validator all the dividends of the tempo's emission, that the honest
    validator's stake had drawn to the subnet (the attacker's validator holds a permit through
    a small stake of its own). Removing the stake after one epoch and adding it back for the
    next does not work either; stake that stays through a whole tempo counts."""
    d, s = chain(tmp_path)
    subnet_with(d, s, tempo=9, commit_reveal=0, weights_rate_limit=0)  # epochs end 8, 18, 28..
    honest_v, honest_m, evil_v, evil_m = 1, 2, 5, 6
    for i in (honest_v, honest_m, evil_v, evil_m):  # uids 0..3, blocks 3..6
        register(d, s, i)
    dust = 1 * MDT  # the attacker's own stake: enough for a validator permit, no consensus
    d.block(
        [
            s.tx(honest_v, MsgAddSubnetStake(1, addr(honest_v), 1_000 * MDT)),
            s.tx(evil_v, MsgAddSubnetStake(1, addr(evil_v), dust)),
        ]
    )  # block 7
    until(d, 18)  # both validators hold permits from the epoch at 18 (issue 13)
    _, codes = d.block(
        [
            s.tx(honest_v, MsgSetWeights(1, (1,), (65_535,))),
            s.tx(evil_v, MsgSetWeights(1, (3,), (65_535,))),
        ]
    )  # block 19
    assert codes == [0, 0]
    whale = 50_000 * MDT

    def miners_paid() -> tuple[int, int]:
        meta = q(d, "/subnet/1/metagraph")["neurons"]  # type: ignore[index]
        return int(meta[1]["emission"]), int(meta[3]["emission"])

    until(d, 28)
    honest, evil = miners_paid()
    assert honest > 0 and evil == 0  # the honest validator's stake is the consensus
    until(d, 37)
    d.block([s.tx(evil_v, MsgAddSubnetStake(1, addr(evil_v), whale))])  # block 38: the epoch
    honest, evil = miners_paid()
    assert honest > 0 and evil == 0
    assert q(d, "/subnet/1/metagraph")["neurons"][2]["epoch_stake"] == str(whale + dust)  # type: ignore[index]
    d.block([s.tx(evil_v, MsgRemoveSubnetStake(1, addr(evil_v), whale))])  # block 39: away...
    until(d, 47)
    d.block([s.tx(evil_v, MsgAddSubnetStake(1, addr(evil_v), whale))])  # ...and back for 48
    honest, evil = miners_paid()
    assert honest > 0 and evil == 0
    until(d, 58)  # the whale's stake stayed from epoch 48 to 58: it is consensus now
    honest, evil = miners_paid()
    assert honest == 0 and evil > 0


def test_an_owner_change_applies_from_the_next_block(tmp_path: Path) -> None:
    """The issue's rule for prices (a registrant pays the burn it could see), for every
    hyperparameter: an owner's change in a block leaves that block's txs on the terms they
    were signed against. Before, a tempo raised to 65,535 ahead of a validator's commit in the
    same block gave the commit a reveal window ~65,000 blocks away (and code 152 for any new
    commit until then: the validator locked out); a weights_version raised ahead of a reveal
    made the reveal fail (144) and the commit expire; caps raised ahead of a block of
    registrations let them replace a whole subnet in one block."""
    d, s = chain(tmp_path)
    subnet_with(d, s, tempo=9, weights_rate_limit=0, max_allowed_uids=8, max_allowed_validators=8)
    register(d, s, VALIDATOR)  # uid 0, block 3
    stake_for_permit(d, s)  # block 4
    until(d, 18)  # the validator permit
    digest = commit_hash(addr(VALIDATOR), 1, (0,), (1,), SALT, 0)
    _, codes = d.block(
        [s.tx(OWNER, hyper(tempo=65_535)), s.tx(VALIDATOR, MsgCommitWeights(1, digest))]
    )
    assert codes == [0, 0]  # block 19
    (commit,) = [e for e in d.last_response().tx_results[1].events if e.type == "commit_weights"]  # type: ignore[union-attr]
    window = {a.key: int(a.value) for a in commit.attributes if a.key.startswith("reveal_")}
    assert window == {"reveal_from": 29, "reveal_until": 38}  # tempo 9's, as signed
    assert q(d, "/subnet/1/hyperparams")["tempo"] == 65_535  # type: ignore[index]
    until(d, 28)
    reveal = MsgRevealWeights(1, (0,), (1,), SALT, 0)
    _, codes = d.block([s.tx(OWNER, hyper(weights_version=1)), s.tx(VALIDATOR, reveal)])
    assert codes == [0, 0]  # block 29: revealed with the version it committed
    assert q(d, "/subnet/1/weights/0")["weights"] == [[0, 1]]  # type: ignore[index]
    _, codes = d.block(
        [s.tx(OWNER, hyper(max_registrations_per_block=8))]
        + [s.tx(i, MsgRegisterNeuron(1, max_cost=ANY_PRICE)) for i in range(10, 17)]
    )
    assert codes == [0, 0] + [151] * 6  # the block's cap is still 1
    _, codes = d.block([s.tx(i, MsgRegisterNeuron(1, max_cost=ANY_PRICE)) for i in range(11, 14)])
    assert codes == [0, 0, 0]  # from the next block on, the owner's cap


def test_a_lowered_uid_limit_never_falls_below_the_blocks_registrations(tmp_path: Path) -> None:
    """max_allowed_uids may be lowered to the neurons registered; a registration later in the
    same block meets the old limit, so the new one is raised to the neurons there are."""
    d, s = chain(tmp_path)
    subnet_with(d, s, tempo=99, max_allowed_uids=4, max_allowed_validators=1)
    register(d, s, VALIDATOR)  # n = 1
    _, codes = d.block(
        [s.tx(OWNER, hyper(max_allowed_uids=1)), s.tx(2, MsgRegisterNeuron(1, ANY_PRICE))]
    )
    assert codes == [0, 0]
    assert q(d, "/subnet/1/hyperparams")["max_allowed_uids"] == 2  # type: ignore[index]
    assert q(d, "/subnet/1")["n"] == 2  # type: ignore[index]
