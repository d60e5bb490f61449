"""``moderntensor doctor``: check a node and a key and say what is wrong and what to do.

Each check is a function returning :class:`Check` results (``ok``, ``warn`` or ``fail``, a
one-line detail and, when not ok, a hint), so scripts and tests use them without the CLI. They
read only public RPC (``/status``, ``/net_info``, ``/abci_info``) and the app's queries; a check
that cannot run (the node is down) fails with that reason instead of raising.

Checks: the node answers; it is synced (not catching up, the last block is recent); it has
peers; the app and cometbft versions; free disk space in the home; for a validator operator key:
in the active set, not jailed or tombstoned, blocks missed in the signing window against the
jail threshold; for a hotkey: on each subnet where it is registered, blocks since its last
weights against the rate limit and the tempo, and a pending commit with its reveal window.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..client.light import time_ns
from ..client.rpc import NodeUnreachable, RPCClient, RPCError
from ..params import RATE_ONE

OK, WARN, FAIL = "ok", "warn", "fail"
STALE_BLOCK_S = 60
"""A last block older than this means the chain or this node is stalled."""
MIN_FREE_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    hint: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def _query(rpc: RPCClient, path: str) -> Any:
    res = rpc.abci_query(path)
    if res.code != 0:
        raise RPCError(f"{path}: code {res.code}: {res.log}")
    return res.json()


def check_node(rpc: RPCClient, now_ns: Callable[[], int] = time.time_ns) -> list[Check]:
    """Reachability, sync status, block age, peers and versions."""
    try:
        status = rpc.status()
    except (NodeUnreachable, RPCError) as e:
        return [Check("node", FAIL, str(e), "start the node (`node start`) or check --node")]
    info = status["sync_info"]
    out = [Check("node", OK, f"{status['node_info']['network']} at {rpc.url}")]
    height = int(info["latest_block_height"])
    if info.get("catching_up"):
        out.append(
            Check("sync", WARN, f"catching up, at height {height}", "wait until it has synced")
        )
    else:
        out.append(Check("sync", OK, f"synced, height {height}"))
    if height > 0:
        age_s = (now_ns() - time_ns(info["latest_block_time"])) // 10**9
        if age_s > STALE_BLOCK_S:
            out.append(
                Check(
                    "blocks",
                    FAIL,
                    f"last block {age_s}s ago",
                    "the chain or this node is stalled: see the cometbft log and peers",
                )
            )
        else:
            out.append(Check("blocks", OK, f"last block {max(age_s, 0)}s ago"))
    try:
        peers = int(rpc.call("net_info")["n_peers"])
        validators = int(rpc.call("validators", per_page="1")["total"])
    except (NodeUnreachable, RPCError) as e:
        out.append(Check("peers", WARN, f"net_info: {e}"))
    else:
        if peers == 0 and validators > 1:
            out.append(
                Check(
                    "peers",
                    FAIL,
                    "no peers while the chain has several validators",
                    "set persistent_peers or seeds in config.toml; check the P2P port",
                )
            )
        elif peers < 2 and validators > 1:
            out.append(Check("peers", WARN, f"{peers} peer", "add peers for resilience"))
        else:
            out.append(Check("peers", OK, f"{peers} peers, {validators} validators"))
    try:
        abci = rpc.call("abci_info")["response"]
        out.append(
            Check(
                "versions",
                OK,
                f"cometbft {status['node_info']['version']}, app {abci.get('version', '?')} "
                f"at height {abci.get('last_block_height', 0)}",
            )
        )
    except (NodeUnreachable, RPCError) as e:
        out.append(Check("versions", WARN, f"abci_info: {e}"))
    return out


def check_disk(home: Path, min_free: int = MIN_FREE_BYTES) -> list[Check]:
    """Free space where the home is."""
    where = home if home.exists() else Path.cwd()
    usage = shutil.disk_usage(where)
    free_gib = usage.free / 1024**3
    if usage.free < min_free:
        return [
            Check(
                "disk",
                FAIL,
                f"{free_gib:.1f} GiB free at {where}",
                "free space: a full disk halts the node (prune logs, move the home)",
            )
        ]
    return [Check("disk", OK, f"{free_gib:.1f} GiB free at {where}")]


def check_validator(rpc: RPCClient, operator: str) -> list[Check]:
    """An operator's validator: active, jailed, tombstoned, missed blocks in the window."""
    try:
        val = _query(rpc, f"/validator/{operator}")
        info = _query(rpc, f"/signing_info/{operator}")
        params = _query(rpc, "/params/slashing")
    except (NodeUnreachable, RPCError) as e:
        if "code 112" in str(e):
            return [Check("validator", WARN, f"{operator} operates no validator")]
        return [Check("validator", FAIL, str(e))]
    out = []
    if info.get("tombstoned"):
        out.append(Check("validator", FAIL, "tombstoned for double signing", "it can never return"))
    elif val.get("jailed"):
        until = int(info.get("jailed_until", 0))
        left = until - time.time()
        hint = (
            f"wait {int(left)}s more, then `tx slashing unjail --from <key>`"
            if left > 0
            else "the jail time is over: `tx slashing unjail --from <key>`"
        )
        out.append(Check("validator", FAIL, f"{val.get('moniker', '')} is jailed", hint))
    elif int(val.get("power", 0)) == 0:
        out.append(
            Check(
                "validator",
                WARN,
                "not in the active set (power 0)",
                "bond more (delegate to it) to enter the top max_validators",
            )
        )
    else:
        out.append(Check("validator", OK, f"{val.get('moniker', '')} active, power {val['power']}"))
    window = int(params["signed_blocks_window"])
    max_missed = window - window * int(params["min_signed_per_window"]) // RATE_ONE
    missed = int(info.get("missed", 0))
    counted = min(int(info.get("counter", 0)), window)
    detail = f"missed {missed} of the last {counted} blocks (jailed past {max_missed})"
    if missed > max_missed // 2:
        out.append(
            Check(
                "signing", WARN, detail, "the validator is missing blocks: check its node and key"
            )
        )
    else:
        out.append(Check("signing", OK, detail))
    return out


