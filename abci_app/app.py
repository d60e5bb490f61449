"""ABCI++ methods -> execution. Owns the three views of state:

* committed: :class:`StateDB`, written only by Commit;
* deliver-state: the overlay of the block being finalized (plus genesis writes until the first
  Commit), staged into a :class:`PendingCommit` by FinalizeBlock and persisted by Commit;
* check-state: the mempool's overlay, rebuilt from committed state after every Commit.

FinalizeBlock never persists; a crash before Commit loses nothing CometBFT cannot replay.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from ._proto.tendermint.abci import types_pb2 as abci
from ._proto.tendermint.crypto import keys_pb2, proof_pb2
from ._proto.tendermint.types import validator_pb2
from .context import ChainContext
from .crashpoints import NO_CRASH, CrashPlan
from .errors import (
    CODESPACE,
    HeightNotAvailable,
    InternalError,
    InvalidGenesis,
    InvalidQuery,
    ModernTensorError,
    NoStateYet,
)
from .execution import (
    BlockOutcome,
    check_tx,
    execute_block,
    init_chain,
    load_context,
    select_txs,
    verify_proposal,
)
from .genesis import parse_app_state
from .invariants import check_invariants
from .metrics import AppMetrics, MetricsProbe, record_block, record_chain_state
from .modules.slashing.evidence_window import check_evidence_max_age
from .modules.staking.genesis import check_backed_by_stake
from .pending import PENDING_PREFIX, pending_query
from .query import MAX_QUERY_PATH_BYTES, QueryResult, run_query
from .schema import check_genesis_start
from .snapshots import NoSnapshots, StateSync
from .state.db import PendingCommit, StateDB
from .state.overlay import KVReader, Overlay
from .state.snapshot import SnapshotStore, swap_in
from .tx import VerifiedTxs, tx_hash
from .types import (
    DISCARD_EVENTS,
    NO_PROBE,
    BlockHeader,
    Event,
    EventLog,
    Evidence,
    Probe,
    TxResult,
    ValidatorUpdate,
    Vote,
)
from .upgrades import APP_VERSION, VersionTooNew, migrate, set_version, state_version
from .weights import check_max_gas

log = logging.getLogger("moderntensor.app")

ABCI_METHODS = (
    "echo",
    "flush",
    "info",
    "init_chain",
    "query",
    "check_tx",
    "prepare_proposal",
    "process_proposal",
    "finalize_block",
    "extend_vote",
    "verify_vote_extension",
    "commit",
    "list_snapshots",
    "offer_snapshot",
    "load_snapshot_chunk",
    "apply_snapshot_chunk",
)
"""Every ABCI++ request of CometBFT v0.38, answered by the method of the same name."""


REFUSED_CHECK_WORK = 250_000
"""Weight units of txs CheckTx may refuse after running their messages, per block (about a
quarter of a block's execution at the default block.max_gas). Such a tx is charged nothing, so
without a bound one funded key could make the node run heavy messages followed by a failing one
over and over for free (issue 13 review). Past the budget CheckTx checks the stateless rules,
the fee and the ante only, as the Cosmos SDK's CheckTx always does: a tx whose message fails is
then admitted and pays its fee in the block. Honest refusals (an overspend, a stale
registration) stay far below it."""


class FatalAppError(RuntimeError):
    """A request the app must not answer (inconsistent height, bad genesis): stop the node."""


class HaltReached(Exception):
    """CometBFT asked for a block past ``--halt-height``: stop cleanly, without answering."""


def _add_events(target: Any, events: list[Event]) -> None:
    """Append ``events`` to a repeated ``Event`` field. ``add()`` builds each message in place,
    about twice as fast as constructing and copying them (this runs for every tx of a block)."""
    add_event = target.add
    for e in events:
        add_attr = add_event(type=e.type).attributes.add
        for a in e.attributes:
            add_attr(key=a.key, value=a.value, index=a.index)


def _validator_update_pb(u: ValidatorUpdate) -> abci.ValidatorUpdate:
    return abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=u.pub_key), power=u.power)


def _exec_result_pb(r: TxResult) -> abci.ExecTxResult:
    out = abci.ExecTxResult(
        code=r.code, log=r.log, codespace=r.codespace, gas_wanted=r.gas_wanted, gas_used=r.gas_used
    )
    _add_events(out.events, r.events)
    return out


def _finalize_block_pb(outcome: BlockOutcome, app_hash: bytes) -> abci.ResponseFinalizeBlock:
    resp = abci.ResponseFinalizeBlock(
        tx_results=[_exec_result_pb(r) for r in outcome.tx_results],
        validator_updates=[_validator_update_pb(u) for u in outcome.validator_updates],
        app_hash=app_hash,
    )
    _add_events(resp.events, outcome.events)
    return resp


def block_header(req: abci.RequestFinalizeBlock) -> BlockHeader:
    """The plain-data view of FinalizeBlock's request that block execution uses."""
    votes = tuple(
        Vote(
            bytes(v.validator.address),
            v.validator.power,
            v.block_id_flag == validator_pb2.BLOCK_ID_FLAG_COMMIT,
        )
        for v in req.decided_last_commit.votes
    )
    kinds = {abci.DUPLICATE_VOTE: "duplicate_vote", abci.LIGHT_CLIENT_ATTACK: "light_client_attack"}
    evidence = tuple(
        Evidence(
            bytes(m.validator.address),
            m.height,
            m.time.seconds,
            kinds.get(m.type, "unknown"),
            m.validator.power,
        )
        for m in req.misbehavior
    )
    return BlockHeader(req.height, req.time.seconds, bytes(req.proposer_address), votes, evidence)


class _QueryView:
    """Committed state as queries read it: through the read cache, never into it (any RPC
    caller picks the keys; a query must not evict what blocks read)."""

    def __init__(self, db: StateDB) -> None:
        self.get = db.peek
        self.iter_prefix = db.iter_prefix
        self.iter_from = db.iter_from


class Application:
    """The ABCI++ application: one method per request kind (ABCI_METHODS), each small.
    The server calls :meth:`handle`; connection-level error policy lives in the server.
    """

    def __init__(
        self,
        db: StateDB,
        check_invariants: bool | None = None,
        metrics: AppMetrics | None = None,
        *,
        snapshot_store: SnapshotStore | None = None,
        crash: CrashPlan = NO_CRASH,
        halt_height: int = 0,
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.crash = crash
        self.halt_height = halt_height
        """Commit this height, then stop (0: never). Cosmos SDK's ``halt-height``."""
        self.halted = False
        """True once the halt height is committed: the server stops shortly after."""
        self.verified = VerifiedTxs()
        """Signatures verified by CheckTx are not verified again for the block (issue 8)."""
        self.probe: Probe = MetricsProbe(metrics) if metrics is not None else NO_PROBE
        if check_invariants is None:
            check_invariants = os.environ.get("MODERNTENSOR_CHECK_INVARIANTS", "") == "1"
        self.check_invariants = check_invariants
        self.genesis: Overlay | None = None
        self.pending: PendingCommit | None = None
        self.check_state = self._migrated_base()
        self._check_ctx: ChainContext | None = None
        self._refused_work = 0
        """Weight of the txs CheckTx refused after running their messages since the last
        Commit (bounded by REFUSED_CHECK_WORK)."""
        self._query_migrated: tuple[StateDB, int, Overlay] | None = None
        """(db, height, view): committed state an older version wrote, migrated in memory for
        queries (built once per committed height; see :meth:`_query_view`)."""
        self._block_txs: list[bytes] = []
        """Hashes of the finalized block's txs, dropped from :attr:`verified` at Commit."""
        self._proposed: tuple[int, list[bytes]] | None = None
        """(height, txs) of this node's last PrepareProposal answer."""
        self.snapshots: NoSnapshots = (
            NoSnapshots()
            if db.store.path == ":memory:"
            else StateSync(
                snapshot_store,
                Path(db.store.path),
                self._has_own_state,
                self._swap_in,
                crash,
            )
        )
        """The snapshot connection's answers (state sync: snapshots.py)."""
        self.handlers: dict[str, Callable[[abci.Request], abci.Response]] = {
            kind: self._answer(kind, getattr(self, kind)) for kind in ABCI_METHODS
        }

    @staticmethod
    def _answer(kind: str, method: Callable[[Any], Any]) -> Callable[[abci.Request], abci.Response]:
        """``Request.<kind>`` -> ``method`` -> ``Response.<kind>``."""

        def answer(req: abci.Request) -> abci.Response:
            return abci.Response(**{kind: method(getattr(req, kind))})

        return answer

    def handle(self, req: abci.Request) -> abci.Response:
        """Answer one request. Unknown kinds raise KeyError (the server closes the connection)."""
        kind = req.WhichOneof("value")
        if kind is None:
            raise KeyError("request carries no known method")
        if self.metrics is None:
            return self.handlers[kind](req)
        start = time.perf_counter()
        resp = self.handlers[kind](req)
        self.metrics.abci_seconds.labels(kind).observe(time.perf_counter() - start)
        return resp

    def on_connect(self) -> None:
        """A new ABCI connection usually means a (re)started CometBFT whose mempool is empty:
        the check-state must not keep nonces and balances of txs it lost. (A block finalized
        but not committed needs nothing: CometBFT replays it and FinalizeBlock starts afresh.)"""
        self._reset_check_state()

    def _reset_check_state(self) -> None:
        self.check_state = self._migrated_base()
        self._check_ctx = None
        self._refused_work = 0

    # --- views -------------------------------------------------------------------------------
    def _block_base(self) -> Overlay:
        """Fresh deliver-state: committed state plus genesis writes not yet committed."""
        base = Overlay(self.db)
        if self.genesis is not None:
            base.load(self.genesis.writes)
        return base

    def _migrated_base(self) -> Overlay:
        """:meth:`_block_base` as this version reads it: a state written by an older version
        is migrated in the overlay (never persisted; the first FinalizeBlock migrates it for
        real), so CheckTx and PrepareProposal never run this code over a schema it does not
        know (the upgrade e2e found CheckTx failing there before the first block)."""
        base = self._block_base()
        try:
            migrate(base)
        except VersionTooNew as e:
            raise FatalAppError(f"{e}: run the newer version of moderntensor") from None
        return base

    def _check_context(self) -> ChainContext:
        if self._check_ctx is None:
            self._check_ctx = load_context(
                self.check_state, self.db.height + 1, DISCARD_EVENTS, self.verified
            )
        return self._check_ctx

    # --- connection ------------------------------------------------------------------------
    def echo(self, req: abci.RequestEcho) -> abci.ResponseEcho:
        """Echo the message (connection check)."""
        return abci.ResponseEcho(message=req.message)

    def flush(self, req: abci.RequestFlush) -> abci.ResponseFlush:
        """Nothing is buffered here: answer at once."""
        return abci.ResponseFlush()

    # --- info / genesis ----------------------------------------------------------------------
    def info(self, req: abci.RequestInfo) -> abci.ResponseInfo:
        """The last committed height and app hash; CometBFT replays blocks after them."""
        height = self.db.height
        return abci.ResponseInfo(
            data="moderntensor",
            version=__version__,
            app_version=state_version(self.db) if height > 0 else APP_VERSION,
            last_block_height=height,
            last_block_app_hash=self.db.app_hash if height > 0 else b"",
        )

    def init_chain(self, req: abci.RequestInitChain) -> abci.ResponseInitChain:
        """Load genesis into a pending overlay (committed with block 1) and return
        the initial validator set and app hash. A bad genesis stops the node (FatalAppError).
        """
        if self.db.height > 0:
            raise FatalAppError("InitChain called on a chain that has already committed blocks")
        try:
            genesis = parse_app_state(req.app_state_bytes, req.chain_id)
            evidence = req.consensus_params.evidence  # (unset in tests without CometBFT: 0)
            check_evidence_max_age(
                evidence.max_age_num_blocks,
                evidence.max_age_duration.ToNanoseconds(),
                genesis.staking.params.unbonding_blocks,
            )
            check_genesis_start(req.time.seconds, req.initial_height)
            if req.HasField("consensus_params"):  # (unset only in tests without CometBFT)
                check_max_gas(req.consensus_params.block.max_gas, genesis.params)
            state = Overlay(self.db)
            updates = init_chain(
                state,
                req.chain_id,
                genesis,
                max(1, req.initial_height),
                req.consensus_params.block.max_gas,
            )
            check_backed_by_stake(
                [(u.pub_key, u.power) for u in updates],
                [(bytes(v.pub_key.ed25519), v.power) for v in req.validators],
            )
            set_version(state, APP_VERSION)  # a new chain starts at this app version
        except InvalidGenesis as e:
            raise FatalAppError(e.log()) from None
        self.genesis = state
        self._reset_check_state()
        staged = self.db.stage(req.initial_height - 1, state.writes)
        log.info(
            "genesis loaded: chain %s, %d accounts, %d validators",
            req.chain_id,
            len(genesis.accounts),
            len(updates),
        )
        resp = abci.ResponseInitChain(
            app_hash=staged.app_hash, validators=[_validator_update_pb(u) for u in updates]
        )
        self.crash.hit("init_chain:after", req.initial_height)
        return resp

    # --- errors a stranger must not turn into a halt ------------------------------------------
    def _internal_error(self, method: str, what: str) -> InternalError:
        """Log the exception being handled with its traceback, count it, and return the error
        to answer with. Only for Query and CheckTx (and one message handler, in execution):
        their input comes from strangers and their state is thrown away, so the node carries
        on; the consensus steps stay fail-stop."""
        log.exception(
            "internal error in %s (%s); answered with code %d", method, what, InternalError.code
        )
        if self.metrics is not None:
            self.metrics.internal_errors.labels(method).inc()
        return InternalError(f"{method} failed unexpectedly")

    # --- mempool -----------------------------------------------------------------------------
    def check_tx(self, req: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        """Mempool admission on the check-state (no events built); the weight is reported as
        gas_wanted (CometBFT's reaping keeps blocks under block.max_gas). A new tx is executed
        whole (its messages too, within REFUSED_CHECK_WORK of refusals a block); a recheck
        checks the stateless rules, the fee and the ante only. Any unexpected
        exception is an InternalError answer (the tx refused, the check-state unchanged:
        execution writes to a scratch branch first)."""
        if self._check_ctx is None and self.genesis is None and self.db.height == 0:
            # nothing to check against yet (checked only until the first CheckTx after each
            # Commit loads the context: the height is a SQLite read)
            early = NoStateYet("InitChain has not run and no state was restored")
            return abci.ResponseCheckTx(code=early.code, log=early.log(), codespace=CODESPACE)
        try:
            # a recheck (after each block, of every tx left in the mempool) checks the ante
            # only, as the Cosmos SDK's does: the messages ran when the tx was first checked,
            # and only txs a block takes pay for their work (issue 13 review)
            full = req.type != abci.RECHECK and self._refused_work < REFUSED_CHECK_WORK
            r, wasted = check_tx(self.check_state, req.tx, self._check_context(), full)
            if wasted:  # (CheckTx builds no events)
                self._refused_work += r.gas_wanted
                if self._refused_work >= REFUSED_CHECK_WORK:
                    log.warning(
                        "CheckTx refused %d weight units of txs after running their messages in "
                        "this block: until the next Commit it checks the ante only",
                        self._refused_work,
                    )
            code, text, gas = r.code, r.log, r.gas_wanted
            if code == InternalError.code and self.metrics is not None:  # a handler's bug
                self.metrics.internal_errors.labels("check_tx").inc()
        except Exception:  # noqa: BLE001 - a stranger's tx must never stop the node
            err = self._internal_error("check_tx", f"{len(req.tx)}-byte tx")
            code, text, gas = err.code, err.log(), 0
        if self.metrics is not None:
            self.metrics.check_txs.labels(str(code)).inc()
        return abci.ResponseCheckTx(
            code=code, log=text, codespace=CODESPACE if code else "", gas_wanted=gas, gas_used=gas
        )

    # --- consensus ---------------------------------------------------------------------------
    def prepare_proposal(self, req: abci.RequestPrepareProposal) -> abci.ResponsePrepareProposal:
        """The mempool's txs that would pay their fee, within max_tx_bytes."""
        self._check_halt(req.height)
        base = self._migrated_base()
        ctx = load_context(base, req.height, DISCARD_EVENTS, self.verified)  # only choices matter
        txs = select_txs(base, list(req.txs), ctx, req.max_tx_bytes)
        self._proposed = (req.height, txs)
        return abci.ResponsePrepareProposal(txs=txs)

    def process_proposal(self, req: abci.RequestProcessProposal) -> abci.ResponseProcessProposal:
        """Vote for a proposal only if every tx passes the stateless checks, pays its weight
        and passes the ante, in order on a scratch branch of the committed state (migrated
        first when an older version wrote it, as PrepareProposal reads it), within
        MAX_PROPOSAL_TXS and block.max_gas (:func:`verify_proposal`; Cosmos SDK v0.50's rule).
        Our own PrepareProposal's output for this height is valid by construction (same code,
        same committed state) and is accepted without re-running."""
        self._check_halt(req.height)
        status = abci.ResponseProcessProposal
        txs = list(req.txs)
        if self._proposed == (req.height, txs):
            return status(status=status.ACCEPT)
        scratch = self._migrated_base()
        ctx = load_context(scratch, req.height, DISCARD_EVENTS, self.verified)
        reason = verify_proposal(scratch, txs, ctx)
        if reason is None:
            return status(status=status.ACCEPT)
        log.warning(
            "rejecting the proposal for height %d from %s: %s",
            req.height,
            bytes(req.proposer_address).hex().upper(),
            reason,
        )
        if self.metrics is not None:
            self.metrics.rejected_proposals.inc()
        return status(status=status.REJECT)

    def extend_vote(self, req: abci.RequestExtendVote) -> abci.ResponseExtendVote:
        """No vote extensions."""
        return abci.ResponseExtendVote()

    def verify_vote_extension(
        self, req: abci.RequestVerifyVoteExtension
    ) -> abci.ResponseVerifyVoteExtension:
        """No vote extensions: every (empty) one is accepted."""
        return abci.ResponseVerifyVoteExtension(status=abci.ResponseVerifyVoteExtension.ACCEPT)

    def finalize_block(self, req: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        """Execute the decided block in memory and stage its writes; Commit persists them.

        A newer app version on older state first runs the migrations (upgrades.py), once, and
        tells CometBFT the new app version (``consensus_param_updates.version.app``)."""
        self._check_halt(req.height)
        expected = self.db.height + 1
        if self.db.height > 0 and req.height != expected:
            raise FatalAppError(f"FinalizeBlock for height {req.height}, expected {expected}")
        start = time.perf_counter()
        state = self._block_base()
        try:
            upgraded = migrate(state)  # once, in the first block a newer app executes
        except VersionTooNew as e:
            raise FatalAppError(f"{e}: run the newer version of moderntensor") from None
        if upgraded:
            log.info("state migrated to app version %d at height %d", APP_VERSION, req.height)
        ctx = load_context(state, req.height, EventLog(), self.verified)
        outcome = execute_block(state, list(req.txs), ctx, block_header(req), self.probe)
        outcome.events[:0] = upgraded
        self._check_invariants(state, req.height)
        staged_at = time.perf_counter()
        self.pending = self.db.stage(req.height, state.writes)
        self._block_txs = [tx_hash(raw) for raw in req.txs]
        if self.metrics is not None:
            done = time.perf_counter()
            record_block(self.metrics, outcome, done - start, done - staged_at)
        resp = _finalize_block_pb(outcome, self.pending.app_hash)
        if upgraded:  # the next headers carry the new app version
            resp.consensus_param_updates.version.app = APP_VERSION
        self.crash.hit("finalize:after", req.height)
        return resp

    def _check_halt(self, height: int) -> None:
        if self.halt_height and height > self.halt_height:
            raise HaltReached(
                f"asked for height {height}: this node halts after {self.halt_height} "
                "(--halt-height); restart it without the option, or on the new version"
            )

    def _check_invariants(self, state: Overlay, height: int) -> None:
        """With invariant checks on, a broken invariant stops the node (better than diverging)."""
        if self.check_invariants:
            problems = check_invariants(state)
            if problems:
                raise FatalAppError(f"invariants broken at height {height}: {problems}")

    def commit(self, req: abci.RequestCommit | None = None) -> abci.ResponseCommit:
        """Persist the staged block atomically (state, height, app hash), then reset
        the check-state for the mempool's recheck.
        """
        if self.pending is None:
            raise FatalAppError("Commit without a finalized block")
        height = self.pending.height
        start = time.perf_counter()
        self.crash.hit("commit:before_write", height)
        self.db.commit(self.pending)
        self.crash.hit("commit:after_write", height)
        if self.metrics is not None:
            self.metrics.commit_seconds.observe(time.perf_counter() - start)
            record_chain_state(self.metrics, self.db)
        self.pending = None
        self.genesis = None
        self.verified.drop(self._block_txs)  # committed: never checked again
        self._block_txs = []
        self._reset_check_state()
        self.snapshots.after_commit(self.db.store.path, height, self.db.app_hash)
        if self.halt_height and height >= self.halt_height:
            log.info("committed the halt height %d: stopping (--halt-height)", height)
            self.halted = True
        return abci.ResponseCommit(retain_height=0)

    def _has_own_state(self) -> bool:
        """State sync may not overwrite this node's state: a genesis loaded, or a block
        committed. A restore nothing was committed on yet does not count: CometBFT records a
        synced state only after the last chunk (and offers snapshots only to a node without
        state), so a node killed in between must be able to restore again."""
        if self.genesis is not None:
            return True
        return self.db.height > 0 and not self.db.store.fresh_restore()

    def _swap_in(self, restored: Path) -> None:
        """State sync: the verified restored database becomes the app's state."""
        live = Path(self.db.store.path)
        self.db.close()
        swap_in(restored, live)
        self.db = StateDB(live)
        self._reset_check_state()

    # --- queries -----------------------------------------------------------------------------
    def query(self, req: abci.RequestQuery) -> abci.ResponseQuery:
        """Answer ``abci_query`` at the latest committed height (height 0: the latest);
        ``/pending/…`` paths from the check-state (pending.py).

        Before the first Commit the answer comes from the genesis state (height 0, no proofs);
        before InitChain there is nothing to answer from (HeightNotAvailable). A bad path or
        argument is a ModernTensorError code; any other exception is logged, counted and
        answered with InternalError (code 99): a query never stops the node."""
        height = self.db.height
        try:
            res = self._query(req, height)
        except ModernTensorError as e:
            return abci.ResponseQuery(code=e.code, log=e.log(), codespace=CODESPACE, height=height)
        except Exception:  # noqa: BLE001 - a stranger's query must never stop the node
            bug = self._internal_error("query", f"path {req.path[:64]!r}")
            return abci.ResponseQuery(
                code=bug.code, log=bug.log(), codespace=CODESPACE, height=height
            )
        resp = abci.ResponseQuery(code=0, key=res.key, value=res.value, height=height)
        if res.proof is not None:
            resp.proof_ops.CopyFrom(
                proof_pb2.ProofOps(
                    ops=[
                        proof_pb2.ProofOp(type=res.proof_type, key=res.key, data=res.proof.encode())
                    ]
                )
            )
        return resp

    def _query(self, req: abci.RequestQuery, height: int) -> QueryResult:
        if req.height not in (0, height):
            raise HeightNotAvailable(f"asked for {req.height}, latest is {height}")
        if req.path.startswith(PENDING_PREFIX):
            return self._pending_query(req)
        if height > 0:
            prover = self.db.prove if req.prove else None
            return run_query(self._query_view(height), height, req.path, prover, bytes(req.data))
        if self.genesis is None:
            raise HeightNotAvailable("the chain has no state yet (InitChain has not run)")
        if req.prove:
            raise InvalidQuery("proofs are served once the first block is committed")
        return run_query(self._block_base(), 0, req.path, None, bytes(req.data))

    def _query_view(self, height: int) -> KVReader:
        """Committed state as queries read it. A state an older app version wrote (after an
        in-place upgrade, until the first block migrates it) is read as this version reads
        it, migrated in memory once per height, as CheckTx reads it: the upgrade e2e found
        /validators empty there (version 1 has no power index). Proofs still come from the
        committed state (the migration changes none of the records a proof is asked for)."""
        if state_version(self.db) == APP_VERSION:
            return _QueryView(self.db)
        cached = self._query_migrated
        if cached is None or cached[0] is not self.db or cached[1] != height:
            cached = self._query_migrated = (self.db, height, self._migrated_base())
        return cached[2]

    def _pending_query(self, req: abci.RequestQuery) -> QueryResult:
        """``/pending/…`` routes, answered from the check-state (pending.py); no proofs."""
        if len(req.path.encode(errors="surrogatepass")) > MAX_QUERY_PATH_BYTES:
            raise InvalidQuery(f"query path longer than {MAX_QUERY_PATH_BYTES} bytes")
        if req.prove:
            raise InvalidQuery("pending state has no proofs (it is no block's state)")
        return QueryResult(pending_query(self.check_state, req.path))

    # --- state sync (the snapshot connection) -----------------------------------------------
    def list_snapshots(self, req: abci.RequestListSnapshots) -> abci.ResponseListSnapshots:
        """State sync: see :mod:`abci_app.snapshots`."""
        return self.snapshots.list_snapshots(req)

    def offer_snapshot(self, req: abci.RequestOfferSnapshot) -> abci.ResponseOfferSnapshot:
        """State sync: see :mod:`abci_app.snapshots`."""
        return self.snapshots.offer_snapshot(req)

    def load_snapshot_chunk(
        self, req: abci.RequestLoadSnapshotChunk
    ) -> abci.ResponseLoadSnapshotChunk:
        """State sync: see :mod:`abci_app.snapshots`."""
        return self.snapshots.load_snapshot_chunk(req)

    def apply_snapshot_chunk(
        self, req: abci.RequestApplySnapshotChunk
    ) -> abci.ResponseApplySnapshotChunk:
        """State sync: see :mod:`abci_app.snapshots`."""
        return self.snapshots.apply_snapshot_chunk(req)
