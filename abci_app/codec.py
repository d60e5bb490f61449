"""Canonical encodings used in consensus state and sign-bytes.

Each value has exactly one byte form: fixed-width big-endian integers, unsigned varints for
lengths, and canonical JSON (sorted keys, no spaces, integers only) for parameter records.
"""

from __future__ import annotations

import json
from typing import Any

U64_MAX = 2**64 - 1


def encode_uvarint(n: int) -> bytes:
    """Unsigned LEB128 varint, as Go's ``binary.PutUvarint`` (used by CometBFT's framing)."""
    if n < 0:
        raise ValueError("uvarint cannot encode a negative number")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def decode_uvarint(buf: bytes | bytearray | memoryview, pos: int = 0) -> tuple[int, int] | None:
    """Decode a uvarint at ``pos``; return (value, next position) or None if ``buf`` ends first.

    Raises ValueError for a varint longer than 10 bytes (more than 64 bits).
    """
    result = 0
    shift = 0
    for i in range(pos, min(len(buf), pos + 10)):
        b = buf[i]
        result |= (b & 0x7F) << shift
        if b < 0x80:
            if result > U64_MAX:
                raise ValueError("uvarint overflows 64 bits")
            return result, i + 1
        shift += 7
    if len(buf) - pos >= 10:
        raise ValueError("uvarint longer than 10 bytes")
    return None


def encode_u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def decode_u64(b: bytes) -> int:
    if len(b) != 8:
        raise ValueError(f"expected 8 bytes for a u64, got {len(b)}")
    return int.from_bytes(b, "big")


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the one byte form of a JSON record kept in state."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
