"""The e2e runner's parts that need no node: manifest rules, the P2P proxy, crash-point parsing,
the report table."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from abci_app.crashpoints import CRASH_POINTS, CrashPlan, CrashPointError, parse_crash_plan
from abci_app.e2e.invariants import Check
from abci_app.e2e.manifest import ManifestError, load_manifest, parse_manifest
from abci_app.e2e.proxy import ProxyHub
from abci_app.e2e.report import Report, table

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
