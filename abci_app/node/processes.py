"""A home's running processes, found from their command lines, and how to stop them.

``moderntensor node stop`` must stop a home's node wherever it was started: by ``node start``
(the supervisor and its two children), by ``localnet start``, or as two separate processes
(``node app`` and ``cometbft start``, e.g. under systemd). Pid files would miss the last two
and go stale after a crash, so the processes are found in ``/proc``: a process belongs to a home
when it runs one of ours (``cometbft start``; or the ``moderntensor`` command, as its console
script or ``python [options] -m abci_app``, whose command is ``node start`` or ``node app``:
another program whose arguments merely contain these words or the home's path is not) and its
``--home`` (resolved against that process's own working directory; else the CLI's default home
as that process saw it) is the home (for cometbft: ``<home>/cometbft``). A pid whose command
line does not match is never signalled, so a reused pid is safe. Linux only (``/proc``).

Children are also bound to their parent's life (``bind_to_parent``): with Linux's
``PR_SET_PDEATHSIG`` the kernel signals a child when the supervisor dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..client.keyring.passphrase import PASSPHRASE_ENV

PR_SET_PDEATHSIG = 1
"""prctl option (linux/prctl.h): signal to deliver to this process when its parent dies."""

ROLES = ("supervisor", "cometbft", "app")
"""Stop order: the supervisor first (it stops its children), then cometbft, then the app (the
app is the one cometbft dials: stopping it first makes cometbft complain)."""


@dataclass(frozen=True)
class NodeProcess:
    pid: int
    role: str
    """``supervisor`` (node start), ``app`` (node app) or ``cometbft``."""
    argv: tuple[str, ...]


def bind_to_parent(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen`` that makes the kernel send ``sig`` to the child
    when the parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``); None where it is unavailable.

    If the parent is already gone when the child sets it up, the child kills itself with
    ``sig`` at once (the kernel would not signal it any more)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec
        prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)

    return preexec


SECRET_ENV = (PASSPHRASE_ENV,)
"""Environment variables a node's processes never need: the keyring passphrase a shell may hold
for its own CLI commands (the app and cometbft sign nothing with account keys)."""


def child_env() -> dict[str, str]:
    """The environment for a node's child processes (app, cometbft): this process's, without
    :data:`SECRET_ENV` (a child's environment is readable in ``/proc/<pid>/environ`` for its
    whole life and passes on to whatever it starts)."""
    return {k: v for k, v in os.environ.items() if k not in SECRET_ENV}


def _argv(pid: int) -> tuple[str, ...] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return tuple(a.decode(errors="replace") for a in raw.split(b"\0") if a)


def _environ(pid: int, name: str) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    prefix = name.encode() + b"="
    for item in raw.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix) :].decode(errors="replace")
    return None


def _option(argv: tuple[str, ...], name: str) -> str | None:
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1 :]
    return None


def _follows(argv: tuple[str, ...], first: str, second: str) -> bool:
    return any(a == first and b == second for a, b in itertools.pairwise(argv))


def _resolve(pid: int, path: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_absolute():
        try:
            p = Path(os.readlink(f"/proc/{pid}/cwd")) / p
        except OSError:
            return p
    return p.resolve()


_PY_VALUE_OPTIONS = frozenset({"-X", "-W", "-Q"})
"""Interpreter options that take the next argument as their value."""
_CLI_VALUE_OPTIONS = frozenset(
    {"--home", "--node", "--output", "-o", "--timeout", "--keyring-backend", "--passphrase-file"}
)
"""The CLI's global options that take a value (``cli/grammar.py``)."""


