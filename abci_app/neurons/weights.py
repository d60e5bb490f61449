"""Getting a validator's weights onto the chain: commit-reveal handled, rate limit respected.

With ``commit_reveal`` on (the default), each step first reveals any pending commit whose window
is open (heights from the commit tx's ``commit_weights`` event, so a reveal window fixed at
commit time is honoured), then commits new weights when nothing is pending, the validator holds
a permit and the rate limit has lifted: one commit per window, never a second one over an
unrevealed commit. Salts are 32 random bytes. Pending commits live on disk (the SDK's
:class:`~abci_app.client.commits.CommitStore`, one file per commit hash with the weights, salt,
commit tx hash and reveal window) from the moment the commit is in a block, so a restart
reveals them. Those files are not trusted blindly: an entry whose weights and salt do not hash
to its commit hash is ignored when loaded, and at the first step after a start the entries are
held to the commit the chain keeps for this validator (one at most): an entry of another hash
(revealed or expired while the validator was down, or edited) is forgotten, and the matching
one takes the chain's reveal window, so no damaged or edited file can stall weights. With
``commit_reveal`` off it sends ``set_weights`` once per tempo.

Every refusal is expected and handled by its code: 138 (rate limited: the message gives the
height it lifts at), 141 (too early: wait; expired: drop), 140/142 (the chain has no such
commit: drop), 136 (not registered: drop everything), 152 (the chain holds a commit this
validator lost before saving it: wait for it to expire); any other refusal or an unreachable node
is logged and retried at a later step. Rule source: subtensor's commit-reveal v2 and
``weights_set_rate_limit``; the Bittensor SDK's ``commit_weights``/``reveal_weights`` flow.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..address import from_bech32
from ..client.aio import AsyncChain
from ..client.commits import CommitEntry, CommitStore
from ..client.keyring import Key
from ..client.rpc import CommittedTx, NodeUnreachable, RPCError, TxTimeout
from ..errors import (
    CommitPending,
    ModernTensorError,
    NotRegistered,
    NoWeightsCommit,
    RevealMismatch,
    RevealOutOfWindow,
    WeightsRateLimited,
)
from ..modules.subnets.messages import (
    MsgCommitWeights,
    MsgRevealWeights,
    MsgSetWeights,
    commit_hash,
)
from .node_reads import as_height, node_object

log = logging.getLogger("moderntensor.neurons.weights")

SALT_BYTES = 32
TX_ERRORS = (NodeUnreachable, RPCError, TxTimeout, TimeoutError)
"""A tx whose fate is unknown (node down, not seen in time): retried at a later step."""

_LIFTS_AT = re.compile(r"height (\d+)")


def event_attrs(done: CommittedTx, event_type: str) -> dict[str, str]:
    """Attributes of the first event of ``event_type`` in a committed tx (empty if none)."""
    for ev in done.events:
        if ev.get("type") == event_type:
            return {str(a.get("key")): str(a.get("value")) for a in ev.get("attributes") or []}
    return {}


def lifts_at(err: WeightsRateLimited, height: int, rate_limit: int) -> int:
    """The height a code-138 refusal names (its last ``height N``), else height + limit."""
    found = _LIFTS_AT.findall(err.message)
    return int(found[-1]) if found else height + max(rate_limit, 1)


@dataclass(frozen=True)
class PendingCommit:
    """A commit in a block and not revealed yet: its hash and what the reveal needs."""

    digest: bytes
    entry: CommitEntry

    @property
    def label(self) -> str:
        return self.digest.hex()[:12]


@dataclass
class WeightsStatus:
    """What the metrics and the loop read."""

    last_weights_height: int | None = None
    """Height of the last reveal or set_weights that landed (the weights the chain uses)."""
    last_commit_height: int | None = None
    next_allowed: int = 0
    missed: int = 0
    """Commits dropped unrevealed (expired or refused)."""


class WeightSetter:
    """One validator's weights on one subnet. Call :meth:`step` once per round."""

    def __init__(
        self,
        chain: AsyncChain,
        key: Key,
        netuid: int,
        store: CommitStore,
        version_key: int = 0,
        tx_timeout: float = 30.0,
        query_timeout: float = 10.0,
    ) -> None:
        self.chain = chain
        self.key = key
        self.netuid = netuid
        self.store = store
        self.version_key = version_key
        self.tx_timeout = tx_timeout
        self.query_timeout = query_timeout
        self.status = WeightsStatus()
        self.txs: Counter[tuple[str, str]] = Counter()
        """(kind, outcome) -> count, e.g. ("commit", "ok"), ("reveal", "RevealOutOfWindow")."""
        self._said_at: int | None = None
        self._reconciled = False
        self.pending: list[PendingCommit] = sorted(
            self._load(), key=lambda c: (c.entry.reveal_from, c.digest)
        )

    def _load(self) -> list[PendingCommit]:
        """This validator's saved commits on this subnet whose weights and salt hash to their
        commit hash (:meth:`CommitStore.entries` already skips unreadable files)."""
        hotkey = from_bech32(self.key.address)
        out = []
        for digest, e in self.store.entries():
            if e.netuid != self.netuid or e.hotkey != self.key.address or not e.reveal_until:
                continue
            salt = bytes.fromhex(e.salt)  # (checked hex by CommitEntry.from_json)
            if commit_hash(hotkey, e.netuid, e.uids, e.weights, salt, e.version_key) != digest:
                log.warning("ignoring saved commit %s: it does not hash to its name", digest.hex())
                continue
            out.append(PendingCommit(digest, e))
        return out

    async def _reconcile(self, uid: int) -> None:
        """Hold the saved commits to the one the chain keeps for ``uid`` (see the module's
        text). Raises the node's errors (the step is then retried)."""
        path = f"/subnet/{self.netuid}/weights/{uid}"
        commit = (await node_object(self.chain, path, self.query_timeout)).get("commit")
        on_chain, window = None, (0, 0)
        if isinstance(commit, dict) and isinstance(commit.get("hash"), str):
            try:
                window = (as_height(commit["reveal_from"]), as_height(commit["reveal_until"]))
                on_chain = commit["hash"].lower()
            except (KeyError, ValueError) as e:
                raise RPCError(f"malformed answer to {path}: {e}") from None
        for c in list(self.pending):
            if c.digest.hex() != on_chain:
                log.warning("forgetting saved commit %s: the chain holds no such commit", c.label)
                self.store.delete(c.digest)
                self.pending.remove(c)
            elif (c.entry.reveal_from, c.entry.reveal_until) != window:
                log.warning(
                    "saved commit %s: reveal window %d..%d on disk, %d..%d on chain: using "
                    "the chain's",
                    c.label,
                    c.entry.reveal_from,
                    c.entry.reveal_until,
                    *window,
                )
                entry = dataclasses.replace(c.entry, reveal_from=window[0], reveal_until=window[1])
                self.store.save(c.digest, entry)
                self.pending[self.pending.index(c)] = PendingCommit(c.digest, entry)
        self._reconciled = True

    async def _send(self, kind: str, msg: Any) -> CommittedTx | None:
        """Send one message; None (and the outcome counted) when it did not land."""
        try:
            done = await self.chain.send(self.key, [msg], timeout=self.tx_timeout)
        except ModernTensorError as e:
            self.txs[(kind, type(e).__name__)] += 1
            raise
        except TX_ERRORS as e:
            self.txs[(kind, type(e).__name__)] += 1
            log.warning("%s not confirmed: %s (retried later)", kind, e)
            return None
        self.txs[(kind, "ok")] += 1
        return done

    def _drop(self, commit: PendingCommit, why: str) -> None:
        log.warning("dropping commit %s: %s", commit.label, why)
        self.store.delete(commit.digest)
        self.pending.remove(commit)
        self.status.missed += 1

    async def _reveal_due(self, height: int) -> None:
        for c in list(self.pending):
            ent = c.entry
            if height > ent.reveal_until:
                self._drop(c, f"its reveal window ended at height {ent.reveal_until}")
                continue
            if height < ent.reveal_from:
                continue
            msg = MsgRevealWeights(
                self.netuid,
                tuple(ent.uids),
                tuple(ent.weights),
                bytes.fromhex(ent.salt),
                ent.version_key,
            )
            try:
                done = await self._send("reveal", msg)
            except RevealOutOfWindow as e:
                if "too early" not in e.message:
                    self._drop(c, e.log())
                continue
            except (NoWeightsCommit, RevealMismatch, NotRegistered) as e:
                self._drop(c, e.log())
                continue
            except ModernTensorError as e:
                log.warning("reveal refused: %s (retried next round)", e.log())
                continue
            if done is not None:
                log.info("revealed %d weights at height %d", len(ent.uids), done.height)
                self.store.delete(c.digest)
                self.pending.remove(c)
                self.status.last_weights_height = done.height

    async def _commit(
        self, height: int, uids: tuple[int, ...], weights: tuple[int, ...], hp: dict[str, Any]
    ) -> None:
        salt = secrets.token_bytes(SALT_BYTES)
        hotkey = from_bech32(self.key.address)
        digest = commit_hash(hotkey, self.netuid, uids, weights, salt, self.version_key)
        try:
            done = await self._send("commit", MsgCommitWeights(self.netuid, digest))
        except WeightsRateLimited as e:
            self.status.next_allowed = lifts_at(e, height, int(hp["weights_rate_limit"]))
            return
        except CommitPending:
            # the chain holds a commit this validator has no record of (lost between broadcast
            # and block): it cannot be revealed and expires with its window; try again later
            self._say_once(
                height,
                hp,
                "the chain holds an unrevealed commit this validator "
                "has no record of: waiting for it to expire",
            )
            self.status.next_allowed = height + max(1, (int(hp["tempo"]) + 1) // 4)
            return
        except ModernTensorError as e:
            log.warning("commit refused: %s", e.log())
            return
        if done is None:
            return
        attrs = event_attrs(done, "commit_weights")
        window = int(hp["tempo"]) + 1
        reveal_from = int(attrs.get("reveal_from", done.height + 1))
        reveal_until = int(attrs.get("reveal_until", done.height + 2 * window))
        entry = CommitEntry(
            netuid=self.netuid,
            hotkey=self.key.address,
            uids=list(uids),
            weights=list(weights),
            salt=salt.hex(),
            version_key=self.version_key,
            height=done.height,
            tx_hash=done.hash,
            reveal_from=reveal_from,
            reveal_until=reveal_until,
        )
        self.store.save(digest, entry)
        self.pending.append(PendingCommit(digest, entry))
        self.status.last_commit_height = done.height
        self.status.next_allowed = done.height + int(hp["weights_rate_limit"])
        log.info(
            "committed %d weights at height %d; reveal at %d..%d",
            len(uids),
            done.height,
            reveal_from,
            reveal_until,
        )

    async def _set(
        self, height: int, uids: tuple[int, ...], weights: tuple[int, ...], hp: dict[str, Any]
    ) -> None:
        last = self.status.last_weights_height
        if last is not None and height - last < int(hp["tempo"]) + 1:
            return
        try:
            done = await self._send(
                "set", MsgSetWeights(self.netuid, uids, weights, self.version_key)
            )
        except WeightsRateLimited as e:
            self.status.next_allowed = lifts_at(e, height, int(hp["weights_rate_limit"]))
            return
        except ModernTensorError as e:
            log.warning("set_weights refused: %s", e.log())
            return
        if done is not None:
            self.status.last_weights_height = done.height
            self.status.next_allowed = done.height + int(hp["weights_rate_limit"])

    def _say_once(self, height: int, hp: dict[str, Any], text: str) -> None:
        """Log ``text`` at most once per window (a silent validator is the failure users of
        other SDKs complain about; a log line per block would bury everything else)."""
        window = int(hp["tempo"]) + 1
        if self._said_at is None or height - self._said_at >= window:
            log.warning("subnet %d: %s", self.netuid, text)
            self._said_at = height

    async def step(
        self,
        height: int,
        hp: dict[str, Any],
        permit: bool,
        uids: tuple[int, ...],
        weights: tuple[int, ...],
        uid: int,
    ) -> None:
        """Reveal what is due, then commit (or set) ``uids``/``weights`` if allowed now.

        ``hp`` is the subnet's hyperparameters (the chain's JSON); ``permit`` whether the
        metagraph shows this validator's permit (weights need one); ``uid`` this validator's
        uid on the subnet."""
        if int(hp["commit_reveal"]):
            if not self._reconciled:
                await self._reconcile(uid)
            await self._reveal_due(height)
        if uids and not permit:
            self._say_once(
                height,
                hp,
                "no validator permit on this subnet yet: weights wait "
                "(permits go to the top stake holders at each epoch)",
            )
        if not uids or not permit or height < self.status.next_allowed:
            return
        if int(hp["commit_reveal"]):
            if not self.pending:
                await self._commit(height, uids, weights, hp)
        else:
            await self._set(height, uids, weights, hp)
