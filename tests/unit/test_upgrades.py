"""The app version in state and the migration registry: the mechanics with a registry of our
own, and the real thing: a state written by the previous version's code (from git) opened by
this one on two instances that replay the same blocks (same hashes, migrated once)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from chain_driver import VALIDATOR_OPERATOR, Driver, exact_tx, genesis_app_state, transfer
from harness import addr_of

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.address import to_bech32
from abci_app.codec import encode_u64
from abci_app.e2e import versions
from abci_app.e2e.versions import ARCHIVED_PATHS, archive_path, git_tree, pinned, previous_version
from abci_app.errors import InvalidGenesis
from abci_app.genesis import export_app_state
from abci_app.modules.staking.messages import MsgUndelegate
from abci_app.modules.staking.state import (
    active_set,
    all_validators,
    get_params,
    index_problems,
    indexed_active_set,
    pair_index_problems,
)
from abci_app.node import genesis_file
from abci_app.state.db import StateDB
from abci_app.state.keys import MAX_GAS
from abci_app.state.overlay import Overlay
from abci_app.types import Event
from abci_app.upgrades import APP_VERSION, VersionTooNew, migrate, set_version, state_version
from abci_app.weights import DEFAULT_BLOCK_MAX_GAS


class Mem:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def iter_prefix(self, prefix: bytes):  # type: ignore[no-untyped-def]
        return iter(sorted((k, v) for k, v in self.data.items() if k.startswith(prefix)))


def test_migrations_run_in_order_once_and_record_the_version() -> None:
    ran: list[int] = []

    def step(v: int):  # type: ignore[no-untyped-def]
        def f(state: Overlay) -> list[Event]:
            ran.append(v)
            state.set(f"m/{v}".encode(), b"done")
            return [Event.of("migrated", to=v)]

        return f

    registry = {2: step(2), 3: step(3), 4: step(4)}
    state = Overlay(Mem())
    assert state_version(state) == 1  # nothing recorded: the first version
    events = migrate(state, 4, registry)
    assert ran == [2, 3, 4]
    assert [e.type for e in events] == ["migrated"] * 3 + ["upgrade"]
    assert state_version(state) == 4 and state.get(b"m/3") == b"done"
    assert migrate(state, 4, registry) == [] and ran == [2, 3, 4]  # once
    with pytest.raises(VersionTooNew):
        migrate(state, 3, registry)
    fresh = Overlay(Mem())
    set_version(fresh, 2)
    with pytest.raises(KeyError, match="no migration to app version 5"):
        migrate(fresh, 5, registry)


def test_a_new_chain_starts_at_this_version(tmp_path: Path) -> None:
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2))
    d.block([])
    assert state_version(d.app.db) == APP_VERSION == 3
    assert d.app.info(abci.RequestInfo()).app_version == APP_VERSION
    assert not d.last_response().HasField("consensus_param_updates")  # type: ignore[union-attr]
    d.close()


PREVIOUS_CHAIN = """
import sys
sys.path.insert(0, "tests")
from chain_driver import VALIDATOR_OPERATOR, Driver, genesis_app_state, signed, transfer
from harness import addr_of
from abci_app.modules.staking.messages import MsgDelegate
d = Driver.open(sys.argv[1])
d.init_chain(genesis_app_state(4))
validator = addr_of(VALIDATOR_OPERATOR)
for i in range(4):  # delegations starting at different heights: rewards with fractions
    d.block([signed(i, [MsgDelegate(validator, (i + 1) * 3 * 10**9 + 7 * i)], 0)])
for i in range(3):
    d.block([transfer(i, i + 1, 1000 + i, 1)])
d.close()
"""

PREVIOUS_SUBNET_CHAIN = """
import sys
sys.path.insert(0, "tests")
sys.path.insert(0, "tests/unit")
from chain_driver import Driver, genesis_app_state
from test_determinism import N, subnet_blocks
d = Driver.open(sys.argv[1])
state = genesis_app_state(N)
state["subnets"] = {"params": {"min_lock_cost": 10**9}}
d.init_chain(state)
for txs in subnet_blocks(seed=3, n_blocks=30):  # stakes, weights, commits over epochs
    d.block(txs)
