"""Subnets' invariants."""

from __future__ import annotations

from ...address import to_bech32
from ...codec import decode_u64
from ...errors import InvalidHyperparams
from ...state.keys import STAKE_COUNT
from ...state.overlay import KVReader
from ..bank.module_accounts import MODULE_ACCOUNTS
from ..bank.state import Account, get_account
from .state import (
    SUBNET_EMISSION_POOL,
    SUBNET_STAKE_POOL,
    all_hotkey_stakes,
    all_stake_entries,
    all_stake_floors,
    all_subnets,
    any_next_hyperparams,
    get_hyperparams,
    get_params,
    neurons,
    position_counts_from_records,
    uid_of,
)


def invariants(state: KVReader) -> list[str]:
    """* the stake pool = every hotkey's stake = the sum of its coldkeys' parts, per hotkey and
      per subnet (``total_stake``);
    * the emission pool = the subnets' pending emission;
    * each subnet's uids are 0..n-1 and the hotkey index points at them;
    * each coldkey's position count equals its positions (the paginated query's total);
    * a stake floor belongs to a registered hotkey and is at most its stake;
    * no owner's change of hyperparameters is still waiting (end-block applied it);
    * every subnet's hyperparameters lie within the chain's bounds (``SubnetParams``; issue
      13) and its neurons within its ``max_allowed_uids``;
    * no module account owns a subnet, is a hotkey or stakes (epochs pay owners, miners and
      stakers: a pool paid that way breaks its invariant; Cosmos x/bank ``BlockedAddrs``).
    """
    problems = []
    hotkeys = {(n, h): a for n, h, a in all_hotkey_stakes(state)}
    parts: dict[tuple[int, bytes], int] = {}
    for _, n, h, a in all_stake_entries(state):
        parts[(n, h)] = parts.get((n, h), 0) + a
    if parts != hotkeys:
        problems.append("subnet hotkey stakes differ from the sum of their stakers' parts")
    counts = {k[len(STAKE_COUNT) :]: decode_u64(v) for k, v in state.iter_prefix(STAKE_COUNT)}
    if counts != position_counts_from_records(state):
        problems.append("the coldkeys' position counts differ from their stake positions")
    pool = (get_account(state, SUBNET_STAKE_POOL) or Account()).balance
    if pool != sum(hotkeys.values()):
        problems.append(f"subnet stake pool {pool} != subnet stakes {sum(hotkeys.values())}")
    subnets = all_subnets(state)
    pending = sum(s.pending_emission for s in subnets)
    pool = (get_account(state, SUBNET_EMISSION_POOL) or Account()).balance
    if pool != pending:
        problems.append(f"subnet emission pool {pool} != pending emission {pending}")
    if any_next_hyperparams(state):
        problems.append("an owner's change of hyperparameters was not applied at end-block")
    roles = [(s.owner, "owns a subnet") for s in subnets]
    chain = get_params(state)
    for s in subnets:
        hp = get_hyperparams(state, s.netuid)
        try:
            hp.check_bounds(chain)
        except InvalidHyperparams as e:
            problems.append(
                f"subnet {s.netuid}: hyperparameters past the chain's bounds: {e.message}"
            )
        if s.n > hp.max_allowed_uids:
            problems.append(f"subnet {s.netuid}: {s.n} neurons > max_allowed_uids")
        staked = sum(a for (n, _), a in hotkeys.items() if n == s.netuid)
        if staked != s.total_stake:
            problems.append(f"subnet {s.netuid}: total_stake {s.total_stake} != stakes {staked}")
        nodes = neurons(state, s.netuid)
        if [n.uid for n in nodes] != list(range(s.n)):
            problems.append(f"subnet {s.netuid}: uids are not 0..{s.n - 1}")
        if any(uid_of(state, s.netuid, n.hotkey) != n.uid for n in nodes):
            problems.append(f"subnet {s.netuid}: the hotkey index disagrees with the neurons")
        roles += [(n.hotkey, "is a hotkey") for n in nodes]
    roles += [(c, "stakes") for c, _, _, _ in all_stake_entries(state)]
    roles += [(h, "is staked on") for _, h, _ in all_hotkey_stakes(state)]
    for who, what in roles:
        if who in MODULE_ACCOUNTS:
            problems.append(f"the module account {to_bech32(who)} {what}")
    for netuid, hotkey, floor in all_stake_floors(state):
        if uid_of(state, netuid, hotkey) is None or floor > hotkeys.get((netuid, hotkey), 0):
            problems.append(
                f"subnet {netuid}: a stake floor {floor} of a hotkey not registered or with less "
                "stake"
            )
    return problems
