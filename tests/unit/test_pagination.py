"""Paginated list queries (issue 13 follow-up; modules/pagination.py): every entry exactly once
page by page, a page reads only its own entries (counted: store rows a scan returned, validator
records decoded), totals come from the counts the writers keep, and each bad value is one
clear error (code 201)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chain_driver import Driver, count_store_rows, genesis_app_state
from harness import addr_of, seeded_key
from test_power_index import MDT, _chain, _count_decodes, acct

from abci_app.address import to_bech32
from abci_app.errors import InvalidQuery
from abci_app.modules.staking.messages import MsgDelegate, MsgUndelegate
from abci_app.modules.staking.state import index_problems


def test_validators_query_pages_read_only_their_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/validators?limit=N walks every validator exactly once in rank order, each page
    decoding N records and reading N+1 index rows (plus the store's read-ahead chunk),
    whatever the number of validators."""
    d, _ = _chain(tmp_path, "q", 250)

    rows = count_store_rows(monkeypatch)
    seen: list[str] = []
    next_key: str | None = None
    pages = 0
    while True:
        path = "/validators?limit=40" + (f"&next_key={next_key}" if next_key else "")
        rows[0] = 0
        res: dict[str, Any] = {}

        def ask(path: str = path, res: dict[str, Any] = res) -> None:
            r = d.query(path)
            assert r.code == 0, r.log
            res.update(json.loads(r.value))

        decoded = _count_decodes(ask, monkeypatch)
        assert decoded == len(res["validators"]) <= 40
        assert rows[0] <= 41  # the page and the first entry of the next one
        assert res["pagination"]["total"] == 251
        seen += [v["operator"] for v in res["validators"]]
        pages += 1
        next_key = res["pagination"]["next_key"]
        if next_key is None:
            break
    assert pages == 7 and len(seen) == len(set(seen)) == 251
    tokens = [int(json.loads(d.query("/validator/" + op).value)["tokens"]) for op in seen]
    assert tokens == sorted(tokens, reverse=True)  # none jailed here: by tokens
    d.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be a number from 1 to 1000"),
        ("limit=1001", "limit must be a number from 1 to 1000"),
        ("limit=-1", "limit must be a number from 1 to 1000"),
        ("limit=abc", "limit must be a number from 1 to 1000"),
        ("limit=99999999999999999999", "limit must be a number from 1 to 1000"),
        ("limit=%C2%B2", "limit must be a number from 1 to 1000"),
        ("limit=²", "limit must be a number from 1 to 1000"),
        ("next_key=zz", "next_key must be hex"),
        ("next_key= 00", "next_key must be hex"),  # bytes.fromhex skips whitespace
        ("next_key=00 ", "next_key must be hex"),
        ("next_key=00%0A", "next_key must be hex"),
        ("next_key=00\n", "next_key must be hex"),
        ("next_key=0", "next_key must be hex"),
        ("next_key=\u0660\u0660", "next_key must be hex"),
        ("next_key=", "next_key must not be empty"),
        ("next_key=" + "ab" * 65, "next_key longer than 64 bytes"),
        ("limit=5&limit=6", "limit is given twice"),
        ("offset=3", "unknown query parameter"),
        ("limit", "unknown query parameter"),
    ],
)
def test_bad_pagination_is_one_clear_error(tmp_path: Path, query: str, message: str) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2))
    d.block([])
    who = addr_of(seeded_key(0))
    for route in ("/validators", f"/delegations/{to_bech32(who)}", f"/unbonding/{to_bech32(who)}"):
        r = d.query(f"{route}?{query}")
        assert r.code == 201, (route, r.log)
        assert message in r.log and "\n" not in r.log
    d.close()


