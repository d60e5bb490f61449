"""Forging double-sign evidence with a validator's own key, for tests only.

CometBFT rarely produces duplicate-vote evidence by itself on a loopback localnet, even with
one key on two nodes: a conflicting vote is not gossiped to a peer that already holds a vote of
that validator index. So the test signs two conflicting prevotes itself (CometBFT's canonical
vote sign bytes, encoded by hand below) and submits them with the ``broadcast_evidence`` RPC.
CometBFT verifies the evidence exactly as it would its own and hands it to the app as
Misbehavior in a later block.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from datetime import datetime
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from abci_app.client.rpc import RPCClient
from abci_app.codec import encode_uvarint

PREVOTE = 1


def _varint(num: int, v: int) -> bytes:
    return encode_uvarint(num << 3) + encode_uvarint(v) if v else b""


def _bytes(num: int, b: bytes) -> bytes:
    return encode_uvarint(num << 3 | 2) + encode_uvarint(len(b)) + b


def _sfixed64(num: int, v: int) -> bytes:
    return encode_uvarint(num << 3 | 1) + struct.pack("<q", v) if v else b""


def vote_sign_bytes(
    chain_id: str, height: int, block_hash: bytes, parts_hash: bytes, seconds: int, nanos: int
) -> bytes:
    """Length-delimited CanonicalVote (type, height, round 0, block id, time, chain id)."""
    parts = _varint(1, 1) + _bytes(2, parts_hash)
    block_id = _bytes(1, block_hash) + _bytes(2, parts)
    ts = _varint(1, seconds) + _varint(2, nanos)
    body = (
        _varint(1, PREVOTE)
        + _sfixed64(2, height)
        + _bytes(4, block_id)
        + _bytes(5, ts)
        + _bytes(6, chain_id.encode())
    )
    return encode_uvarint(len(body)) + body


def _split_time(rfc3339: str) -> tuple[int, int]:
    whole, _, frac = rfc3339.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(whole + "+00:00").timestamp())
    return seconds, int(frac.ljust(9, "0")[:9]) if frac else 0


def submit_double_sign(rpc: RPCClient, priv_validator_key: Path, height: int) -> dict[str, Any]:
    """Sign two different prevotes at ``height`` with the key and broadcast the evidence."""
    pv = json.loads(priv_validator_key.read_text())
    key = SigningKey(base64.b64decode(pv["priv_key"]["value"])[:32])
    address = pv["address"]
    header = rpc.call("header", height=str(height))["header"]
    valset = rpc.call("validators", height=str(height), per_page="100")
    index, power = next(
        (i, int(v["voting_power"]))
        for i, v in enumerate(valset["validators"])
        if v["address"] == address
    )
    total = sum(int(v["voting_power"]) for v in valset["validators"])
    seconds, nanos = _split_time(header["time"])
    votes = []
    for k in (b"a", b"b"):
        block_hash = hashlib.sha256(b"forged block " + k).digest()
        parts_hash = hashlib.sha256(b"forged parts " + k).digest()
        sig = key.sign(
            vote_sign_bytes(header["chain_id"], height, block_hash, parts_hash, seconds, nanos)
        ).signature
        votes.append(
            {
                "type": PREVOTE,
                "height": str(height),
                "round": 0,
                "block_id": {
                    "hash": block_hash.hex().upper(),
                    "parts": {"total": 1, "hash": parts_hash.hex().upper()},
                },
                "timestamp": header["time"],
                "validator_address": address,
                "validator_index": index,
                "signature": base64.b64encode(sig).decode(),
                "extension": None,
                "extension_signature": None,
            }
        )
    votes.sort(key=lambda v: bytes.fromhex(v["block_id"]["hash"]))
    evidence = {
        "type": "tendermint/DuplicateVoteEvidence",
        "value": {
            "vote_a": votes[0],
            "vote_b": votes[1],
            "TotalVotingPower": str(total),
            "ValidatorPower": str(power),
            "Timestamp": header["time"],
        },
    }
    result: dict[str, Any] = rpc.call("broadcast_evidence", idempotent=False, evidence=evidence)
    return result
