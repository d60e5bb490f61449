"""What must hold on an e2e network, checked over RPC (and, once the nodes are stopped, on each
node's state database). Each check returns a :class:`Check`; none raises on a broken chain.

* liveness: every node that is up reaches the target height;
* agreement: identical block hashes and app hashes at every height two nodes both have;
* own app hash: the app hash in the header of block H+1 is the one the node's app returned
  from FinalizeBlock(H) (``block_results``), at every height the node has;
* txs: every tx the workload got accepted is committed exactly once and found by ``/tx``; a tx
  whose broadcast answer was lost is committed at most once;
* validator updates: what the app returned at H is CometBFT's validator set at H+2;
* state (on the stopped nodes' databases): the app's own invariants (supply = balances, pools =
  records, …) hold, and nodes stopped at the same height have the same app hash;
* memory: no process went over the manifest's limit (resident memory, sampled all along).
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..client.rpc import NodeUnreachable, RPCClient, RPCError
from ..invariants import check_invariants
from ..state.db import StateDB
from .network import Network, Node
from .workload import Stats

PAGE = 20  # CometBFT's /blockchain returns at most 20 block metas per call


@dataclass
class Check:
    name: str
    held: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "held": self.held, "detail": self.detail}


def _range(rpc: RPCClient) -> tuple[int, int]:
    sync = rpc.status()["sync_info"]
    return int(sync["earliest_block_height"]), int(sync["latest_block_height"])


def block_metas(node: Node, upto: int | None = None) -> dict[int, tuple[str, str]]:
    """{height: (block hash, app hash in its header)} for every block the node stores."""
    out: dict[int, tuple[str, str]] = {}
    with RPCClient(node.rpc_url, timeout=10, retries=1) as rpc:
        lo, hi = _range(rpc)
        if upto is not None:
            hi = min(hi, upto)
        top = hi
        while top >= lo and top > 0:
            res = rpc.call("blockchain", minHeight=str(max(lo, top - PAGE + 1)), maxHeight=str(top))
            for meta in res["block_metas"]:
                h = int(meta["header"]["height"])
                out[h] = (meta["block_id"]["hash"], meta["header"]["app_hash"])
            top -= PAGE
    return out


def liveness(net: Network, nodes: list[Node], height: int, timeout: float) -> Check:
    late = net.wait_heights(nodes, height, timeout)
    return Check(
        f"every node up reaches height {height}",
        not late,
        f"not there after {timeout:.0f}s: {', '.join(late)}" if late else "",
    )


def agreement(nodes: list[Node], upto: int | None = None) -> tuple[Check, int]:
    """Agreement over every common height; also returns how many heights were compared."""
    seen: dict[int, dict[str, tuple[str, str]]] = {}
    try:
        for n in nodes:
            for h, v in block_metas(n, upto).items():
                seen.setdefault(h, {})[n.name] = v
    except (NodeUnreachable, RPCError) as e:
        return Check("identical block and app hashes at every common height", False, str(e)), 0
    bad = [h for h, by in sorted(seen.items()) if len(set(by.values())) > 1]
    compared = sum(1 for by in seen.values() if len(by) > 1)
    detail = f"{compared} heights compared across {len(nodes)} nodes"
    if bad:
        detail = f"disagreement at heights {bad[:5]}: {seen[bad[0]]}"
    return Check("identical block and app hashes at every common height", not bad, detail), compared


def own_app_hashes(nodes: list[Node]) -> Check:
    """The header of H+1 carries the app hash the node's own app returned for H."""
    wrong: list[str] = []
    count = 0
    try:
        for n in nodes:
            metas = block_metas(n)
            with RPCClient(n.rpc_url, timeout=10, retries=1) as rpc:
                for h in sorted(metas):
                    if h + 1 not in metas:
                        continue
                    res = rpc.call("block_results", height=str(h))
                    got = base64.b64decode(res.get("app_hash") or "").hex().upper()
                    count += 1
                    if got != metas[h + 1][1]:
                        wrong.append(f"{n.name}@{h}")
    except (NodeUnreachable, RPCError) as e:
        return Check("app hash in H+1 = the app's own after H", False, str(e))
    return Check(
        "app hash in H+1 = the app's own after H",
        not wrong,
        f"wrong at {wrong[:5]}" if wrong else f"{count} heights checked",
    )


def committed_counts(node: Node) -> tuple[Counter[str], dict[str, int]]:
    """How often each tx hash is in the node's blocks, and the height of each."""
    counts: Counter[str] = Counter()
    heights: dict[str, int] = {}
    with RPCClient(node.rpc_url, timeout=10, retries=1) as rpc:
        lo, hi = _range(rpc)
        for h in range(lo, hi + 1):
            for tx in rpc.call("block", height=str(h))["block"]["data"]["txs"] or []:
                tx_hash = hashlib.sha256(base64.b64decode(tx)).hexdigest().upper()
                counts[tx_hash] += 1
                heights[tx_hash] = h
    return counts, heights