def test_delegation_and_unbonding_pages_and_totals(tmp_path: Path) -> None:
    """A delegator's delegations and unbonding entries page in key order with totals the
    writers keep (a full delegation removed lowers the total; a matured entry too)."""
    d, s = _chain(tmp_path, "d", 12)
    me = acct(12)
    who = to_bech32(addr_of(seeded_key(me)))
    ops = [addr_of(seeded_key(acct(i))) for i in range(12)]
    _, codes = d.block([s.tx(me, *[MsgDelegate(op, MDT) for op in ops])])
    assert codes == [0]
    _, codes = d.block([s.tx(me, MsgUndelegate(ops[0], MDT), MsgUndelegate(ops[1], MDT // 2))])
    assert codes == [0]

    def walk(route: str, field: str, limit: int) -> tuple[list[Any], list[int]]:
        items: list[Any] = []
        totals = []
        nxt = None
        for _ in range(50):
            r = json.loads(
                d.query(f"{route}?limit={limit}" + (f"&next_key={nxt}" if nxt else "")).value
            )
            items += r[field]
            totals.append(r["pagination"]["total"])
            nxt = r["pagination"]["next_key"]
            if nxt is None:
                return items, totals
        raise AssertionError("pagination did not end")

    dels, totals = walk(f"/delegations/{who}", "delegations", 5)
    assert len(dels) == 11 and set(totals) == {11}  # ops[0] fully undelegated
    assert json.loads(d.query(f"/delegations/{who}").value)["delegations"] == dels
    ubd, totals = walk(f"/unbonding/{who}", "unbonding", 1)
    assert len(ubd) == 2 and set(totals) == {2}
    assert index_problems(d.app.db) == []  # the counts equal the records
    d.close()


def test_the_sdk_walk_ends_even_against_a_lying_node() -> None:
    """client/paging.py: pages are joined in order; a node repeating a next_key (which would
    keep a client asking for ever) is an error after the repeat, not an endless loop."""
    from abci_app.client.paging import PAGE, PagingError, Walk

    full = list(range(PAGE))
    walk = Walk("/validators", "validators")
    assert walk.next_path() == f"/validators?limit={PAGE}"
    walk.add({"validators": full, "pagination": {"next_key": "aa", "total": PAGE + 1}})
    assert walk.next_path() == f"/validators?limit={PAGE}&next_key=aa"
    walk.add({"validators": [PAGE], "pagination": {"next_key": None, "total": PAGE + 1}})
    assert walk.next_path() is None and walk.items == [*full, PAGE]

    liar = Walk("/validators", "validators")
    liar.add({"validators": full, "pagination": {"next_key": "aa", "total": 9}})
    liar.add({"validators": full, "pagination": {"next_key": "bb", "total": 9}})
    with pytest.raises(PagingError, match="does not end"):
        liar.add({"validators": full, "pagination": {"next_key": "aa", "total": 9}})
    backwards = Walk("/validators", "validators")  # a key below the last one: no progress
    backwards.add({"validators": full, "pagination": {"next_key": "bb00", "total": 9}})
    with pytest.raises(PagingError, match="does not end"):
        backwards.add({"validators": full, "pagination": {"next_key": "bb", "total": 9}})


@pytest.mark.parametrize(
    "answer",
    [
        None,
        [1, 2],
        {"validators": [1]},  # no pagination
        {"validators": None, "pagination": {"next_key": None, "total": 0}},
        {"validators": "abc", "pagination": {"next_key": None, "total": 3}},  # not a list
        {"validators": [0] * 1_001, "pagination": {"next_key": None, "total": 1}},  # > PAGE
        {"validators": [1], "pagination": {"next_key": "aa", "total": 9}},  # short, yet more
        {"validators": [0] * 1_000, "pagination": {"next_key": ["aa"], "total": 9}},
        {"validators": [0] * 1_000, "pagination": {"next_key": 170, "total": 9}},
        {"validators": [0] * 1_000, "pagination": {"next_key": "aa&limit=1", "total": 9}},
        {"validators": [0] * 1_000, "pagination": {"next_key": "AA", "total": 9}},
        {"validators": [0] * 1_000, "pagination": {"next_key": "a", "total": 9}},
        {"validators": [0] * 1_000, "pagination": {"next_key": "", "total": 9}},
        {"validators": [0] * 1_000, "pagination": {"next_key": "ab" * 65, "total": 9}},
    ],
)
def test_the_sdk_walk_refuses_an_answer_that_is_not_a_page(answer: Any) -> None:
    """A lying node's answer is one PagingError (not a TypeError or KeyError from inside the
    walk), and nothing of it is kept: no page larger than asked, no text slipped into the next
    request's path, no page of 1 entry with a next_key (10,000 of them would be 10,000 round
    trips for nothing: the node gives a next_key only after a full page)."""
    from abci_app.client.paging import PagingError, Walk

    walk = Walk("/validators", "validators")
    with pytest.raises(PagingError, match="the node's"):
        walk.add(answer)
    assert walk.items == [] and walk.next_path() == "/validators?limit=1000"


def test_subnet_stake_pages_with_the_position_count() -> None:
    """/subnet_stake/<coldkey>: positions by netuid then hotkey, paged; the total is the count
    change_stake keeps as positions open and close (a random history, in an overlay)."""
    import random

    from abci_app.modules.subnets.queries import subnets_query
    from abci_app.modules.subnets.state import change_stake, position_counts_from_records
    from abci_app.state.overlay import EmptyReader, Overlay

    rng = random.Random(3)
    state = Overlay(EmptyReader())
    coldkey = addr_of(seeded_key(1))
    held: dict[tuple[int, bytes], int] = {}
    for _ in range(300):
        netuid, hotkey = rng.randrange(1, 4), addr_of(seeded_key(100 + rng.randrange(20)))
        have = held.get((netuid, hotkey), 0)
        delta = -have if have and rng.random() < 0.3 else rng.randrange(1, 10**9)
        change_stake(state, coldkey, netuid, hotkey, delta)
        held[(netuid, hotkey)] = have + delta
    live = sorted((n, h) for (n, h), a in held.items() if a)
    assert position_counts_from_records(state) == {coldkey: len(live)}
    got: list[tuple[int, str]] = []
    nxt = None
    for _ in range(len(live) + 1):
        path = f"/subnet_stake/{to_bech32(coldkey)}?limit=4" + (f"&next_key={nxt}" if nxt else "")
        answer = subnets_query(state, path, 1)
        assert answer["pagination"]["total"] == len(live) and len(answer["stake"]) <= 4
        got += [(r["netuid"], r["hotkey"]) for r in answer["stake"]]
        nxt = answer["pagination"]["next_key"]
        if nxt is None:
            break
    assert got == [(n, to_bech32(h)) for n, h in live]
    with pytest.raises(InvalidQuery, match="limit must be a number"):
        subnets_query(state, f"/subnet_stake/{to_bech32(coldkey)}?limit=0", 1)
