"""The app hash: a fixed-depth binary Merkle tree over hash buckets of the keys.

Each key falls in one of ``2**DEPTH`` buckets (the first bytes of sha256(key)). A bucket's hash
commits to its sorted (key, sha256(value)) entries; the root of the tree over the bucket hashes is
the app hash. A block re-hashes only the buckets it touched and their paths to the root, so the
cost is O(touched keys x DEPTH), never a rehash of the whole state.

A proof for a key is the bucket's entries plus DEPTH sibling hashes. It proves presence (the key
is listed with sha256(value)) and absence (the key is not listed in the bucket it must be in).
Everything here is pure: the SDK verifies proofs with :func:`verify_proof` without a node.

Domain separation: leaf = H(0x00 || uvarint(len key) || key || H(value)),
bucket = H(0x01 || leaf_1 || ... || leaf_n) over leaves sorted by key, node = H(0x02 || l || r).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..codec import decode_uvarint, encode_uvarint

DEPTH = 16
NUM_BUCKETS = 1 << DEPTH
HASH_LEN = 32
PROOF_OP_TYPE = "mt:bucket"


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def bucket_of(key: bytes) -> int:
    return int.from_bytes(_h(key)[:4], "big") >> (32 - DEPTH)


def leaf_hash(key: bytes, value_hash: bytes) -> bytes:
    return _h(b"\x00" + encode_uvarint(len(key)) + key + value_hash)


def bucket_hash(entries: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Hash of a bucket from (key, sha256(value)) pairs; order of the input does not matter.
    (:func:`leaf_hash` inlined: this runs for every entry of every touched bucket.)"""
    sha = hashlib.sha256
    parts = [b"\x01"]
    for k, vh in sorted(entries):
        n = len(k)
        size = _ONE_BYTE_VARINT[n] if n < 0x80 else encode_uvarint(n)
        parts.append(sha(b"\x00" + size + k + vh).digest())
    return sha(b"".join(parts)).digest()


_ONE_BYTE_VARINT = [bytes((n,)) for n in range(0x80)]


def bucket_hash_of_leaves(leaves: Mapping[bytes, bytes]) -> bytes:
    """:func:`bucket_hash` from already computed leaf hashes, by key (the store keeps them)."""
    return _h(b"\x01" + b"".join(leaves[k] for k in sorted(leaves)))


def node_hash(left: bytes, right: bytes) -> bytes:
    return _h(b"\x02" + left + right)


EMPTY_BUCKET = bucket_hash(())


def _empty_levels() -> list[bytes]:
    levels = [EMPTY_BUCKET]
    for _ in range(DEPTH):
        levels.append(node_hash(levels[-1], levels[-1]))
    return levels


EMPTY_AT_LEVEL = _empty_levels()
EMPTY_ROOT = EMPTY_AT_LEVEL[DEPTH]


class MerkleTree:
    """All node hashes of the tree, level 0 = buckets, level DEPTH = the root.

    Updates are staged with :meth:`compute_update` (pure: returns the changed nodes) and applied
    with :meth:`apply` at Commit, so FinalizeBlock never mutates committed data.
    """

    def __init__(self, bucket_hashes: Mapping[int, bytes] | None = None) -> None:
        self.levels: list[list[bytes]] = [
            [EMPTY_AT_LEVEL[d]] * (NUM_BUCKETS >> d) for d in range(DEPTH + 1)
        ]
        if bucket_hashes:
            for idx, h in sorted(bucket_hashes.items()):
                self.levels[0][idx] = h
            for d in range(1, DEPTH + 1):
                below, here = self.levels[d - 1], self.levels[d]
                for i in range(len(here)):
                    here[i] = node_hash(below[2 * i], below[2 * i + 1])

    @property
    def root(self) -> bytes:
        return self.levels[DEPTH][0]

    def compute_update(self, new_buckets: Mapping[int, bytes]) -> list[dict[int, bytes]]:
        """Return, per level (0 = buckets, DEPTH = root), {index: hash} of every node that
        changes. One dict per level and sha256 inlined: this runs for every touched bucket of
        every block (thousands per block under load)."""
        sha = hashlib.sha256
        changed: list[dict[int, bytes]] = [dict(new_buckets)]
        for d in range(1, DEPTH + 1):
            below = self.levels[d - 1]
            prev = changed[d - 1]
            here: dict[int, bytes] = {}
            for i in sorted({j >> 1 for j in prev}):
                left = prev.get(2 * i) or below[2 * i]
                right = prev.get(2 * i + 1) or below[2 * i + 1]
                here[i] = sha(b"\x02" + left + right).digest()
            changed.append(here)
        return changed

    @staticmethod
    def root_of(changed: list[dict[int, bytes]], current_root: bytes) -> bytes:
        return changed[DEPTH].get(0, current_root) if len(changed) > DEPTH else current_root

    def apply(self, changed: list[dict[int, bytes]]) -> None:
        for d, nodes in enumerate(changed):
            level = self.levels[d]
            for i, h in nodes.items():
                level[i] = h

    def siblings(self, bucket: int) -> list[bytes]:
        """Sibling hashes from the bucket level up to just below the root."""
        out = []
        idx = bucket
        for d in range(DEPTH):
            out.append(self.levels[d][idx ^ 1])
            idx >>= 1
        return out


@dataclass(frozen=True)
class BucketProof:
    """Entries of one bucket and the sibling path from it to the root."""

    entries: tuple[tuple[bytes, bytes], ...]  # (key, sha256(value)), sorted by key
    siblings: tuple[bytes, ...]

    def encode(self) -> bytes:
        out = bytearray(encode_uvarint(len(self.entries)))
        for k, vh in self.entries:
            out += encode_uvarint(len(k)) + k + vh
        for s in self.siblings:
            out += s
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> BucketProof:
        """Parse a proof; raise ValueError for anything malformed."""
        got = decode_uvarint(data, 0)
        if got is None:
            raise ValueError("truncated proof")
        n, pos = got
        entries = []
        for _ in range(n):
            got = decode_uvarint(data, pos)
            if got is None:
                raise ValueError("truncated proof entry")
            klen, pos = got
            end = pos + klen + HASH_LEN
            if end > len(data):
                raise ValueError("truncated proof entry")
            entries.append((bytes(data[pos : pos + klen]), bytes(data[pos + klen : end])))
            pos = end
        if len(data) - pos != DEPTH * HASH_LEN:
            raise ValueError(f"proof must end with {DEPTH} sibling hashes")
        sibs = tuple(data[pos + i * HASH_LEN : pos + (i + 1) * HASH_LEN] for i in range(DEPTH))
        return cls(tuple(entries), sibs)


def verify_proof(root: bytes, key: bytes, value: bytes | None, proof: BucketProof) -> bool:
    """True when ``proof`` shows that under ``root`` the key holds ``value`` (None: is absent)."""
    keys = [k for k, _ in proof.entries]
    if keys != sorted(set(keys)) or any(len(vh) != HASH_LEN for _, vh in proof.entries):
        return False
    found = dict(proof.entries).get(key)
    if value is None:
        if found is not None:
            return False
    elif found != _h(value):
        return False
    idx = bucket_of(key)
    acc = bucket_hash(proof.entries)
    for sib in proof.siblings:
        acc = node_hash(sib, acc) if idx & 1 else node_hash(acc, sib)
        idx >>= 1
    return acc == root


def value_hash(value: bytes) -> bytes:
    return _h(value)