d.close()
"""


@pytest.fixture(scope="module")
def previous_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return previous_version(tmp_path_factory.mktemp("previous"))


def write_previous_state(previous_tree: Path, script: str, path: Path) -> None:
    """Run ``script`` (a chain written by the previous version's real code) in that version's
    tree, writing its state database at ``path``."""
    made = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=previous_tree,
        env={"PYTHONPATH": str(previous_tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr


def test_previous_version_state_migrates_once_and_deterministically(
    previous_tree: Path, tmp_path: Path
) -> None:
    commit, old_version = pinned()
    assert (previous_tree / ".ready").read_text().strip() == commit
    write_previous_state(previous_tree, PREVIOUS_CHAIN, tmp_path / "old.sqlite")
    for name in ("a", "b"):
        shutil.copy(tmp_path / "old.sqlite", tmp_path / f"{name}.sqlite")
    a, b = Driver.open(tmp_path / "a.sqlite"), Driver.open(tmp_path / "b.sqlite")
    assert a.height == b.height == 7
    assert state_version(a.app.db) == old_version == 1
    assert a.app.info(abci.RequestInfo()).app_version == old_version  # what the headers say
    # before the first block migrates it for real, CheckTx already reads the state as this
    # version does: an undelegation settles the rewards version 1 kept no outstanding for
    operator = to_bech32(addr_of(VALIDATOR_OPERATOR))
    nonce = int(json.loads(a.query(f"/account/{operator}").value)["nonce"])
    undelegate = exact_tx(  # the fee this version requires (issue 13's weights)
        VALIDATOR_OPERATOR, [MsgUndelegate(addr_of(VALIDATOR_OPERATOR), 1)], nonce
    )
    checked = a.check(undelegate)
    assert checked.code == 0, checked.log
    # and queries too: version 1 has no power index, read migrated it lists every validator
    listed = json.loads(a.query("/validators").value)
    assert listed["pagination"]["total"] == len(listed["validators"]) == 1
    a.app._reset_check_state()
    blocks = [[transfer(0, 2, 7, 2)], [], [transfer(1, 3, 9, 2)], *([[]] * 150)]
    for i, txs in enumerate(blocks):
        ha, hb = a.block(txs), b.block(txs)
        assert ha == hb  # the migration is deterministic
        resp = a.last_response()
        assert resp is not None
        upgrades = [e for e in resp.events if e.type == "upgrade"]
        if i == 0:  # migrated in the first block this version executes, and only then
            assert len(upgrades) == 1
            assert resp.consensus_param_updates.version.app == APP_VERSION
            # version 1 had no rank (power) index: the migration built it from the records,
            # exactly as set_validator keeps it, with the list counts
            (built,) = [e for e in resp.events if e.type == "migrate_staking_index"]
            attrs = {a.key: a.value for a in built.attributes}
            assert attrs["validators"] == str(len(all_validators(a.app.db)))
            assert index_problems(a.app.db) == []
            params = get_params(a.app.db)
            assert indexed_active_set(a.app.db, params) == active_set(
                all_validators(a.app.db), params
            )
            assert pair_index_problems(a.app.db) == []  # unbonding/redelegation pairs indexed
            # version 1's genesis had CometBFT's block.max_gas -1 (no bound): the migration
            # gives the chain the default block weight bound, enforced by the app from now on
            (gas,) = [e for e in resp.events if e.type == "migrate_block_max_gas"]
            assert {x.key: x.value for x in gas.attributes} == {"max_gas": "1000000"}
            assert a.app.db.get(MAX_GAS) == encode_u64(DEFAULT_BLOCK_MAX_GAS)
        else:
            assert not upgrades and not resp.HasField("consensus_param_updates")
    assert state_version(a.app.db) == APP_VERSION
    assert a.app.info(abci.RequestInfo()).app_version == APP_VERSION
    a.close()
    b.close()


def test_a_crash_in_the_migration_block_migrates_once(previous_tree: Path, tmp_path: Path) -> None:
    """Killed in block H+1, where the migration runs: before the write (finalize:after,
    commit:before_write) nothing of it is on disk and CometBFT replays the block, which
    migrates again to the same app hash; after the write (commit:after_write) the state is
    version 2 and CometBFT's handshake replays that block from its saved responses without the
    app, whose next block must not migrate a second time."""
    write_previous_state(previous_tree, PREVIOUS_CHAIN, tmp_path / "old.sqlite")
    path = tmp_path / "old.sqlite"
    txs = [transfer(0, 2, 7, 2)]
    first = Driver.open(path)
    halt = first.height
    before_write = first.finalize(txs)  # then killed: FinalizeBlock never persists
    first.close()
    replay = Driver.open(path)
    assert (replay.height, state_version(replay.app.db)) == (halt, 1)
    again = replay.finalize(txs)
    assert again.app_hash == before_write.app_hash
    assert [e.type for e in again.events].count("upgrade") == 1
    replay.app.commit()  # written, then killed before answering
    replay.close()
    after = Driver.open(path)
    assert (after.height, state_version(after.app.db)) == (halt + 1, APP_VERSION)
    assert after.app.info(abci.RequestInfo()).app_version == APP_VERSION
    nxt = after.finalize([transfer(1, 3, 9, 2)])
    assert not [e for e in nxt.events if e.type == "upgrade"]
    assert not nxt.HasField("consensus_param_updates")
    after.app.commit()
    after.close()


def test_previous_version_subnet_state_migrates_and_runs_epochs(
    previous_tree: Path, tmp_path: Path
) -> None:
    """Subnets, stakes, weights and pending commits written by the previous version: after
    the migration the epochs keep running with every invariant checked each block."""
    write_previous_state(previous_tree, PREVIOUS_SUBNET_CHAIN, tmp_path / "old.sqlite")
    d = Driver.open(tmp_path / "old.sqlite")
    assert state_version(d.app.db) == 1
    epochs = 0
    for _ in range(40):
        d.block([])
        resp = d.last_response()
        assert resp is not None
        epochs += sum(e.type == "subnet_epoch" for e in resp.events)
    assert state_version(d.app.db) == APP_VERSION
    assert epochs >= 4
    d.close()


def _files(tar_bytes: bytes) -> dict[str, bytes]:
    """{path: content} of the regular files of a tar archive (gzip or plain)."""
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def test_the_fallback_archive_is_exactly_the_pinned_commit() -> None:
    """A shallow clone runs the upgrade from e2e/previous/app-v<N>.tar.gz: it must hold the
    pinned commit's files, byte for byte (checked wherever the commit is in the checkout)."""
    commit, version = pinned()
    archived = _files(archive_path(version).read_bytes())
    assert "abci_app/app.py" in archived and "scripts/gen_proto.py" in archived
    tree = git_tree(commit, ARCHIVED_PATHS)
    if tree is None:  # this checkout is shallow: the archive is all there is to check
        return
    assert archived == _files(tree)


def test_a_shallow_clone_runs_the_previous_version_from_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the commit in git (as in a shallow clone), the tree comes from the archive and
    its own stubs are generated: the same files as from git."""
    monkeypatch.setattr(versions, "git_tree", lambda commit, paths=(): None)
    tree = previous_version(tmp_path)
    assert (tree / "abci_app" / "_proto").is_dir()
    _, version = pinned()
    for name, content in _files(archive_path(version).read_bytes()).items():
        assert (tree / name).read_bytes() == content, name


def test_a_halted_previous_version_state_exports_as_this_version_reads_it(
    previous_tree: Path, tmp_path: Path
) -> None:
    """The export-and-restart upgrade (Cosmos style): every node halts on the previous version,
    then this version exports the halted state as the new chain's genesis. The export reads the
    state through the migrations (as CheckTx does before the first block), so it is this
    version's schema, passes every rule InitChain checks, and the new chain starts with exactly
    that state (exported again, it is the same genesis) and runs on. (Exporting the raw
    version-1 records failed: version 1 keeps no outstanding rewards, so "distribution pool
    holds ... but the validators owe ...". The state root differs from the in-place migration's
    only by encoding: that migration leaves version 1's JSON params and validator records as
    they are, which this version reads with its defaults.)"""
    write_previous_state(previous_tree, PREVIOUS_CHAIN, tmp_path / "old.sqlite")
    db = StateDB(tmp_path / "old.sqlite")
    assert state_version(db) == 1
    halted = (db.height, db.app_hash)
    exported = genesis_file.export(db, {})
    db.close()
    genesis_file.validate(exported)  # every rule InitChain enforces
    again = StateDB(tmp_path / "old.sqlite")
    assert (again.height, again.app_hash) == halted and state_version(again) == 1  # unchanged
    again.close()
    assert exported["initial_height"] == str(halted[0] + 1)
    fresh = Driver.open(tmp_path / "new.sqlite")
    fresh.app.init_chain(
        abci.RequestInitChain(
            chain_id=exported["chain_id"],
            app_state_bytes=json.dumps(exported["app_state"]).encode(),
            initial_height=halted[0] + 1,
        )
    )
    assert fresh.app.genesis is not None
    assert export_app_state(fresh.app.genesis).to_dict() == exported["app_state"]
    fresh.height = halted[0]
    for i in range(3):  # the new chain runs on, every invariant checked each block
        fresh.block([transfer(i, i + 1, 1000, 2)])
    assert state_version(fresh.app.db) == APP_VERSION
    fresh.close()


def test_a_state_newer_than_this_app_is_not_exported(tmp_path: Path) -> None:
    """Never read a newer schema as if it were ours: one clear error, nothing written."""
    d = Driver.open(tmp_path / "s.sqlite")
    d.init_chain(genesis_app_state(2))
    d.block([])
    newer = Overlay(d.app.db)
    set_version(newer, APP_VERSION + 1)
    d.app.db.commit(d.app.db.stage(d.height, newer.writes))
    with pytest.raises(InvalidGenesis, match="newer version of moderntensor"):
        genesis_file.export(d.app.db, {})
    d.close()


def test_the_2_to_3_migration_rebuilds_what_the_writers_keep(tmp_path: Path) -> None:
    """A version-2-shaped state (a chain with merged unbonding entries, redelegations, stake
    positions, with everything version 3 added taken out: rank index, counts, pair indexes,
    position counts, block.max_gas) migrates to exactly the state this version's writers kept,
    plus the default block.max_gas; a second run of the step writes the same bytes
    (idempotent), and two runs over the same state write the same (deterministic)."""
    from chain_driver import Sender

    from abci_app.modules.staking.messages import (
        MsgCreateValidator,
        MsgDelegate,
        MsgRedelegate,
    )
    from abci_app.modules.subnets.messages import (
        MsgAddSubnetStake,
        MsgRegisterNeuron,
        MsgRegisterSubnet,
    )
    from abci_app.state.keys import (
        COUNT,
        REDELEGATION,
        REDELEGATION_BY_PAIR,
        STAKE_BY,
        STAKE_COUNT,
        UNBONDING,
        UNBONDING_BY_PAIR,
        VALIDATOR_RANK,
    )
    from abci_app.upgrades import MIGRATIONS

    d = Driver.open(tmp_path / "v.sqlite")
    d.init_chain(genesis_app_state(8, staking_params={"unbonding_blocks": 1_000}))
    s = Sender()
    mdt = 10**9
    ops = [addr_of_seeded(i) for i in range(3)]
    creates = [
        s.tx(i, MsgCreateValidator(consensus_key(i), (2 + i) * mdt, f"v{i}", "", 0, 0, 0))
        for i in range(3)
    ]
    assert d.block(creates)[1] == [0, 0, 0]
    delegate = [s.tx(i, MsgDelegate(op, 5 * mdt)) for i in (4, 5) for op in ops]
    assert set(d.block(delegate)[1]) == {0}
    moves = [  # the same pair twice in a block: one entry, amounts added
        s.tx(4, MsgUndelegate(ops[0], mdt)),
        s.tx(4, MsgUndelegate(ops[0], mdt)),
        s.tx(5, MsgUndelegate(ops[1], mdt), MsgUndelegate(ops[2], 2 * mdt)),
        s.tx(4, MsgRedelegate(ops[1], ops[2], mdt)),
        s.tx(4, MsgRedelegate(ops[1], ops[2], mdt)),
        s.tx(5, MsgRedelegate(ops[0], ops[1], mdt)),
    ]
    assert set(d.block(moves)[1]) == {0}
    assert set(d.block([s.tx(5, MsgUndelegate(ops[0], mdt))])[1]) == {0}
    assert d.block([s.tx(6, MsgRegisterSubnet(10**15))])[1] == [0]
    assert d.block([s.tx(6, MsgRegisterNeuron(1, 10**15))])[1] == [0]
    assert d.block([s.tx(4, MsgAddSubnetStake(1, addr_of_seeded(6), mdt))])[1] == [0]
    full = dict(d.app.db.store.iter_prefix(b""))
    assert sum(k.startswith(UNBONDING) for k in full) == 4  # 3 in one block, 1 after
    assert sum(k.startswith(REDELEGATION) for k in full) == 2  # the two 1 -> 2 merged
    assert MAX_GAS not in full  # the driver's InitChain gives no block.max_gas

    def as_version_2() -> Overlay:
        v2 = Overlay(d.app.db)
        for prefix in (VALIDATOR_RANK, COUNT, UNBONDING_BY_PAIR, REDELEGATION_BY_PAIR):
            for k, _ in list(v2.iter_prefix(prefix)):
                v2.delete(k)
        for k, _ in list(v2.iter_prefix(STAKE_COUNT)):
            v2.delete(k)
        set_version(v2, 2)
        return v2

    a, b = as_version_2(), as_version_2()
    assert [e.type for e in migrate(a)][-1] == "upgrade"
    migrate(b)
    assert sorted(a.writes.items()) == sorted(b.writes.items())  # deterministic
    after = dict(a.iter_prefix(b""))
    changed = {k for k in full.keys() | after.keys() if full.get(k) != after.get(k)}
    assert changed == {MAX_GAS} and after[MAX_GAS] == encode_u64(DEFAULT_BLOCK_MAX_GAS)
    assert any(k.startswith(STAKE_BY) for k in after) and index_problems(a) == []
    assert pair_index_problems(a) == []
    once = dict(a.writes)
    MIGRATIONS[3](a)  # again: nothing changes
    assert a.writes == once
    d.close()


def addr_of_seeded(i: int) -> bytes:
    from harness import seeded_key

    return addr_of(seeded_key(i))


def consensus_key(i: int) -> bytes:
    from harness import seeded_key

    return bytes(seeded_key(80_000 + i).verify_key)


@pytest.mark.parametrize(
    ("stored", "migrated"),
    [
        (None, 1_000_000),  # before block weights: CometBFT's -1, nothing stored
        (2_000_000, 2_000_000),  # a bound in range stays
        (10_000_000, 10_000_000),
        (10_000_001, 10_000_000),  # version 2 stored any value above 0: cut to the maximum
        (2**63, 10_000_000),
    ],
)
def test_the_2_to_3_migration_bounds_block_max_gas(stored: int | None, migrated: int) -> None:
    """Version 2's InitChain kept any block.max_gas above 0 (no range check before
    weights.check_max_gas): a chain with 2^63 had no block weight bound after the migration,
    while a new chain may not set more than MAX_BLOCK_GAS (10,000,000, ~10 s of execution).
    The step gives it MAX_BLOCK_GAS and says so in an event; a bound in range is kept, with no
    event."""
    from abci_app.upgrades import MIGRATIONS

    state = Overlay(Mem())
    if stored is not None:
        state.set(MAX_GAS, encode_u64(stored))
    set_version(state, 2)
    events = MIGRATIONS[3](state)
    assert state.get(MAX_GAS) == encode_u64(migrated)
    gas = [e for e in events if e.type == "migrate_block_max_gas"]
    if stored == migrated:
        assert gas == []
    else:
        assert [{x.key: x.value for x in e.attributes} for e in gas] == [{"max_gas": str(migrated)}]
