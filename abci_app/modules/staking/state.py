"""Staking records and their typed accessors.

* validator: canonical JSON under staking/val/<consensus address>; staking/op/<operator> indexes
  it by operator account.
* delegation: shares (u128) under staking/del/<delegator><consensus address>. A validator's
  tokens are owned pro rata by its shares, so a later slash lowers every delegation at once.
* unbonding entry: tokens leaving a validator, released at a completion height. Keyed by height
  first so end-block finds the matured ones with one prefix scan, and indexed by delegator.
* last power: what CometBFT currently has, so end-block can return only the differences.
* rank index: one entry per validator (state/keys.py ``VALIDATOR_RANK``); its first part is the
  power index (Cosmos x/staking), from which end-block reads the active set without reading
  every validator record.

Rates (commission) are fixed-point integers: RATE_ONE (10^9, abci_app.params) is 100%, rounding
is floor.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from ...address import from_bech32, to_bech32
from ...codec import canonical_json, decode_u64, encode_u64
from ...state.keys import (
    COUNT,
    DELEGATION,
    LAST_POWER,
    POWER_INDEX,
    RANK_BONDABLE,
    RANK_EMPTY,
    RANK_JAILED,
    REDELEGATION,
    REDELEGATION_BY_PAIR,
    REDELEGATION_BY_SRC,
    REDELEGATION_TO,
    STAKING_PARAMS,
    UNBONDING,
    UNBONDING_BY_DELEGATOR,
    UNBONDING_BY_PAIR,
    UNBONDING_BY_VALIDATOR,
    VALIDATOR,
    VALIDATOR_COUNT,
    VALIDATOR_RANK,
    delegation_count_key,
    delegation_key,
    last_power_key,
    operator_key,
    rank_key_cons_address,
    rank_key_tokens,
    unbonding_by_delegator_key,
    unbonding_by_pair_key,
    unbonding_by_validator_key,
    unbonding_count_key,
    unbonding_key,
    validator_key,
    validator_rank_key,
)
from ...state.overlay import KVReader, Overlay
from ..bank.module_accounts import module_account
from .params import StakingParams

BONDED_POOL = module_account("bonded_pool", burner=True)
"""Holds every validator's tokens: its balance always equals the sum of validator tokens."""
UNBONDING_POOL = module_account("unbonding_pool", burner=True)
"""Holds tokens of unbonding entries until they mature."""
DEFAULT_COMMISSION = (10**8, 2 * 10**8, 10**7)
"""(rate, max rate, max change per edit): 10%, 20%, 1 percentage point."""


def consensus_address(pub_key: bytes) -> bytes:
    """CometBFT's validator address: the first 20 bytes of sha256(ed25519 public key)."""
    return hashlib.sha256(pub_key).digest()[:20]


