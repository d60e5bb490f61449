"""Whole-state invariants. Cheap enough for every block of a test or a debug node
(``MODERNTENSOR_CHECK_INVARIANTS=1``), too slow for a large production state.

* supply = sum of every account balance (module accounts included: fee collector, bonded pool,
  unbonding pool), so minted tokens never vanish and none appear;
* bonded pool = sum of validator tokens; unbonding pool = sum of unbonding entries;
* the distribution pool covers every commission and pending delegation reward;
* each validator's delegator_shares = sum of its delegations' shares;
* the set CometBFT has (last powers) is exactly the active set computed from the records:
  at most max_validators, no jailed validator, power = tokens // power_reduction;
* subnets: the stake pool = every hotkey's stake = every staker's part, per hotkey and per
  subnet; the emission pool = the subnets' pending emission; uids 0..n-1 exist and the hotkey
  index points at them.
"""

from __future__ import annotations

from .modules.bank.state import Account, get_account, get_supply
from .modules.distribution.rewards import pending_rewards
from .modules.distribution.state import DISTRIBUTION_POOL, all_commissions
from .modules.staking.state import (
    BONDED_POOL,
    UNBONDING_POOL,
    active_set,
    all_delegations,
    all_unbondings,
    all_validators,
    get_params,
    last_powers,
)
from .modules.subnets.state import (
    SUBNET_EMISSION_POOL,
    SUBNET_STAKE_POOL,
    all_hotkey_stakes,
    all_stake_entries,
    all_subnets,
    neurons,
    uid_of,
)
from .state.keys import ACCOUNT
from .state.overlay import KVReader


def check_invariants(state: KVReader) -> list[str]:
    """Every broken invariant, described; an empty list when all hold."""
    problems = []
    balances = {k[len(ACCOUNT) :]: Account.decode(v).balance for k, v in state.iter_prefix(ACCOUNT)}
    supply = get_supply(state)
    if sum(balances.values()) != supply:
        problems.append(f"supply {supply} != sum of balances {sum(balances.values())}")
    validators = all_validators(state)
    bonded = (get_account(state, BONDED_POOL) or Account()).balance
    if bonded != sum(v.tokens for v in validators):
        problems.append(
            f"bonded pool {bonded} != validator tokens {sum(v.tokens for v in validators)}"
        )
    unbonding = (get_account(state, UNBONDING_POOL) or Account()).balance
    entries = sum(e.amount for e in all_unbondings(state))
    if unbonding != entries:
        problems.append(f"unbonding pool {unbonding} != unbonding entries {entries}")
    shares: dict[bytes, int] = {}
    for _, cons, s in all_delegations(state):
        shares[cons] = shares.get(cons, 0) + s
    for v in validators:
        if shares.get(v.cons_address, 0) != v.delegator_shares:
            problems.append(
                f"validator {v.moniker}: shares {v.delegator_shares} != "
                f"delegations {shares.get(v.cons_address, 0)}"
            )
    pool = (get_account(state, DISTRIBUTION_POOL) or Account()).balance
    owed = sum(c for _, c in all_commissions(state))
    owed += sum(pending_rewards(state, d, c) for d, c, _ in all_delegations(state))
    if pool < owed:
        problems.append(f"distribution pool {pool} < rewards owed {owed}")
    params = get_params(state)
    expected = {v.cons_address: p for v, p in active_set(validators, params)}
    actual = last_powers(state)
    if expected and actual != expected:
        problems.append("the validator set CometBFT has differs from the active set")
    if len(actual) > params.max_validators:
        problems.append(f"{len(actual)} validators > max_validators {params.max_validators}")
    jailed = {v.cons_address for v in validators if v.jailed}
    if expected and jailed & set(actual):  # (with no candidate at all the old set is kept)
        problems.append("a jailed validator has voting power")
    problems += _subnet_problems(state)
    return problems


def _subnet_problems(state: KVReader) -> list[str]:
    problems = []
    hotkeys = {(n, h): a for n, h, a in all_hotkey_stakes(state)}
    parts: dict[tuple[int, bytes], int] = {}
    for _, n, h, a in all_stake_entries(state):
        parts[(n, h)] = parts.get((n, h), 0) + a
    if parts != hotkeys:
        problems.append("subnet hotkey stakes differ from the sum of their stakers' parts")
    pool = (get_account(state, SUBNET_STAKE_POOL) or Account()).balance
    if pool != sum(hotkeys.values()):
        problems.append(f"subnet stake pool {pool} != subnet stakes {sum(hotkeys.values())}")
    subnets = all_subnets(state)
    pending = sum(s.pending_emission for s in subnets)
    pool = (get_account(state, SUBNET_EMISSION_POOL) or Account()).balance
    if pool != pending:
        problems.append(f"subnet emission pool {pool} != pending emission {pending}")
    for s in subnets:
        staked = sum(a for (n, _), a in hotkeys.items() if n == s.netuid)
        if staked != s.total_stake:
            problems.append(f"subnet {s.netuid}: total_stake {s.total_stake} != stakes {staked}")
        nodes = neurons(state, s.netuid)
        if [n.uid for n in nodes] != list(range(s.n)):
            problems.append(f"subnet {s.netuid}: uids are not 0..{s.n - 1}")
        if any(uid_of(state, s.netuid, n.hotkey) != n.uid for n in nodes):
            problems.append(f"subnet {s.netuid}: the hotkey index disagrees with the neurons")
    return problems