def txs_exactly_once(ref: Node, stats: Stats) -> tuple[Check, dict[str, int]]:
    """Every accepted tx once in ``ref``'s blocks (a validator with the whole history) and
    queryable there; returns the check and the height of each accepted tx committed."""
    name = "every accepted tx committed exactly once and queryable"
    try:
        counts, heights = committed_counts(ref)
        missing = [h for h in stats.accepted if counts[h] == 0]
        twice = [h for h in list(stats.accepted) + list(stats.uncertain) if counts[h] > 1]
        unfound = []
        with RPCClient(ref.rpc_url, timeout=10, retries=1) as rpc:
            for h in stats.accepted:
                if counts[h] == 1:
                    got = rpc.get_tx(h)
                    if got is None or got.height != heights[h]:
                        unfound.append(h)
    except (NodeUnreachable, RPCError) as e:
        return Check(name, False, str(e)), {}
    at = {h: heights[h] for h in stats.accepted if counts[h] == 1}
    committed = len(at)
    problems = []
    if missing:
        problems.append(f"{len(missing)} never committed (e.g. {missing[0]})")
    if twice:
        problems.append(f"{len(twice)} committed twice (e.g. {twice[0]})")
    if unfound:
        problems.append(f"{len(unfound)} not found by /tx (e.g. {unfound[0]})")
    if not stats.accepted:
        problems.append("the workload got no tx accepted")
    detail = "; ".join(problems) or f"{committed} of {len(stats.accepted)} accepted txs"
    return Check(name, not problems, detail), at


def _key(update: dict[str, Any]) -> str:
    """The base64 ed25519 key of a validator update or validator, however it is rendered."""
    pk = update.get("pub_key", {})
    while isinstance(pk, dict):
        for k in ("ed25519", "value", "Sum"):
            if k in pk:
                pk = pk[k]
                break
        else:
            return ""
    return str(pk)


def validator_updates(ref: Node) -> Check:
    """Updates returned at H are the validator set at H+2 (and not yet at H+1)."""
    name = "validator updates take effect at H+2"
    try:
        with RPCClient(ref.rpc_url, timeout=10, retries=1) as rpc:
            lo, hi = _range(rpc)
            sets: dict[int, dict[str, int]] = {}
            for h in range(lo, hi + 1):
                res = rpc.call("validators", height=str(h), per_page="100")
                sets[h] = {_key(v): int(v["voting_power"]) for v in res["validators"]}
            updates: dict[int, dict[str, int]] = {}
            for h in range(lo, hi - 1):
                res = rpc.call("block_results", height=str(h))
                ups = res.get("validator_updates") or []
                if ups:
                    updates[h] = {_key(u): int(u.get("power", 0)) for u in ups}
    except (NodeUnreachable, RPCError) as e:
        return Check(name, False, str(e))
    wrong = []
    for h, ups in sorted(updates.items()):
        for key, power in ups.items():
            later = updates.get(h + 1, {})
            if key not in later and sets.get(h + 2, {}).get(key, 0) != power:
                wrong.append(f"H={h}: {key[:8]} power {power} not at H+2")
            earlier = updates.get(h - 1, {})
            before, next_ = sets.get(h, {}), sets.get(h + 1, {})
            if key not in earlier and next_ and before and next_.get(key, 0) != before.get(key, 0):
                wrong.append(f"H={h}: {key[:8]} changed already at H+1")
    if not updates:
        return Check(name, True, "no validator updates in this run")
    return Check(
        name,
        not wrong,
        "; ".join(wrong[:3]) or f"{sum(len(u) for u in updates.values())} updates checked",
    )


def memory(net: Network, limit_mib: int) -> Check:
    worst = {
        f"{n.name}/{p}": kib // 1024 for n in net.nodes.values() for p, kib in n.max_rss_kib.items()
    }
    over = {k: v for k, v in worst.items() if v > limit_mib}
    top = max(worst.items(), key=lambda kv: kv[1], default=("-", 0))
    return Check(
        f"no process over {limit_mib} MiB resident",
        not over,
        f"over: {over}" if over else f"largest {top[0]} {top[1]} MiB",
    )


def stored_state(net: Network) -> Check:
    """On the stopped nodes: the app's invariants hold; equal heights have equal app hashes."""
    name = "state invariants (supply = balances, pools = records) on every node's database"
    problems: list[str] = []
    by_height: dict[int, set[str]] = {}
    for n in net.nodes.values():
        if n.kind == "seed" or not n.home.state_db.exists():
            continue
        db = StateDB(n.home.state_db)
        try:
            if db.height == 0:
                continue
            broken = check_invariants(db)
            problems += [f"{n.name}: {b}" for b in broken]
            by_height.setdefault(db.height, set()).add(db.app_hash.hex())
        finally:
            db.close()
    forks = {h: hs for h, hs in by_height.items() if len(hs) > 1}
    if forks:
        problems.append(f"different app hashes at the same height: {forks}")
    return Check(name, not problems, "; ".join(problems[:3]) or f"{len(by_height)} heights")
