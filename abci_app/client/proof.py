"""Verify ``abci_query`` proofs without trusting the node.

The app hash to check against is the one in the header of block H+1, where H is the query's
height (a block's header commits to the state after the previous block).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..state.merkle import PROOF_OP_TYPE, BucketProof, verify_proof


class ProofError(Exception):
    """The proof is missing, malformed, or does not match the app hash."""


@dataclass(frozen=True)
class ProofOp:
    type: str
    key: bytes
    data: bytes


def verify_query_proof(
    app_hash: bytes, key: bytes, value: bytes | None, proof_ops: list[ProofOp]
) -> None:
    """Raise ProofError unless the proof shows key -> value (None: absent) under ``app_hash``."""
    ops = [op for op in proof_ops if op.type == PROOF_OP_TYPE]
    if len(ops) != 1:
        raise ProofError(f"expected one {PROOF_OP_TYPE} proof op, got {len(ops)}")
    if ops[0].key != key:
        raise ProofError("the proof is for another key")
    try:
        proof = BucketProof.decode(ops[0].data)
    except ValueError as e:
        raise ProofError(f"malformed proof: {e}") from None
    if not verify_proof(app_hash, key, value, proof):
        raise ProofError("proof does not match the app hash")