def _cli_args(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """The arguments given to the ``moderntensor`` command if ``argv`` runs it: the console
    script itself, or a Python interpreter (with any options of its own) running the
    ``moderntensor`` script or ``-m abci_app``. None for any other program, whatever its
    arguments say (an editor on a file called moderntensor is not a node)."""
    if not argv:
        return None
    if Path(argv[0]).name == "moderntensor":
        return argv[1:]
    if not Path(argv[0]).name.startswith("python"):
        return None
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "-m":
            return argv[i + 2 :] if argv[i + 1 : i + 2] == ("abci_app",) else None
        if a in ("-c", "-"):
            return None  # a program given inline or on stdin
        if a in _PY_VALUE_OPTIONS:
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        return argv[i + 1 :] if Path(a).name == "moderntensor" else None
    return None


def _command(args: tuple[str, ...]) -> tuple[str, ...]:
    """The first two words of a ``moderntensor`` command line that are not options or option
    values (``--home X node start`` -> ``("node", "start")``)."""
    words: list[str] = []
    i = 0
    while i < len(args) and len(words) < 2:
        a = args[i]
        if a in _CLI_VALUE_OPTIONS:
            i += 2
            continue
        if not a.startswith("-"):
            words.append(a)
        i += 1
    return tuple(words)


_ROLE_OF_COMMAND: dict[tuple[str, ...], str] = {
    ("node", "app"): "app",
    ("node", "start"): "supervisor",
}


def _role(argv: tuple[str, ...]) -> str | None:
    if not argv:
        return None
    if Path(argv[0]).name == "cometbft":
        return "cometbft" if argv[1:2] == ("start",) else None
    args = _cli_args(argv)
    if args is None:
        return None
    return _ROLE_OF_COMMAND.get(_command(args))


def _home_of(pid: int, argv: tuple[str, ...], role: str) -> Path | None:
    if role == "cometbft":
        given = _option(argv, "--home")
        return _resolve(pid, given).parent if given else None
    args = _cli_args(argv) or ()
    given = _option(args, "--home")
    if given is None:  # the CLI's default home: $MODERNTENSOR_HOME, ./.data, ~/.moderntensor
        given = _environ(pid, "MODERNTENSOR_HOME")
    if given is None:
        local = _resolve(pid, ".data")
        if local.is_dir():
            return local
        user_home = _environ(pid, "HOME")
        return _resolve(pid, f"{user_home}/.moderntensor") if user_home else None
    return _resolve(pid, given)


def node_process(pid: int) -> tuple[NodeProcess, Path] | None:
    """The node process ``pid`` runs (its role) and the home it belongs to, or None if ``pid``
    is gone, a zombie, or not a node process (this rule is the only one: ``node stop`` and
    ``localnet stop`` both ask it)."""
    argv = _argv(pid)
    if argv is None or is_zombie(pid):
        return None
    role = _role(argv)
    if role is None:
        return None
    home = _home_of(pid, argv, role)
    return None if home is None else (NodeProcess(pid, role, argv), home)


def find_node_processes(home: Path) -> list[NodeProcess]:
    """This home's supervisor, app and cometbft processes that are alive, in stop order."""
    target = home.expanduser().resolve()
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        got = node_process(int(entry.name))
        if got is not None and got[1] == target:
            found.append(got[0])
    return sorted(found, key=lambda p: (ROLES.index(p.role), p.pid))


def is_zombie(pid: int) -> bool:
    """True if ``pid`` has exited (a zombie waiting for its parent, or gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


def _still(proc: NodeProcess) -> bool:
    return not is_zombie(proc.pid) and _argv(proc.pid) == proc.argv


def signal_if(pid: int, sig: int, check: Callable[[int], bool]) -> bool:
    """Send ``sig`` to ``pid`` if ``check(pid)`` holds (it is still the process we mean);
    return whether it was sent. The process is pinned with a pidfd (Linux 5.3+) before the
    check, so a pid that ends and is reused between the check and the signal is never
    signalled: the signal goes to the pinned process or nowhere. Where pidfds are missing, the
    check and ``kill`` follow each other as closely as they can."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except (OSError, AttributeError):  # no pidfd here: check, then kill
        if not check(pid):
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
            return True
        return False
    try:
        if not check(pid):
            return False
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(fd, sig)
            return True
        return False
    finally:
        os.close(fd)


def _signal(proc: NodeProcess, sig: int) -> None:
    # only while the pid still runs the command we found (not a reused pid)
    signal_if(proc.pid, sig, lambda pid: _still(proc))


def _wait_gone(procs: list[NodeProcess], timeout: float) -> list[NodeProcess]:
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if _still(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if _still(p)]
    return alive


def stop_node_processes(home: Path, timeout: float = 15.0) -> list[NodeProcess]:
    """Stop this home's node however it was started; return the processes found.

    The supervisor gets SIGTERM (and stops its children); then any cometbft and app left get
    SIGTERM; whatever still runs after ``timeout`` seconds per step gets SIGKILL (cometbft's
    graceful stop can hang; both are crash-safe)."""
    procs = find_node_processes(home)
    for role in ROLES:
        group = [p for p in procs if p.role == role]
        for p in group:
            _signal(p, signal.SIGTERM)
        for p in _wait_gone(group, timeout):
            _signal(p, signal.SIGKILL)
        _wait_gone(group, 5.0)
    return procs
