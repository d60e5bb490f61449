"""The load generator's minimal HTTP/1.1 client: requests are built before the clock starts and
answers are read by Content-Length or chunked encoding, as Go's net/http may send either."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from abci_app.tools.loadgen import _read_response, _result_code, broadcast_request


def read(data: bytes) -> bytes:
    async def go() -> bytes:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await _read_response(reader)

    return asyncio.run(go())


def test_request_is_a_complete_json_rpc_post() -> None:
    req = broadcast_request("127.0.0.1:26657", b"\x01\x02tx")
    head, body = req.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST / HTTP/1.1" and "Host: 127.0.0.1:26657" in lines
    assert f"Content-Length: {len(body)}" in lines
    call = json.loads(body)
    assert call["method"] == "broadcast_tx_sync"
    assert base64.b64decode(call["params"]["tx"]) == b"\x01\x02tx"


def test_content_length_and_chunked_bodies() -> None:
    body = b'{"jsonrpc":"2.0","id":0,"result":{"code":0}}'
    plain = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    assert read(plain) == body
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % 10
        + body[:10]
        + b"\r\n"
        + b"%x\r\n" % (len(body) - 10)
        + body[10:]
        + b"\r\n0\r\n\r\n"
    )
    assert read(chunked) == body


def test_a_response_without_length_is_an_error() -> None:
    with pytest.raises(ConnectionError):
        read(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{}")


def test_result_codes() -> None:
    assert _result_code(b'{"result":{"code":0,"hash":"AB"}}') == 0
    assert _result_code(b'{"result":{"code":7}}') == 7
    assert _result_code(b'{"error":{"code":-32603,"message":"mempool is full"}}') == -1
