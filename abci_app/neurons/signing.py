"""Signed axon requests and answers: the bytes each side signs, and the header codec.

A request carries four headers (values are ASCII):

``X-MT-Hotkey``     the caller's ed25519 public key, 64 hex chars (its ``mt1…`` address is
                    ``sha256(pubkey)[:20]``, which is what the metagraph lists)
``X-MT-Timestamp``  milliseconds since the Unix epoch, decimal
``X-MT-Nonce``      16-32 random bytes as hex, never reused by the caller
``X-MT-Signature``  128 hex chars: ed25519 over :func:`request_sign_bytes`

The signed bytes are domain-separated (``moderntensor/axon-request/v1``) so no tx or other
message can be passed off as a request, and they bind the method, the path, sha256 of the body,
the timestamp, the nonce **and the receiving axon's hotkey address**: a miner that relays a
validator's request to another miner (to copy its answer) is refused there.

The answer is signed by the miner's hotkey (``X-MT-Hotkey``, ``X-MT-Signature`` response headers)
over ``moderntensor/axon-response/v1``, the request's signature (so an old answer cannot be
replayed for a new request), the HTTP status and sha256 of the answer body. The dendrite checks
that the signing key's address is the hotkey the metagraph lists for that uid.

Rule source: Bittensor's dendrite/axon headers (hotkey, nonce, timestamp, signature over the body
hash), with explicit domain separation and receiver binding added.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ..address import ADDRESS_LEN, address_from_pubkey, to_bech32
from ..errors import BadAxonResponse, BadRequestSignature, UnsignedRequest

REQUEST_DOMAIN = b"moderntensor/axon-request/v1"
RESPONSE_DOMAIN = b"moderntensor/axon-response/v1"

HOTKEY = "X-MT-Hotkey"
TIMESTAMP = "X-MT-Timestamp"
NONCE = "X-MT-Nonce"
SIGNATURE = "X-MT-Signature"

NONCE_BYTES = 16
"""Random bytes in a nonce the dendrite makes (the axon accepts 16-32)."""

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")
_NONCE = re.compile(r"^[0-9a-f]{32,64}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,16}$")


@dataclass(frozen=True)
class SignedHeaders:
    """The four request headers, parsed (syntax only: nothing is verified yet)."""

    pubkey: bytes
    timestamp_ms: int
    nonce: bytes
    signature: bytes

    @property
    def address(self) -> str:
        """The caller's ``mt1…`` hotkey address."""
        return to_bech32(address_from_pubkey(self.pubkey))


def _lp(data: bytes, width: int) -> bytes:
    return len(data).to_bytes(width, "big") + data


def request_sign_bytes(
    method: str, path: str, body: bytes, receiver: bytes, timestamp_ms: int, nonce: bytes
) -> bytes:
    """What a request's signature covers.

    ``receiver`` is the 20-byte address of the axon's hotkey; ``body`` the exact body bytes.
    Every variable-length field is length-prefixed, so two different requests never give the
    same bytes."""
    if len(receiver) != ADDRESS_LEN:
        raise ValueError(f"receiver must be a {ADDRESS_LEN}-byte address")
    return b"".join(
        [
            REQUEST_DOMAIN,
            _lp(method.upper().encode(), 1),
            _lp(path.encode(), 2),
            hashlib.sha256(body).digest(),
            receiver,
            timestamp_ms.to_bytes(8, "big"),
            _lp(nonce, 1),
        ]
    )


def response_sign_bytes(request_signature: bytes, status: int, body: bytes) -> bytes:
    """What an axon's answer signature covers: the request's signature, the status, the body."""
    return b"".join(
        [
            RESPONSE_DOMAIN,
            _lp(request_signature, 1),
            status.to_bytes(2, "big"),
            hashlib.sha256(body).digest(),
        ]
    )


def sign_request(
    key: SigningKey,
    method: str,
    path: str,
    body: bytes,
    receiver: bytes,
    timestamp_ms: int,
    nonce: bytes | None = None,
) -> dict[str, str]:
    """The four ``X-MT-*`` headers for a request to the axon whose hotkey address is
    ``receiver``. A fresh random nonce unless one is given (tests replay one on purpose)."""
    nonce = secrets.token_bytes(NONCE_BYTES) if nonce is None else nonce
    sig = key.sign(request_sign_bytes(method, path, body, receiver, timestamp_ms, nonce))
    return {
        HOTKEY: bytes(key.verify_key).hex(),
        TIMESTAMP: str(timestamp_ms),
        NONCE: nonce.hex(),
        SIGNATURE: sig.signature.hex(),
    }


def parse_request_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """Parse the four headers; raise :class:`UnsignedRequest` naming the first bad one."""
    values = {}
    for name, pattern in (
        (HOTKEY, _HEX64),
        (TIMESTAMP, _TIMESTAMP),
        (NONCE, _NONCE),
        (SIGNATURE, _HEX128),
    ):
        value = headers.get(name)
        if value is None:
            raise UnsignedRequest(f"missing header {name}")
        if not pattern.match(value):
            raise UnsignedRequest(f"malformed header {name}")
        values[name] = value
    return SignedHeaders(
        pubkey=bytes.fromhex(values[HOTKEY]),
        timestamp_ms=int(values[TIMESTAMP]),
        nonce=bytes.fromhex(values[NONCE]),
        signature=bytes.fromhex(values[SIGNATURE]),
    )


def verify_request(
    signed: SignedHeaders, method: str, path: str, body: bytes, receiver: bytes
) -> None:
    """Raise :class:`BadRequestSignature` unless ``signed`` covers this request to
    ``receiver`` (a request signed for another axon fails here too)."""
    message = request_sign_bytes(method, path, body, receiver, signed.timestamp_ms, signed.nonce)
    try:
        VerifyKey(signed.pubkey).verify(message, signed.signature)
    except (BadSignatureError, ValueError):
        raise BadRequestSignature("the signature does not match this request") from None


def sign_response(
    key: SigningKey, request_signature: bytes, status: int, body: bytes
) -> dict[str, str]:
    """The axon's answer headers: its public key and its signature over the answer."""
    sig = key.sign(response_sign_bytes(request_signature, status, body)).signature
    return {HOTKEY: bytes(key.verify_key).hex(), SIGNATURE: sig.hex()}


def verify_response(
    headers: Mapping[str, str],
    expected_hotkey: str,
    request_signature: bytes,
    status: int,
    body: bytes,
) -> None:
    """Raise :class:`BadAxonResponse` unless the answer is signed by the key whose address is
    ``expected_hotkey`` (``mt1…``, from the metagraph) over this request, status and body."""
    pub, sig = headers.get(HOTKEY, ""), headers.get(SIGNATURE, "")
    if not _HEX64.match(pub) or not _HEX128.match(sig):
        raise BadAxonResponse("the answer is not signed (X-MT-Hotkey, X-MT-Signature)")
    pubkey = bytes.fromhex(pub)
    if to_bech32(address_from_pubkey(pubkey)) != expected_hotkey:
        raise BadAxonResponse("the answer is signed by another hotkey than the metagraph's")
    try:
        VerifyKey(pubkey).verify(
            response_sign_bytes(request_signature, status, body), bytes.fromhex(sig)
        )
    except (BadSignatureError, ValueError):
        raise BadAxonResponse("the answer's signature does not verify") from None
