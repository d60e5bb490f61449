"""Signing of axon requests and answers: every signed field matters, the domains are separate,
an answer is bound to its request, and malformed headers are refused with a reason."""

from __future__ import annotations

import pytest
from harness import seeded_key

from abci_app.client.keyring import Key
from abci_app.errors import BadAxonResponse, BadRequestSignature, UnsignedRequest
from abci_app.neurons.signing import (
    HOTKEY,
    NONCE,
    SIGNATURE,
    TIMESTAMP,
    parse_request_headers,
    request_sign_bytes,
    sign_request,
    sign_response,
    verify_request,
    verify_response,
)
from abci_app.tx import sign_bytes

CALLER = Key("caller", seeded_key(700))
MINER = Key("miner", seeded_key(701))
OTHER = Key("other", seeded_key(702))
BODY = b'{"netuid":1,"task":"digits","inputs":[]}'
NOW = 1_790_000_000_000


def signed() -> dict[str, str]:
    return sign_request(
        CALLER.signing_key, "POST", "/v1/forward", BODY, MINER.address_bytes, NOW, b"n" * 16
    )


def test_a_signed_request_verifies_and_names_its_caller() -> None:
    headers = signed()
    parsed = parse_request_headers(headers)
    assert parsed.address == CALLER.address and parsed.timestamp_ms == NOW
    verify_request(parsed, "POST", "/v1/forward", BODY, MINER.address_bytes)


@pytest.mark.parametrize(
    "method,path,body,receiver",
    [
        ("GET", "/v1/forward", BODY, MINER.address_bytes),
        ("POST", "/v1/other", BODY, MINER.address_bytes),
        ("POST", "/v1/forward", BODY + b" ", MINER.address_bytes),
        ("POST", "/v1/forward", BODY, OTHER.address_bytes),  # relayed to another axon
    ],
)
def test_every_signed_field_is_bound(method: str, path: str, body: bytes, receiver: bytes) -> None:
    with pytest.raises(BadRequestSignature):
        verify_request(parse_request_headers(signed()), method, path, body, receiver)


@pytest.mark.parametrize("field", [TIMESTAMP, NONCE])
def test_changing_timestamp_or_nonce_breaks_the_signature(field: str) -> None:
    headers = signed()
    headers[field] = str(NOW + 1) if field == TIMESTAMP else "ab" * 16
    with pytest.raises(BadRequestSignature):
        verify_request(
            parse_request_headers(headers), "POST", "/v1/forward", BODY, MINER.address_bytes
        )


def test_another_key_cannot_sign_for_the_caller() -> None:
    headers = signed()
    forged = sign_request(
        OTHER.signing_key, "POST", "/v1/forward", BODY, MINER.address_bytes, NOW, b"n" * 16
    )
    headers[SIGNATURE] = forged[SIGNATURE]  # the caller's public key, another key's signature
    with pytest.raises(BadRequestSignature):
        verify_request(
            parse_request_headers(headers), "POST", "/v1/forward", BODY, MINER.address_bytes
        )


@pytest.mark.parametrize(
    "name,value",
    [
        (HOTKEY, None),
        (HOTKEY, "zz" * 32),
        (HOTKEY, "ab" * 31),
        (TIMESTAMP, "-5"),
        (TIMESTAMP, "1" * 17),
        (NONCE, "ab" * 8 + "a"),  # odd
        (NONCE, "ab" * 33),  # too long
        (NONCE, "ab" * 15),  # too short
        (SIGNATURE, "00" * 63),
    ],
)
def test_malformed_headers_are_refused(name: str, value: str | None) -> None:
    headers = signed()
    if value is None:
        del headers[name]
    else:
        headers[name] = value
    with pytest.raises(UnsignedRequest, match=name):
        parse_request_headers(headers)


def test_domains_are_separate_from_transactions() -> None:
    """No tx sign-bytes can be a request's sign-bytes: each starts with its own domain tag."""
    req = request_sign_bytes("POST", "/v1/forward", BODY, MINER.address_bytes, NOW, b"n" * 16)
    assert req.startswith(b"moderntensor/axon-request/v1")
    assert sign_bytes("mt-test-1", BODY).startswith(b"moderntensor/tx/v1")


def test_answers_are_bound_to_the_request_and_the_miner() -> None:
    req_sig = bytes.fromhex(signed()[SIGNATURE])
    body = b'{"outputs":[1]}'
    headers = sign_response(MINER.signing_key, req_sig, 200, body)
    verify_response(headers, MINER.address, req_sig, 200, body)
    with pytest.raises(BadAxonResponse, match="another hotkey"):
        verify_response(headers, OTHER.address, req_sig, 200, body)
    with pytest.raises(BadAxonResponse, match="does not verify"):
        verify_response(headers, MINER.address, b"\x00" * 64, 200, body)  # an old answer
    with pytest.raises(BadAxonResponse, match="does not verify"):
        verify_response(headers, MINER.address, req_sig, 200, b'{"outputs":[2]}')
    with pytest.raises(BadAxonResponse, match="not signed"):
        verify_response({}, MINER.address, req_sig, 200, body)
