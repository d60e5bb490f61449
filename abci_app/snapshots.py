"""State sync's side of the ABCI (the snapshot connection): serving the snapshots this node
takes, and restoring one from peers. The snapshot format, the store and the verified restore
are in :mod:`abci_app.state.snapshot`; this module answers CometBFT with them.

* ListSnapshots / LoadSnapshotChunk: what :class:`SnapshotStore` holds (nothing without one);
* OfferSnapshot: accepted only if it is format 1, well formed, self-consistent, offered to a
  node that has no state yet, and claims the app hash CometBFT's light client trusts (its 256
  subtree nodes must hash up to it);
* ApplySnapshotChunk: a chunk whose hash is wrong is refetched from another peer and its sender
  rejected (RETRY, ``refetch_chunks``, ``reject_senders``); a snapshot whose content is
  malformed, or whose entries do not hash to its subtree nodes (checked as each subtree
  completes) or to the trusted app hash, is rejected as a whole
  (REJECT_SNAPSHOT) and leaves nothing behind; after the last good chunk the restored database
  is swapped in (the app's ``swap`` callback).

:class:`NoSnapshots` is the answer of an app without state sync (in-memory state).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from ._proto.tendermint.abci import types_pb2 as abci
from .crashpoints import NO_CRASH, CrashPlan
from .state.snapshot import (
    FORMAT,
    ChunkHashMismatch,
    Restore,
    SnapshotError,
    SnapshotMetadata,
    SnapshotStore,
    discard,
    fold,
)

log = logging.getLogger("moderntensor.app")

Offer = abci.ResponseOfferSnapshot
Apply = abci.ResponseApplySnapshotChunk


class NoSnapshots:
    """Lists no snapshot, serves no chunk, rejects every offer (ABCI's answers for an app
    without state sync)."""

    def list_snapshots(self, req: abci.RequestListSnapshots) -> abci.ResponseListSnapshots:
        """No snapshot is offered."""
        return abci.ResponseListSnapshots()

    def offer_snapshot(self, req: abci.RequestOfferSnapshot) -> abci.ResponseOfferSnapshot:
        """Any offered snapshot is rejected."""
        return Offer(result=Offer.REJECT)

    def load_snapshot_chunk(
        self, req: abci.RequestLoadSnapshotChunk
    ) -> abci.ResponseLoadSnapshotChunk:
        """No chunk is served."""
        return abci.ResponseLoadSnapshotChunk()

    def apply_snapshot_chunk(
        self, req: abci.RequestApplySnapshotChunk
    ) -> abci.ResponseApplySnapshotChunk:
        """Abort: nothing can be restored from snapshots."""
        return Apply(result=Apply.ABORT)

    def after_commit(self, db_path: str, height: int, app_hash: bytes) -> None:
        """Nothing is snapshotted."""


class StateSync(NoSnapshots):
    """Serves ``store``'s snapshots (none if None) and restores into ``live``'s directory.

    ``has_state()`` says whether the node already has state (then nothing is restored);
    ``swap(path)`` makes the verified database at ``path`` the app's state.
    """

    def __init__(
        self,
        store: SnapshotStore | None,
        live: Path,
        has_state: Callable[[], bool],
        swap: Callable[[Path], None],
        crash: CrashPlan = NO_CRASH,
    ) -> None:
        self.store = store
        self.restore_path = Path(f"{live}.restore")
        self.has_state = has_state
        self.swap = swap
        self.crash = crash
        self.restore: Restore | None = None
        discard(self.restore_path)  # a restore interrupted by a crash starts over

    def after_commit(self, db_path: str, height: int, app_hash: bytes) -> None:
        """Right after Commit: take a snapshot if ``height`` is due (in the background)."""
        if self.store is not None and self.store.due(height):
            self.store.take(db_path, height, app_hash)

    def list_snapshots(self, req: abci.RequestListSnapshots) -> abci.ResponseListSnapshots:
        """Every complete snapshot on disk, newest first."""
        if self.store is None:
            return abci.ResponseListSnapshots()
        return abci.ResponseListSnapshots(
            snapshots=[
                abci.Snapshot(
                    height=s.height,
                    format=s.metadata.format,
                    chunks=len(s.metadata.chunk_hashes),
                    hash=s.metadata.hash,
                    metadata=s.metadata.encode(),
                )
                for s in self.store.list()
            ]
        )

    def load_snapshot_chunk(
        self, req: abci.RequestLoadSnapshotChunk
    ) -> abci.ResponseLoadSnapshotChunk:
        """A chunk's bytes (empty if the snapshot was pruned meanwhile)."""
        if self.store is None:
            return abci.ResponseLoadSnapshotChunk()
        return abci.ResponseLoadSnapshotChunk(
            chunk=self.store.load_chunk(req.height, req.format, req.chunk)
        )

    def offer_snapshot(self, req: abci.RequestOfferSnapshot) -> abci.ResponseOfferSnapshot:
        """Accept a snapshot only if it is format 1, well formed, self-consistent, and claims
        the app hash CometBFT's light client trusts for its height (checked again, for real,
        after the last chunk)."""
        snap = req.snapshot
        if self.has_state():
            log.error("refusing a snapshot at %d: this node already has state", snap.height)
            return Offer(result=Offer.ABORT)
        if snap.format != FORMAT:
            return Offer(result=Offer.REJECT_FORMAT)
        try:
            meta = SnapshotMetadata.decode(snap.metadata)
        except SnapshotError as e:
            log.warning("snapshot at %d rejected: %s", snap.height, e)
            return Offer(result=Offer.REJECT)
        if meta.hash != snap.hash or meta.height != snap.height:
            log.warning("snapshot at %d rejected: hash or height differ from metadata", snap.height)
            return Offer(result=Offer.REJECT)
        if len(meta.chunk_hashes) != snap.chunks or meta.app_hash != req.app_hash:
            log.warning(
                "snapshot at %d rejected: its app hash %s is not the trusted %s",
                snap.height,
                meta.app_hash.hex(),
                bytes(req.app_hash).hex(),
            )
            return Offer(result=Offer.REJECT)
        if fold(list(meta.subtrees)) != req.app_hash:
            log.warning(
                "snapshot at %d rejected: its subtrees do not make its app hash", snap.height
            )
            return Offer(result=Offer.REJECT)
        if self.restore is not None:
            self.restore.abort()
        self.restore = Restore(self.restore_path, meta, bytes(req.app_hash))
        log.info("restoring snapshot at height %d: %d chunks", meta.height, snap.chunks)
        return Offer(result=Offer.ACCEPT)

    def apply_snapshot_chunk(
        self, req: abci.RequestApplySnapshotChunk
    ) -> abci.ResponseApplySnapshotChunk:
        """Write one verified chunk; swap the restored state in after the last one."""
        restore = self.restore
        if restore is None:
            return Apply(result=Apply.ABORT)
        try:
            last = restore.apply(req.index, req.chunk)
        except ChunkHashMismatch as e:
            log.warning("%s (sent by peer %s): refetching it, rejecting the sender", e, req.sender)
            return Apply(
                result=Apply.RETRY,
                refetch_chunks=[req.index],
                reject_senders=[req.sender] if req.sender else [],
            )
        except SnapshotError as e:
            log.error("snapshot at %d rejected: %s", restore.meta.height, e)
            restore.abort()
            self.restore = None
            return Apply(result=Apply.REJECT_SNAPSHOT)
        self.crash.hit("snapshot:restore", req.index)
        if not last:
            return Apply(result=Apply.ACCEPT)
        self.restore = None
        try:
            restore.finish()
        except SnapshotError as e:
            log.error("snapshot at %d rejected: %s", restore.meta.height, e)
            restore.abort()
            return Apply(result=Apply.REJECT_SNAPSHOT)
        self.swap(restore.path)
        log.info(
            "state restored from snapshot: height %d, %d entries",
            restore.meta.height,
            restore.entries,
        )
        return Apply(result=Apply.ACCEPT)