@dataclass(frozen=True)
class Validator:
    """A validator record (Cosmos x/staking Validator): its operator account, ed25519
    consensus key, bonded ``tokens`` (base units) owned pro rata by ``delegator_shares``,
    commission rates (of RATE_ONE) and jail flag.
    """

    operator: bytes  # account that created it (its self-delegation)
    pub_key: bytes  # ed25519 consensus key
    tokens: int  # base units bonded to it, self-bond and delegations
    moniker: str
    delegator_shares: int = -1  # -1: equal to tokens (a new validator)
    commission_rate: int = DEFAULT_COMMISSION[0]
    max_rate: int = DEFAULT_COMMISSION[1]
    max_change_rate: int = DEFAULT_COMMISSION[2]
    website: str = ""
    jailed: bool = False
    commission_updated_at: int = 0
    """Height of the last commission change (creation counts; genesis validators: 0). The next
    change is allowed ``commission_change_blocks`` later (Cosmos ``Commission.UpdateTime``)."""

    def __post_init__(self) -> None:
        if self.delegator_shares < 0:
            object.__setattr__(self, "delegator_shares", self.tokens)

    @property
    def cons_address(self) -> bytes:
        """CometBFT's address of the consensus key (20 bytes)."""
        return consensus_address(self.pub_key)

    def with_(self, **changes: Any) -> Validator:
        return replace(self, **changes)

    def shares_for(self, amount: int) -> int:
        """Shares a delegation of ``amount`` tokens buys (1:1 for a fresh validator)."""
        if self.delegator_shares == 0 or self.tokens == 0:
            return amount
        return amount * self.delegator_shares // self.tokens

    def tokens_for(self, shares: int) -> int:
        """Tokens ``shares`` are worth now (floor)."""
        if self.delegator_shares == 0:
            return 0
        return shares * self.tokens // self.delegator_shares

    def to_dict(self) -> dict[str, Any]:
        return {
            "operator": to_bech32(self.operator),
            "pub_key": base64.b64encode(self.pub_key).decode(),
            "tokens": str(self.tokens),
            "delegator_shares": str(self.delegator_shares),
            "moniker": self.moniker,
            "website": self.website,
            "commission_rate": str(self.commission_rate),
            "max_rate": str(self.max_rate),
            "max_change_rate": str(self.max_change_rate),
            "jailed": self.jailed,
            "commission_updated_at": self.commission_updated_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Validator:
        return cls(
            operator=from_bech32(d["operator"]),
            pub_key=base64.b64decode(d["pub_key"]),
            tokens=int(d["tokens"]),
            moniker=d["moniker"],
            delegator_shares=int(d.get("delegator_shares", d["tokens"])),
            commission_rate=int(d.get("commission_rate", DEFAULT_COMMISSION[0])),
            max_rate=int(d.get("max_rate", DEFAULT_COMMISSION[1])),
            max_change_rate=int(d.get("max_change_rate", DEFAULT_COMMISSION[2])),
            website=d.get("website", ""),
            jailed=bool(d.get("jailed", False)),
            commission_updated_at=int(d.get("commission_updated_at", 0)),
        )

    @property
    def has_no_tokens_for_its_shares(self) -> bool:
        """Slashed to zero tokens while shares remain: its shares are worth nothing, and a new
        delegation would buy shares 1:1 into them (Cosmos ``Validator.InvalidExRate``)."""
        return self.tokens == 0 and self.delegator_shares > 0

    def encode(self) -> bytes:
        return canonical_json(self.to_dict())


@dataclass(frozen=True)
class UnbondingEntry:
    """Tokens (base units) leaving a validator, released at ``completion_height``."""

    delegator: bytes
    cons_address: bytes
    completion_height: int
    amount: int

    def to_dict(self, operator: bytes) -> dict[str, Any]:
        return {
            "delegator": to_bech32(self.delegator),
            "validator": to_bech32(operator),
            "completion_height": self.completion_height,
            "amount": str(self.amount),
        }


# --- params ----------------------------------------------------------------------------------
def get_params(state: KVReader) -> StakingParams:
    """Staking's params as stored (defaults before genesis writes them)."""
    raw = state.get(STAKING_PARAMS)
    return StakingParams() if raw is None else StakingParams.decode(raw)


def set_params(state: Overlay, params: StakingParams) -> None:
    """Store staking's params (genesis only)."""
    state.set(STAKING_PARAMS, params.encode())


# --- validators ------------------------------------------------------------------------------
def rank_key(v: Validator) -> bytes:
    """``v``'s entry in the validator rank index (state/keys.py ``VALIDATOR_RANK``): class 0
    (the power index) when it can be in the set (not jailed, tokens > 0), else 1 (jailed) or
    2 (no tokens); then tokens descending, then consensus address."""
    if v.jailed:
        rank_class = RANK_JAILED
    elif v.tokens > 0:
        rank_class = RANK_BONDABLE
    else:
        rank_class = RANK_EMPTY
    return validator_rank_key(rank_class, v.tokens, v.cons_address)


def set_validator(state: Overlay, v: Validator) -> None:
    """Write a validator record, its operator index and its rank index entry (the one writer
    of validator records, so the index always equals the records: Cosmos x/staking keeps the
    power index the same way, deleting the old entry before ``SetValidatorByPowerIndex``)."""
    key = validator_key(v.cons_address)
    old = state.get(key)
    new_rank = rank_key(v)
    if old is not None:
        old_rank = rank_key(Validator.from_dict(json.loads(old)))
        if old_rank != new_rank:
            state.delete(old_rank)
    else:
        add_count(state, VALIDATOR_COUNT, 1)
    state.set(key, v.encode())
    state.set(operator_key(v.operator), v.cons_address)
    state.set(new_rank, b"")


def get_count(state: KVReader, key: bytes) -> int:
    """A list count (state/keys.py ``COUNT``): 0 when absent."""
    raw = state.get(key)
    return 0 if raw is None else decode_u64(raw)


def add_count(state: Overlay, key: bytes, delta: int) -> None:
    """Change a list count by ``delta`` (0 deletes the key)."""
    n = get_count(state, key) + delta
    if n < 0:  # pragma: no cover - the writers only remove what exists
        raise RuntimeError(f"count {key!r} would go negative")
    if n == 0:
        state.delete(key)
    else:
        state.set(key, encode_u64(n))


def rebuild_validator_index(state: Overlay) -> int:
    """Make the rank index equal the records (a migration from a state without it, or with a
    stale one): every entry removed, one per record written. O(records), once. Returns the
    number of validators indexed."""
    for k, _ in list(state.iter_prefix(VALIDATOR_RANK)):
        state.delete(k)
    validators = all_validators(state)
    for v in validators:
        state.set(rank_key(v), b"")
    return len(validators)


def _counts_from_records(state: KVReader) -> dict[bytes, int]:
    """{count key: value} as the records give them (O(records): migrations, invariants)."""
    want = {VALIDATOR_COUNT: len(list(state.iter_prefix(VALIDATOR)))}
    for delegator, _, _ in all_delegations(state):
        key = delegation_count_key(delegator)
        want[key] = want.get(key, 0) + 1
    for e in all_unbondings(state):
        key = unbonding_count_key(e.delegator)
        want[key] = want.get(key, 0) + 1
    return {k: n for k, n in want.items() if n}


def rebuild_counts(state: Overlay) -> int:
    """Make the list counts equal the records (a migration): returns how many were written."""
    for k, _ in list(state.iter_prefix(COUNT)):
        state.delete(k)
    want = _counts_from_records(state)
    for key in sorted(want):
        state.set(key, encode_u64(want[key]))
    return len(want)


def index_problems(state: KVReader) -> list[str]:
    """Differences between the rank index and the validator records (invariant): each record
    has its entry, and there is no other entry; and between the list counts and the records.
    O(records)."""
    want = {rank_key(v) for v in all_validators(state)}
    have = {k for k, _ in state.iter_prefix(VALIDATOR_RANK)}
    problems = []
    if want - have:
        problems.append(f"{len(want - have)} validator(s) missing from the rank index")
    if have - want:
        problems.append(f"{len(have - want)} stale rank index entr(ies)")
    counts = {k: decode_u64(v) for k, v in state.iter_prefix(COUNT)}
    if counts != _counts_from_records(state):
        problems.append("the list counts differ from the records")
    return problems


def get_validator(state: KVReader, cons_address: bytes) -> Validator | None:
    """The validator with consensus address ``cons_address``, or None."""
    raw = state.get(validator_key(cons_address))
    return None if raw is None else Validator.from_dict(json.loads(raw))


def validator_by_operator(state: KVReader, operator: bytes) -> Validator | None:
    """The validator ``operator`` runs, or None."""
    cons = state.get(operator_key(operator))
    return None if cons is None else get_validator(state, cons)


def consensus_address_of(state: KVReader, operator: bytes) -> bytes:
    """The consensus address of the validator ``operator`` runs (KeyError when none)."""
    cons = state.get(operator_key(operator))
    if cons is None:
        raise KeyError(f"no validator operated by {to_bech32(operator)}")
    return cons


def all_validators(state: KVReader) -> list[Validator]:
    """Every validator record, ordered by consensus address."""
    return [Validator.from_dict(json.loads(v)) for _, v in state.iter_prefix(VALIDATOR)]


def active_set(validators: list[Validator], params: StakingParams) -> list[tuple[Validator, int]]:
    """Top ``max_validators`` unjailed validators by tokens (ties: lower consensus address)
    with power = tokens // power_reduction >= 1, from a list of records: the rule, for genesis
    and the invariants. Blocks read the same set from the index (:func:`indexed_active_set`)."""
    ranked = sorted(
        (v for v in validators if not v.jailed), key=lambda v: (-v.tokens, v.cons_address)
    )
    out = []
    for v in ranked[: params.max_validators]:
        power = v.tokens // params.power_reduction
        if power > 0:
            out.append((v, power))
    return out


def indexed_active_set(state: KVReader, params: StakingParams) -> list[tuple[Validator, int]]:
    """:func:`active_set` read from the power index: its first ``max_validators`` entries
    (stopping at the first with power 0; the index already orders by tokens descending then
    consensus address and holds only unjailed validators with tokens). Reads at most
    ``max_validators`` validator records, however many exist (Cosmos
    ``ApplyAndReturnValidatorSetUpdates`` over ``ValidatorsPowerStoreIterator``)."""
    out = []
    for key, _ in islice(state.iter_from(POWER_INDEX, POWER_INDEX), params.max_validators):
        power = rank_key_tokens(key) // params.power_reduction
        if power <= 0:
            break
        v = get_validator(state, rank_key_cons_address(key))
        if v is None:  # pragma: no cover - the invariants hold the index equal to the records
            raise RuntimeError(f"rank index names a missing validator {key.hex()}")
        out.append((v, power))
    return out


# --- delegations -----------------------------------------------------------------------------
def get_shares(state: KVReader, delegator: bytes, cons_address: bytes) -> int:
    """``delegator``'s shares of the validator (u128; 0 when none)."""
    raw = state.get(delegation_key(delegator, cons_address))
    return 0 if raw is None else int.from_bytes(raw, "big")


def set_shares(state: Overlay, delegator: bytes, cons_address: bytes, shares: int) -> None:
    """Write ``delegator``'s shares of the validator (0 deletes the delegation), keeping the
    delegator's delegation count."""
    key = delegation_key(delegator, cons_address)
    existed = state.get(key) is not None
    if shares == 0:
        state.delete(key)
    else:
        state.set(key, shares.to_bytes(16, "big"))
    if existed != (shares != 0):
        add_count(state, delegation_count_key(delegator), 1 if shares else -1)


def self_bond_of(state: KVReader, v: Validator) -> int:
    """Tokens the operator's own delegation to ``v`` is worth now (floor)."""
    return v.tokens_for(get_shares(state, v.operator, v.cons_address))


def delegations_of(state: KVReader, delegator: bytes) -> list[tuple[bytes, int]]:
    """[(consensus address, shares)] of one delegator, in key order."""
    prefix = DELEGATION + delegator
    return [(k[len(prefix) :], int.from_bytes(v, "big")) for k, v in state.iter_prefix(prefix)]


def all_delegations(state: KVReader) -> list[tuple[bytes, bytes, int]]:
    """[(delegator, consensus address, shares)] of everyone, in key order."""
    n = len(DELEGATION)
    return [
        (k[n : n + 20], k[n + 20 :], int.from_bytes(v, "big"))
        for k, v in state.iter_prefix(DELEGATION)
    ]


# --- unbonding -------------------------------------------------------------------------------
def _write_unbonding(state: Overlay, entry: UnbondingEntry, amount: int) -> None:
    """The entry under its four keys: by completion height (end-block's scan), by delegator
    (queries), by validator (a slash finds what left the offender) and by (delegator,
    validator) (undelegate's max_entries check and a redelegation slash read only that pair's
    entries, at most ``max_entries``: not every entry the delegator holds, which grows with the
    validators it has left)."""
    h, who, cons = entry.completion_height, entry.delegator, entry.cons_address
    existed = state.get(unbonding_key(h, who, cons)) is not None
    if existed != (amount != 0):
        add_count(state, unbonding_count_key(who), 1 if amount else -1)
    keys = (
        unbonding_key(h, who, cons),
        unbonding_by_delegator_key(who, h, cons),
        unbonding_by_validator_key(cons, h, who),
        unbonding_by_pair_key(who, cons, h),
    )
    for key in keys:
        if amount:
            state.set(key, encode_u64(amount))
        else:
            state.delete(key)


def add_unbonding(state: Overlay, entry: UnbondingEntry) -> None:
    """Record tokens to release at ``completion_height`` (same key: amounts add up)."""
    raw = state.get(unbonding_key(entry.completion_height, entry.delegator, entry.cons_address))
    _write_unbonding(state, entry, entry.amount + (0 if raw is None else decode_u64(raw)))


def set_unbonding_amount(state: Overlay, entry: UnbondingEntry, amount: int) -> None:
    """Replace the entry's amount (a slash cuts it); 0 removes the entry."""
    _write_unbonding(state, entry, amount)


def matured_unbondings(state: KVReader, height: int) -> list[UnbondingEntry]:
    """Entries completing exactly at ``height`` (end-block runs at every height)."""
    prefix = UNBONDING + height.to_bytes(8, "big")
    n = len(prefix)
    return [
        UnbondingEntry(k[n : n + 20], k[n + 20 :], height, decode_u64(v))
        for k, v in state.iter_prefix(prefix)
    ]


def remove_unbonding(state: Overlay, entry: UnbondingEntry) -> None:
    """Delete an unbonding entry (all its keys)."""
    _write_unbonding(state, entry, 0)


def unbondings_of(state: KVReader, delegator: bytes) -> list[UnbondingEntry]:
    """One delegator's entries, by completion height then validator."""
    prefix = UNBONDING_BY_DELEGATOR + delegator
    n = len(prefix)
    return [
        UnbondingEntry(delegator, k[n + 8 :], int.from_bytes(k[n : n + 8], "big"), decode_u64(v))
        for k, v in state.iter_prefix(prefix)
    ]


def unbondings_of_pair(
    state: KVReader, delegator: bytes, cons_address: bytes
) -> list[UnbondingEntry]:
    """One delegator's entries leaving one validator, by completion height (at most
    ``max_entries`` of them, undelegate's rule; Cosmos ``GetUnbondingDelegation``). Reads only
    that pair's keys."""
    prefix = UNBONDING_BY_PAIR + delegator + cons_address
    n = len(prefix)
    return [
        UnbondingEntry(delegator, cons_address, int.from_bytes(k[n : n + 8], "big"), decode_u64(v))
        for k, v in state.iter_prefix(prefix)
    ]


def pair_index_problems(state: KVReader) -> list[str]:
    """The (delegator, validator) indexes hold exactly the unbonding and redelegation entries
    (an invariant: undelegate and redelegate read their max_entries from them)."""
    problems = []
    entries = all_unbondings(state)
    pairs = {k: v for k, v in state.iter_prefix(UNBONDING_BY_PAIR)}
    want = {
        unbonding_by_pair_key(e.delegator, e.cons_address, e.completion_height): encode_u64(
            e.amount
        )
        for e in entries
    }
    if pairs != want:
        problems.append(f"unbonding pair index: {len(pairs)} keys for {len(want)} entries")
    red_pairs = {k for k, _ in state.iter_prefix(REDELEGATION_BY_PAIR)}
    red_want = {r.index_keys()[2] for r in all_redelegations(state)}
    if red_pairs != red_want:
        problems.append(
            f"redelegation pair index: {len(red_pairs)} keys for {len(red_want)} entries"
        )
    return problems


def rebuild_pair_indexes(state: Overlay) -> int:
    """Write the (delegator, validator) index of every unbonding and redelegation entry
    (a migration: versions before 3 had none). Idempotent; returns the entries indexed."""
    n = 0
    for e in all_unbondings(state):
        state.set(
            unbonding_by_pair_key(e.delegator, e.cons_address, e.completion_height),
            encode_u64(e.amount),
        )
        n += 1
    for r in all_redelegations(state):
        state.set(r.index_keys()[2], b"")  # (the other two indexes exist since version 2)
        n += 1
    return n


def unbondings_from(state: KVReader, cons_address: bytes) -> list[UnbondingEntry]:
    """Entries leaving one validator, by completion height then delegator (Cosmos
    ``GetUnbondingDelegationsFromValidator``)."""
    prefix = UNBONDING_BY_VALIDATOR + cons_address
    n = len(prefix)
    return [
        UnbondingEntry(k[n + 8 :], cons_address, int.from_bytes(k[n : n + 8], "big"), decode_u64(v))
        for k, v in state.iter_prefix(prefix)
    ]


def all_unbondings(state: KVReader) -> list[UnbondingEntry]:
    """Every unbonding entry, by completion height."""
    n = len(UNBONDING)
    return [
        UnbondingEntry(
            k[n + 8 : n + 28], k[n + 28 :], int.from_bytes(k[n : n + 8], "big"), decode_u64(v)
        )
        for k, v in state.iter_prefix(UNBONDING)
    ]


# --- redelegations --------------------------------------------------------------------------
@dataclass(frozen=True)
class Redelegation:
    """Tokens moved from ``src`` to ``dst`` at ``creation_height`` (Cosmos
    ``RedelegationEntry``). Until ``completion_height`` they stay slashable for an infraction
    ``src`` committed before the move (``initial_balance`` is what they were worth), and the
    delegator may not redelegate out of ``dst`` (no transitive redelegation)."""

    delegator: bytes
    src: bytes  # consensus addresses
    dst: bytes
    creation_height: int
    completion_height: int
    shares: int  # shares of dst it bought
    initial_balance: int  # tokens moved

    def key(self) -> bytes:
        return (
            REDELEGATION
            + self.completion_height.to_bytes(8, "big")
            + self.delegator
            + self.src
            + self.dst
        )

    def index_keys(self) -> tuple[bytes, bytes, bytes]:
        """By source validator (a slash finds them), by (delegator, destination) (the
        transitive-redelegation check) and by (delegator, source, destination) (redelegate's
        max_entries check reads only that pair's entries)."""
        h = self.completion_height.to_bytes(8, "big")
        return (
            REDELEGATION_BY_SRC + self.src + h + self.delegator + self.dst,
            REDELEGATION_TO + self.delegator + self.dst + h + self.src,
            REDELEGATION_BY_PAIR + self.delegator + self.src + self.dst + h,
        )

    def encode(self) -> bytes:
        return (
            self.shares.to_bytes(16, "big")
            + encode_u64(self.creation_height)
            + encode_u64(self.initial_balance)
        )

    @classmethod
    def decode(cls, key: bytes, value: bytes) -> Redelegation:
        n = len(REDELEGATION)
        if len(value) != 32:
            raise ValueError(f"a redelegation record is 32 bytes, got {len(value)}")
        return cls(
            key[n + 8 : n + 28],
            key[n + 28 : n + 48],
            key[n + 48 : n + 68],
            decode_u64(value[16:24]),
            int.from_bytes(key[n : n + 8], "big"),
            int.from_bytes(value[:16], "big"),
            decode_u64(value[24:]),
        )


def add_redelegation(state: Overlay, r: Redelegation) -> None:
    """Record ``r`` (a second one in the same block for the same pair adds to it)."""
    old = state.get(r.key())
    if old is not None:
        prev = Redelegation.decode(r.key(), old)
        r = replace(
            r,
            shares=r.shares + prev.shares,
            initial_balance=r.initial_balance + prev.initial_balance,
        )
    state.set(r.key(), r.encode())
    for key in r.index_keys():
        state.set(key, b"")


def remove_redelegation(state: Overlay, r: Redelegation) -> None:
    """The entry matured: no longer slashable for the source, nor blocking redelegation."""
    state.delete(r.key())
    for key in r.index_keys():
        state.delete(key)


def get_redelegation(state: KVReader, key: bytes) -> Redelegation | None:
    raw = state.get(key)
    return None if raw is None else Redelegation.decode(key, raw)


def redelegations_from(state: KVReader, src: bytes) -> list[Redelegation]:
    """Live redelegations out of ``src``, by completion height then delegator and destination
    (Cosmos ``GetRedelegationsFromSrcValidator``)."""
    prefix = REDELEGATION_BY_SRC + src
    n = len(prefix)
    out = []
    for k, _ in state.iter_prefix(prefix):
        h, who, dst = k[n : n + 8], k[n + 8 : n + 28], k[n + 28 :]
        r = get_redelegation(state, REDELEGATION + h + who + src + dst)
        if r is not None:
            out.append(r)
    return out


def redelegation_entries(state: KVReader, delegator: bytes, src: bytes, dst: bytes) -> list[int]:
    """Completion heights of the live redelegations of ``delegator`` from ``src`` to ``dst``."""
    prefix = REDELEGATION_BY_PAIR + delegator + src + dst
    n = len(prefix)
    return [int.from_bytes(k[n : n + 8], "big") for k, _ in state.iter_prefix(prefix)]


def receiving_redelegation(state: KVReader, delegator: bytes, dst: bytes) -> int | None:
    """The completion height of the first live redelegation of ``delegator`` into ``dst``, or
    None (Cosmos ``HasReceivingRedelegation``)."""
    prefix = REDELEGATION_TO + delegator + dst
    for k, _ in state.iter_from(prefix, prefix):  # lazy: the first entry only
        return int.from_bytes(k[len(prefix) : len(prefix) + 8], "big")
    return None


def all_redelegations(state: KVReader) -> list[Redelegation]:
    """Every redelegation entry, by completion height."""
    return [Redelegation.decode(k, v) for k, v in state.iter_prefix(REDELEGATION)]


def matured_redelegations(state: KVReader, height: int) -> list[Redelegation]:
    """Redelegation entries completing exactly at ``height``."""
    prefix = REDELEGATION + height.to_bytes(8, "big")
    return [Redelegation.decode(k, v) for k, v in state.iter_prefix(prefix)]


# --- the set CometBFT has --------------------------------------------------------------------
def last_powers(state: KVReader) -> dict[bytes, int]:
    """The validator set CometBFT currently has, as {consensus address: power}."""
    n = len(LAST_POWER)
    return {k[n:]: decode_u64(v) for k, v in state.iter_prefix(LAST_POWER)}


def last_power_of(state: KVReader, cons_address: bytes) -> int:
    """The power CometBFT has for one validator (0: not in the set)."""
    raw = state.get(last_power_key(cons_address))
    return 0 if raw is None else decode_u64(raw)


def set_last_power(state: Overlay, cons_address: bytes, power: int) -> None:
    """Remember the power CometBFT has for the validator (0 deletes)."""
    if power == 0:
        state.delete(last_power_key(cons_address))
    else:
        state.set(last_power_key(cons_address), encode_u64(power))
