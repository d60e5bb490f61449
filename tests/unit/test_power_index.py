"""The validator power index (issue 13 follow-up): end-block reads the active set from the
index, so a block with one delegation costs the same with 10 or 2,000 validator records, and
list queries read only their page.

Work is counted, not timed: validator records decoded (``Validator.from_dict``, the one way a
record is read) and store rows a scan returned.

The attack: ``min_self_bond`` is 1 MDT, so N MDT buy N validator records; the old end-block
decoded and sorted every record in each block where any validator record was written (every
delegate, undelegate, redelegate writes one).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from chain_driver import Driver, Sender, genesis_app_state
from harness import addr_of, seeded_key

from abci_app.address import to_bech32
from abci_app.modules.staking.messages import MsgCreateValidator, MsgDelegate, MsgUndelegate
from abci_app.modules.staking.state import (
    Validator,
    active_set,
    all_validators,
    get_params,
    index_problems,
    indexed_active_set,
    rank_key,
    set_validator,
)
from abci_app.state.keys import VALIDATOR_RANK
from abci_app.state.overlay import Overlay

MAX_VALIDATORS = 5
MDT = 10**9
STEP = MDT // 4096
"""Validator i bonds 1 MDT + i STEPs: distinct tokens, power 1 each (up to 4,096 of them),
so the genesis validator (1,000 MDT) is always first and the same shape of set results
whatever the number of records."""


BASE = 3_000
"""Accounts BASE + i (clear of the genesis validator's keys, seeded 1000 and 2000)."""


def acct(i: int) -> int:
    return BASE + i


def _chain(tmp_path: Path, name: str, n_validators: int) -> tuple[Driver, Sender]:
    """A chain with ``n_validators`` records besides the genesis one: accounts acct(0..n-1)
    each create one validator with 1 MDT + i STEPs, 500 per block; acct(n),
    acct(n+1) are funded bystanders, each with 100 MDT (so the genesis supply stays under the
    emission cap and every chain mints alike). Invariants off while building (they are O(records)),
    then checked once."""
    d = Driver.open(tmp_path / f"{name}.sqlite")
    d.app.check_invariants = False
    state = genesis_app_state(0, staking_params={"max_validators": MAX_VALIDATORS})
    state["accounts"] += [  # type: ignore[operator]
        {"address": to_bech32(addr_of(seeded_key(acct(i)))), "balance": str(100 * MDT)}
        for i in range(n_validators + 2)
    ]
    d.init_chain(state)
    s = Sender()
    txs = [
        s.tx(
            acct(i),
            MsgCreateValidator(
                bytes(seeded_key(50_000 + i).verify_key), MDT + i * STEP, f"v{i}", "", 0, 0, 0
            ),
        )
        for i in range(n_validators)
    ]
    for start in range(0, len(txs), 500):
        _, codes = d.block(txs[start : start + 500])
        assert set(codes) == {0}, codes
    while d.height < 8:  # the same height whatever n: rewards and windows alike
        d.block([])
    assert len(all_validators(d.app.db)) == n_validators + 1
    assert index_problems(d.app.db) == []
    d.app.check_invariants = True
    return d, s


def _count_decodes(fn: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> int:
    """Validator records decoded while ``fn`` runs."""
    original = Validator.from_dict.__func__  # type: ignore[attr-defined]
    calls = [0]

    def counting(cls: type[Validator], d: dict[str, Any]) -> Validator:
        calls[0] += 1
        return original(cls, d)  # type: ignore[no-any-return]

    monkeypatch.setattr(Validator, "from_dict", classmethod(counting))
    try:
        fn()
    finally:
        monkeypatch.setattr(Validator, "from_dict", classmethod(original))
    return calls[0]


def test_one_delegation_reads_as_many_records_with_10_or_2000_validators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same block (a delegation raising the top created validator's power, an
    undelegation dropping the second one out of the set for the fifth) decodes the same number
    of validator records with 10 and with 2,000 records: at most max_validators for the set,
    plus the changed ones (the old code decoded every record: 2,000+)."""
    costs = {}
    for n in (10, 2_000):
        d, s = _chain(tmp_path, f"v{n}", n)
        top = addr_of(seeded_key(acct(n - 1)))  # operates the validator with the most tokens
        second = addr_of(seeded_key(acct(n - 2)))
        d.app.check_invariants = False  # each is a full O(records) pass: checked after
        block = [
            s.tx(acct(n), MsgDelegate(top, 3 * MDT)),
            s.tx(acct(n - 2), MsgUndelegate(second, 3 * STEP)),
        ]
        costs[n] = _count_decodes(lambda d=d, block=block: d.block(block), monkeypatch)  # type: ignore[misc]
        resp = d.last_response()
        assert resp is not None and [r.code for r in resp.tx_results] == [0, 0]
        updates = sorted(u.power for u in resp.validator_updates)
        assert updates == [0, 1, 4]  # second out, fifth in, top raised: end-block worked
        assert index_problems(d.app.db) == []
        d.close()
    assert costs[10] == costs[2_000], costs
    assert costs[10] <= 4 * MAX_VALIDATORS + 8, costs


def test_end_block_alone_reads_at_most_max_validators_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d, s = _chain(tmp_path, "eb", 300)
    d.app.check_invariants = False
    op = addr_of(seeded_key(acct(7)))
    counted = _count_decodes(lambda: d.block([s.tx(acct(300), MsgDelegate(op, MDT))]), monkeypatch)
    # the handler reads the target (and set_validator its old record), distribution and
    # slashing read the voters' and proposer's records (<= max_validators each), end-block
    # reads the set from the index (<= max_validators) and the leaving ones' keys
    assert counted <= 4 * MAX_VALIDATORS + 4, counted
    d.close()


def test_the_index_gives_the_rule_s_set_in_random_histories() -> None:
    """Random validator records written through set_validator (jailed, zero tokens, ties): the
    index equals the records and the set read from it is the rule's, in the same order."""
    rng = random.Random(13)

    class Mem:
        def __init__(self) -> None:
            self.data: dict[bytes, bytes] = {}

        def get(self, key: bytes) -> bytes | None:
            return self.data.get(key)

        def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
            return iter(sorted((k, v) for k, v in self.data.items() if k.startswith(prefix)))

        def iter_from(self, prefix: bytes, start: bytes) -> Iterator[tuple[bytes, bytes]]:
            return (kv for kv in self.iter_prefix(prefix) if kv[0] >= start)

    for _ in range(30):
        state = Overlay(Mem())
        vals = {}
        for _ in range(rng.randrange(1, 40)):
            key = seeded_key(rng.randrange(25))
            old = vals.get(bytes(key.verify_key))
            v = Validator(
                addr_of(key),
                bytes(key.verify_key),
                rng.choice([0, 5, MDT - 1, MDT, 2 * MDT, 7 * MDT, rng.randrange(10 * MDT)]),
                "m",
                jailed=rng.random() < 0.25,
            )
            if old is not None:
                v = v.with_(operator=old.operator)
            vals[v.pub_key] = v
            set_validator(state, v)
            if rng.random() < 0.3:  # a child overlay, merged: the index survives merges
                child = state.branch()
                set_validator(child, v.with_(tokens=rng.randrange(3 * MDT)))
                child.merge_into(state)
        params = replace(get_params(state), max_validators=rng.randrange(1, 8))
        assert index_problems(state) == []
        rule = [(v.cons_address, p) for v, p in active_set(all_validators(state), params)]
        read = [(v.cons_address, p) for v, p in indexed_active_set(state, params)]
        assert read == rule


def test_index_problems_sees_a_stale_or_missing_entry(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2))
    d.block([])
    (v,) = all_validators(d.app.db)
    stale = Overlay(d.app.db)
    stale.set(VALIDATOR_RANK + b"\x00" + bytes(36), b"")
    assert index_problems(stale) == ["1 stale rank index entr(ies)"]
    missing = Overlay(d.app.db)
    missing.delete(rank_key(v))
    assert index_problems(missing) == ["1 validator(s) missing from the rank index"]
    d.close()


def test_two_instances_agree_with_the_index(tmp_path: Path) -> None:
    """Determinism: the same blocks (validators created, delegations moving the ranking,
    undelegations to zero) on two app instances give the same app hashes every block."""
    a = Driver.open(tmp_path / "a.sqlite")
    b = Driver.open(tmp_path / "b.sqlite")
    state = genesis_app_state(30, staking_params={"max_validators": 4})
    assert a.init_chain(state) == b.init_chain(state)
    rng = random.Random(7)
    s = Sender()
    for i in range(12):
        key = bytes(seeded_key(60_000 + i).verify_key)
        tx = s.tx(i, MsgCreateValidator(key, (1 + rng.randrange(5)) * MDT, f"v{i}", "", 0, 0, 0))
        assert a.block([tx]) == b.block([tx])
    for _ in range(25):
        txs = []
        for _ in range(3):
            who = 12 + rng.randrange(15)
            op = addr_of(seeded_key(rng.randrange(12)))
            if rng.random() < 0.7:
                txs.append(s.tx(who, MsgDelegate(op, rng.randrange(1, 4 * MDT))))
            else:
                txs.append(s.tx(rng.randrange(12), MsgUndelegate(op, rng.randrange(1, MDT))))
        ha, hb = a.block(txs), b.block(txs)
        assert ha == hb
    assert index_problems(a.app.db) == []
    a.close()
    b.close()