def check_hotkey(rpc: RPCClient, hotkey: str) -> list[Check]:
    """On each subnet where ``hotkey`` is registered: weights freshness and pending commits."""
    try:
        height = rpc.latest_height()
        subnets = _query(rpc, "/subnets")
    except (NodeUnreachable, RPCError) as e:
        return [Check("hotkey", FAIL, str(e))]
    out = []
    for s in subnets:
        netuid = int(s["netuid"])
        meta = _query(rpc, f"/subnet/{netuid}/metagraph")
        neuron = next((n for n in meta["neurons"] if n["hotkey"] == hotkey), None)
        if neuron is None:
            continue
        hp = _query(rpc, f"/subnet/{netuid}/hyperparams")
        tempo, limit = int(hp["tempo"]), int(hp["weights_rate_limit"])
        since = height - int(neuron.get("last_update", 0))
        name = f"subnet {netuid} uid {neuron['uid']}"
        if since < limit:
            out.append(
                Check(
                    f"{name} weights",
                    OK,
                    f"weights {since} blocks ago; next allowed at {height + limit - since}",
                )
            )
        elif since > int(hp.get("activity_cutoff", since + 1)):
            out.append(
                Check(
                    f"{name} weights",
                    FAIL,
                    f"no weights for {since} blocks: inactive (activity_cutoff "
                    f"{hp['activity_cutoff']})",
                    "set or commit weights: `subnet commit-weights`",
                )
            )
        elif since > tempo:
            out.append(
                Check(
                    f"{name} weights",
                    WARN,
                    f"no weights for {since} blocks (tempo {tempo})",
                    "weights may be set again now",
                )
            )
        else:
            out.append(Check(f"{name} weights", OK, f"weights {since} blocks ago"))
        row = _query(rpc, f"/subnet/{netuid}/weights/{neuron['uid']}")
        commit = row.get("commit")
        if commit is not None:
            # the chain fixed the window when the commit was made (subnets' schedule.py)
            start, end = int(commit["reveal_from"]), int(commit["reveal_until"])
            if height + 1 < start:
                out.append(
                    Check(
                        f"{name} commit",
                        OK,
                        f"commit pending; reveal at heights {start}..{end} (now {height})",
                    )
                )
            elif height + 1 <= end:
                out.append(
                    Check(
                        f"{name} commit",
                        WARN,
                        f"reveal window open until height {end} (now {height})",
                        f"`subnet reveal-weights {netuid} --from <key>` now",
                    )
                )
            else:
                out.append(
                    Check(
                        f"{name} commit",
                        FAIL,
                        f"the commit's window ended at {end}",
                        "it will be dropped; commit again",
                    )
                )
    if not out:
        out.append(Check("hotkey", WARN, f"{hotkey} is registered on no subnet"))
    return out


def worst(checks: list[Check]) -> str:
    """The worst status among ``checks``."""
    order = {OK: 0, WARN: 1, FAIL: 2}
    return max((c.status for c in checks), key=lambda s: order[s], default=OK)
