"""Staking's invariants."""

from __future__ import annotations

from ...address import to_bech32
from ...state.overlay import KVReader
from ..bank.module_accounts import MODULE_ACCOUNTS
from ..bank.state import Account, get_account
from .state import (
    BONDED_POOL,
    UNBONDING_POOL,
    active_set,
    all_delegations,
    all_redelegations,
    all_unbondings,
    all_validators,
    get_params,
    index_problems,
    indexed_active_set,
    last_powers,
    pair_index_problems,
)


def invariants(state: KVReader) -> list[str]:
    """* bonded pool = sum of validator tokens; unbonding pool = sum of unbonding entries;
    * each validator's delegator_shares = the sum of its delegations' shares, and a validator
      with tokens has shares (tokens nobody owns would go 1:1 to the next delegator);
    * no module account operates a validator, delegates, unbonds or redelegates (its rewards
      and released tokens would land in a pool and break that pool's invariant: Cosmos x/bank
      ``BlockedAddrs``);
    * the set CometBFT has (last powers) is exactly the active set computed from the records
      (unless no candidate is left, when the old set is kept): at most max_validators, no
      jailed validator, power = tokens // power_reduction;
    * the rank index holds exactly one entry per validator record, at the place its record
      gives, so the active set read from the power index is the one the records give;
    * the (delegator, validator) indexes hold exactly the unbonding and redelegation entries.
    """
    problems = []
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
        if v.tokens and not v.delegator_shares:
            problems.append(f"validator {v.moniker}: {v.tokens} tokens and no share owns them")
    roles = [(v.operator, "operates a validator") for v in validators]
    roles += [(d, "delegates") for d, _, _ in all_delegations(state)]
    roles += [(e.delegator, "unbonds") for e in all_unbondings(state)]
    roles += [(r.delegator, "redelegates") for r in all_redelegations(state)]
    for who, what in roles:
        if who in MODULE_ACCOUNTS:
            problems.append(f"the module account {to_bech32(who)} {what}")
    params = get_params(state)
    ranked = active_set(validators, params)
    expected = {v.cons_address: p for v, p in ranked}
    problems += index_problems(state)
    problems += pair_index_problems(state)
    if [(v.cons_address, p) for v, p in indexed_active_set(state, params)] != [
        (v.cons_address, p) for v, p in ranked
    ]:
        problems.append("the active set read from the power index differs from the records'")
    actual = last_powers(state)
    if expected and actual != expected:
        problems.append("the validator set CometBFT has differs from the active set")
    if len(actual) > params.max_validators:
        problems.append(f"{len(actual)} validators > max_validators {params.max_validators}")
    jailed = {v.cons_address for v in validators if v.jailed}
    if expected and jailed & set(actual):  # (with no candidate at all the old set is kept)
        problems.append("a jailed validator has voting power")
    return problems
