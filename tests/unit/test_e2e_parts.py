"""The e2e runner's parts that need no node: manifest rules, the P2P proxy, crash-point parsing,
the report table."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from abci_app.crashpoints import (
    CRASH_POINTS,
    ENV_VAR,
    CrashPlan,
    CrashPointError,
    parse_crash_plan,
)
from abci_app.e2e import invariants
from abci_app.e2e.invariants import Check
from abci_app.e2e.manifest import ManifestError, load_manifest, parse_manifest
from abci_app.e2e.network import Network, Node
from abci_app.e2e.proxy import ProxyHub
from abci_app.e2e.report import Report, table
from abci_app.e2e.runner import Stopped, StopSignals
from abci_app.node.home import NodeHome
from abci_app.node.plan import NodePlan

REPO = Path(__file__).resolve().parents[2]


def test_every_shipped_manifest_is_valid() -> None:
    names = []
    for path in sorted((REPO / "e2e" / "manifests").glob("*.toml")):
        names.append(load_manifest(path).name)
    assert "short" in names


BASE = {"validators": 4, "blocks": 20}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"validatorz": 4}, "unknown key 'validatorz'"),
        ({"workload": {"transfer_per_block": 3}}, "unknown key 'transfer_per_block'"),
        ({"perturb": [{"at_height": 3, "node": "validator1", "action": "explode"}]}, "action"),
        ({"perturb": [{"at_height": 3, "node": "validator9", "action": "kill"}]}, "no node"),
        ({"perturb": [{"at_height": 3, "node": "validator1", "action": "kill", "x": 1}]}, "'x'"),
        (
            {"perturb": [{"at_height": 3, "node": "validator1", "action": "crash_at"}]},
            "point",
        ),
        (
            {
                "perturb": [
                    {"at_height": 3, "node": "validator1", "action": "crash_at", "point": "x:y"}
                ]
            },
            "point 'x:y'",
        ),
        (
            {
                "perturb": [
                    {
                        "at_height": 5,
                        "node": "validator1",
                        "action": "crash_at",
                        "point": "init_chain:after",
                    }
                ]
            },
            "first start",
        ),
        ({"perturb": [{"at_height": 3, "node": "validator1", "action": "upgrade"}]}, "'all'"),
        (
            {
                "perturb": [
                    {"at_height": 3, "node": f"validator{i}", "action": "kill"} for i in range(4)
                ]
            },
            "at least one validator",
        ),
        ({"state_sync": True}, "state_sync needs"),
        ({"blocks": "many"}, "blocks must be an integer"),
        ({"validators": 0}, "out of range"),
        ({"perturb": {"at_height": 1}}, "array of tables"),
        (
            {
                "perturb": [
                    {"at_height": 3, "node": "validator1", "action": "kill", "duration_blocks": 2}
                ]
            },
            "only for pause",
        ),
    ],
)
def test_manifest_rules_name_the_bad_key(extra: dict[str, object], message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        parse_manifest({**BASE, **extra}, "m")


def _kill(at: int, node: str = "validator1", **kw: object) -> dict[str, object]:
    return {"at_height": at, "node": node, "action": "kill", **kw}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # values the old rules let through, each of which broke the run only later (a CometBFT
        # that does not start, a wait until the timeout, a leaked process, a skipped fault)
        ({"chain_id": ""}, "chain_id '': 1-50"),
        ({"chain_id": "x" * 51}, "1-50 letters"),
        ({"chain_id": 'a"b\n'}, "1-50 letters"),
        ({"timeout_commit": "soon"}, "timeout_commit 'soon'"),
        ({"timeout_commit": "-5s"}, "a duration like"),
        ({"timeout_commit": "100000h"}, "a duration like"),
        ({"timeout_commit": "0ms"}, "from 10ms to 60s"),
        ({"timeout_seconds": 10**9}, "out of range"),
        ({"perturb": [_kill(10**9)]}, "below blocks = 20"),
        ({"perturb": [_kill(20)]}, "below blocks = 20"),
        (
            {"perturb": [{**_kill(18), "action": "pause", "duration_blocks": 1000}]},
            "applied and undone below blocks",
        ),
        ({"perturb": [{"at_height": 25, "node": "all", "action": "upgrade"}]}, "below blocks"),
        ({"perturb": [_kill(5)] * 1000}, "1000 perturbations \\(at most 100"),
        (
            {"full_nodes": 1, "join_height": 15, "perturb": [_kill(3, "full0")]},
            "full0 joins at join_height = 15: perturb it after",
        ),
        (
            {
                "perturb": [
                    {**_kill(0), "action": "crash_at", "point": "init_chain:after"},
                    {**_kill(0), "action": "crash_at", "point": "init_chain:after"},
                ]
            },
            "one first start",
        ),
        ({"validators": 1}, "at least two nodes"),
        ({"workload": {"transfers_per_block": 0}}, "it sends nothing"),
    ],
)
def test_hostile_manifest_values_are_one_line_errors(
    extra: dict[str, object], message: str
) -> None:
    with pytest.raises(ManifestError, match=message) as e:
        parse_manifest({**BASE, **extra}, "m")
    assert "\n" not in str(e.value) and len(str(e.value)) < 300


def test_every_app_start_before_an_upgrade_has_the_halt_height(tmp_path: Path) -> None:
    """A node killed, restarted or crashed before the upgrade starts again on the previous
    version: it must halt at the agreed height like the others. (Its restart had no
    --halt-height before: it went on past the halt alone and the upgrade waited in vain.)"""
    m = parse_manifest(
        {**BASE, "perturb": [_kill(4), {"at_height": 10, "node": "all", "action": "upgrade"}]},
        "m",
    )
    hub = ProxyHub()
    try:
        net = Network(m, tmp_path, hub, previous=tmp_path / "previous")
        node = Node(
            "validator1",
            NodePlan.at("node1", 1, True, 30000),
            NodeHome(tmp_path / "node1"),
            "validator",
        )
        for env in (None, {ENV_VAR: "commit:after_write@6"}):  # any start: first, kill, crash
            cmd, full_env = net.app_command(node, env)
            assert cmd[-2:] == ["--halt-height", "10"]
            assert full_env["PYTHONPATH"] == str(tmp_path / "previous")
        net.on_previous = False  # after the upgrade: this version, no halt
        cmd, full_env = net.app_command(node)
        assert "--halt-height" not in cmd
        assert full_env.get("PYTHONPATH") != str(tmp_path / "previous")
        assert ENV_VAR not in full_env  # a crash point only where the runner asks for one
    finally:
        hub.close()


def test_no_invariant_holds_vacuously(tmp_path: Path) -> None:
    """A check with nothing to check fails and says so: no node up, no height two nodes share,
    no height with its next block, no database, no memory sample. (Each of these passed
    before: e.g. agreement over zero common heights was "0 heights compared", held.)"""
    m = parse_manifest(BASE, "m")
    hub = ProxyHub()
    try:
        net = Network(m, tmp_path, hub)
        checks = [
            invariants.liveness(net, [], 20, 1.0),
            invariants.agreement([])[0],
            invariants.own_app_hashes([]),
            invariants.stored_state(net),
            invariants.memory(net, 512),
        ]
    finally:
        hub.close()
    for c in checks:
        assert not c.held, c
        assert c.detail, c


def test_validator_sets_follow_the_updates_exactly() -> None:
    """The set at H+2 is the set at H+1 with the updates of H: also a change nobody returned,
    or one applied a block early, breaks it (the old check looked only at updated keys)."""
    a, b, c = "A" * 44, "B" * 44, "C" * 44
    sets = {1: {a: 10, b: 10}, 2: {a: 10, b: 10}, 3: {a: 15, b: 10}, 4: {a: 15}, 5: {a: 15}}
    updates = {1: {a: 15}, 2: {b: 0}}
    assert invariants.set_changes_follow_updates(sets, updates) == []
    early = {**sets, 2: {a: 15, b: 10}}  # the update of 1 already in force at 2
    assert "set at 2" in invariants.set_changes_follow_updates(early, updates)[0]
    unasked = {**sets, 5: {a: 15, c: 1}}  # a validator nobody returned
    assert "set at 5" in invariants.set_changes_follow_updates(unasked, updates)[0]
    lost = {**sets, 4: {a: 15, b: 10}}  # the removal of 2 never applied
    assert "set at 4" in invariants.set_changes_follow_updates(lost, updates)[0]


def test_a_stop_signal_raises_once_and_cannot_cut_the_cleanup_short() -> None:
    """The first SIGHUP/SIGTERM/SIGINT stops the run (raises in the main thread); once the
    cleanup has begun (disarmed), another is only recorded: it must not interrupt the stopping
    of the nodes. The handlers are put back afterwards."""
    before = signal.getsignal(signal.SIGTERM)
    with StopSignals() as signals:
        with pytest.raises(Stopped, match="SIGHUP"):
            os.kill(os.getpid(), signal.SIGHUP)
            for _ in range(100):  # the handler runs between bytecodes; bounded wait
                time.sleep(0.01)
        signals.disarm()
        os.kill(os.getpid(), signal.SIGTERM)  # during the cleanup: recorded, not raised
        time.sleep(0.05)
        assert signals.caught == "SIGHUP"
    assert signal.getsignal(signal.SIGTERM) == before


def test_manifest_submitters_avoid_process_perturbed_validators() -> None:
    m = parse_manifest(
        {
            **BASE,
            "perturb": [
                {"at_height": 3, "node": "validator0", "action": "kill"},
                {"at_height": 4, "node": "validator1", "action": "disconnect"},
            ],
        },
        "m",
    )
    assert m.submitters() == ["validator1", "validator2", "validator3"]


def test_unreadable_manifest_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("validators = [")
    with pytest.raises(ManifestError, match="not valid TOML"):
        load_manifest(bad)
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "missing.toml")


def test_crash_plan_parsing() -> None:
    assert parse_crash_plan("") == CrashPlan()
    assert parse_crash_plan("commit:after_write@12") == CrashPlan("commit:after_write", 12)
    for point in CRASH_POINTS:
        assert parse_crash_plan(point).point == point
    with pytest.raises(CrashPointError, match="unknown crash point"):
        parse_crash_plan("commit:later")
    with pytest.raises(CrashPointError, match="after '@'"):
        parse_crash_plan("commit:after_write@soon")
    CrashPlan("finalize:after", 10).hit("finalize:after", 9)  # not yet: returns
    CrashPlan("finalize:after", 0).hit("commit:after_write", 50)  # another point: returns


def _echo_server() -> tuple[socket.socket, int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=_echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return srv, srv.getsockname()[1]


def _echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)


def test_proxy_forwards_then_cut_resets_and_refuses_then_mend_restores() -> None:
    srv, port = _echo_server()
    hub = ProxyHub()
    try:
        link = hub.add("a", "b", port)
        other = hub.add("c", "d", port)
        c = socket.create_connection(("127.0.0.1", link.port), timeout=5)
        c.sendall(b"ping")
        assert c.recv(4) == b"ping"
        assert hub.connections("a") == 2 and link.bytes == 8
        assert hub.cut("b") == 1  # every link from or to b: only a->b
        with pytest.raises(OSError):
            c.sendall(b"x" * 100_000)
            assert c.recv(4) == b""  # an orderly close would also end the stream
            raise ConnectionResetError
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", link.port), timeout=2)
        d = socket.create_connection(("127.0.0.1", other.port), timeout=5)  # c->d untouched
        d.sendall(b"pong")
        assert d.recv(4) == b"pong"
        hub.mend("b")
        e = socket.create_connection(("127.0.0.1", link.port), timeout=5)
        e.sendall(b"back")
        assert e.recv(4) == b"back"
        for s in (c, d, e):
            s.close()
    finally:
        hub.close()
        srv.close()


def test_report_table_lists_failures() -> None:
    ok = Report("a", ["killed x"], [Check("c1", True)], 40, 100, 12.3)
    bad = Report("b", [], [Check("c1", True), Check("c2", False, "why")], 10, 0, 5)
    text = table([ok, bad])
    assert text.splitlines()[0].split() == [
        "manifest",
        "perturbations",
        "applied",
        "invariants",
        "held",
        "blocks",
        "txs",
        "committed",
        "time",
    ]
    assert "1/2" in text and "FAILED b: c2: why" in text
    assert ok.held and not bad.held and not Report("empty").held


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    """A missing or bad manifest and a bad crash point are one-line errors, no traceback."""
    from harness import run_cli

    from abci_app.node.home import NodeConfig, NodeHome

    res = run_cli(tmp_path, "e2e", "run", str(tmp_path / "missing.toml"))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        f"Error: cannot read {tmp_path / 'missing.toml'}: No such file or directory"
    ]
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'validators = 4\n[[perturb]]\nat_height = 3\nnode = "validator7"\naction = "kill"\n'
    )
    res = run_cli(tmp_path, "e2e", "run", str(bad))
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "no node 'validator7'" in res.stderr
    NodeHome(tmp_path / "home").save_config(NodeConfig("c", "m", 1, 2, 3, 4, 0))
    env_cmd = ["env", "MODERNTENSOR_CRASH_AT=commit:sometime"]
    import subprocess
    import sys

    res = subprocess.run(
        [
            *env_cmd,
            sys.executable,
            "-m",
            "abci_app",
            "--home",
            str(tmp_path / "home"),
            "node",
            "app",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "unknown crash point 'commit:sometime'" in res.stderr
