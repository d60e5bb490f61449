"""State sync's side of the ABCI (the snapshot connection): where snapshot creation, offering
and chunk transfer go. Not offered yet: :class:`NoSnapshots` lists none and refuses any
snapshot a peer offers, so a node always syncs by replaying blocks. A later implementation
replaces it in :class:`abci_app.app.Application` (``snapshots=``); the store is exportable for it
(DESIGN.md section 4)."""

from __future__ import annotations

from ._proto.tendermint.abci import types_pb2 as abci


class NoSnapshots:
    """Lists no snapshot, serves no chunk, rejects every offer (ABCI's answers for an app
    without state sync)."""

    def list_snapshots(self, req: abci.RequestListSnapshots) -> abci.ResponseListSnapshots:
        """No snapshot is offered."""
        return abci.ResponseListSnapshots()

    def offer_snapshot(self, req: abci.RequestOfferSnapshot) -> abci.ResponseOfferSnapshot:
        """Any offered snapshot is rejected."""
        return abci.ResponseOfferSnapshot(result=abci.ResponseOfferSnapshot.REJECT)

    def load_snapshot_chunk(
        self, req: abci.RequestLoadSnapshotChunk
    ) -> abci.ResponseLoadSnapshotChunk:
        """No chunk is served."""
        return abci.ResponseLoadSnapshotChunk()

    def apply_snapshot_chunk(
        self, req: abci.RequestApplySnapshotChunk
    ) -> abci.ResponseApplySnapshotChunk:
        """Abort: nothing can be restored from snapshots."""
        return abci.ResponseApplySnapshotChunk(result=abci.ResponseApplySnapshotChunk.ABORT)
