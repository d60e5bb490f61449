"""The ABCI socket server over real TCP and unix sockets: framing, order, flush, bad input."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from chain_driver import genesis_app_state
from harness import CHAIN_ID, free_ports

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app.app import ABCI_METHODS, Application
from abci_app.codec import decode_uvarint, encode_uvarint
from abci_app.server import ABCIServer
from abci_app.state.db import StateDB


def frame(req: abci.Request) -> bytes:
    data = req.SerializeToString()
    return encode_uvarint(len(data)) + data


async def read_responses(reader: asyncio.StreamReader, n: int) -> list[abci.Response]:
    buf = b""
    out: list[abci.Response] = []
    while len(out) < n:
        got = decode_uvarint(buf)
        if got is not None and len(buf) >= got[1] + got[0]:
            length, start = got
            out.append(abci.Response.FromString(buf[start : start + length]))
            buf = buf[start + length :]
            continue
        chunk = await asyncio.wait_for(reader.read(4096), 5)
        assert chunk, "connection closed early"
        buf += chunk
    return out


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coro, 30))


def make_server(tmp_path: Path, address: str) -> tuple[ABCIServer, StateDB]:
    db = StateDB(tmp_path / "s.sqlite")
    return ABCIServer(Application(db), address), db


def test_requests_are_answered_in_order_and_flushed(tmp_path: Path) -> None:
    port = free_ports(1)[0]

    async def scenario() -> None:
        server, _ = make_server(tmp_path, f"tcp://127.0.0.1:{port}")
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        init = abci.Request(
            init_chain=abci.RequestInitChain(
                chain_id=CHAIN_ID,
                app_state_bytes=json.dumps(genesis_app_state(2)).encode(),
                initial_height=1,
            )
        )
        reqs = [
            abci.Request(echo=abci.RequestEcho(message="hello")),
            abci.Request(info=abci.RequestInfo()),
            init,
            abci.Request(process_proposal=abci.RequestProcessProposal()),
            abci.Request(verify_vote_extension=abci.RequestVerifyVoteExtension()),
            abci.Request(offer_snapshot=abci.RequestOfferSnapshot()),
            abci.Request(flush=abci.RequestFlush()),
        ]
        writer.write(b"".join(frame(r) for r in reqs))
        await writer.drain()
        resps = await read_responses(reader, len(reqs))
        assert [r.WhichOneof("value") for r in resps] == [r.WhichOneof("value") for r in reqs]
        assert resps[0].echo.message == "hello"
        assert resps[1].info.last_block_height == 0 and resps[1].info.last_block_app_hash == b""
        assert len(resps[2].init_chain.app_hash) == 32
        assert resps[3].process_proposal.status == abci.ResponseProcessProposal.ACCEPT
        assert resps[4].verify_vote_extension.status == abci.ResponseVerifyVoteExtension.ACCEPT
        # a node that has loaded genesis never restores a snapshot over it
        assert resps[5].offer_snapshot.result == abci.ResponseOfferSnapshot.ABORT
        writer.close()
        server.stop()
        await server.serve_until_stopped()

    run(scenario())


def test_malformed_frame_closes_only_that_connection(tmp_path: Path) -> None:
    sock = str(tmp_path / "abci.sock")

    async def scenario() -> None:
        server, db = make_server(tmp_path, f"unix://{sock}")
        await server.start()
        before = (db.height, db.app_hash)
        r1, w1 = await asyncio.open_unix_connection(sock)
        w1.write(b"\xff" * 11)  # a varint longer than 10 bytes
        await w1.drain()
        assert await asyncio.wait_for(r1.read(100), 5) == b""  # closed by the server
        r2, w2 = await asyncio.open_unix_connection(sock)
        w2.write(frame(abci.Request(flush=abci.RequestFlush()))[:1] + b"\x05garbage")
        await w2.drain()
        assert await asyncio.wait_for(r2.read(100), 5) == b""
        r3, w3 = await asyncio.open_unix_connection(sock)
        w3.write(encode_uvarint(0) + frame(abci.Request(flush=abci.RequestFlush())))
        await w3.drain()
        assert await asyncio.wait_for(r3.read(100), 5) == b""  # empty Request: unknown kind
        r4, w4 = await asyncio.open_unix_connection(sock)
        w4.write(
            frame(abci.Request(echo=abci.RequestEcho(message="still up")))
            + frame(abci.Request(flush=abci.RequestFlush()))
        )
        await w4.drain()
        resps = await read_responses(r4, 2)
        assert resps[0].echo.message == "still up"
        assert (db.height, db.app_hash) == before
        assert server.failure is None
        w4.close()
        server.stop()
        await server.serve_until_stopped()

    run(scenario())


def test_bad_genesis_is_reported_to_cometbft_and_stops_the_server(tmp_path: Path) -> None:
    port = free_ports(1)[0]

    async def scenario() -> None:
        server, db = make_server(tmp_path, f"tcp://127.0.0.1:{port}")
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        bad = abci.Request(
            init_chain=abci.RequestInitChain(chain_id="c", app_state_bytes=b'{"x":1}')
        )
        writer.write(frame(bad) + frame(abci.Request(flush=abci.RequestFlush())))
        await writer.drain()
        (resp,) = await read_responses(reader, 1)
        assert resp.WhichOneof("value") == "exception"
        assert "unknown field(s) in app_state: x" in resp.exception.error
        await asyncio.wait_for(server.serve_until_stopped(), 5)
        assert server.failure is not None
        assert db.height == 0

    run(scenario())


def test_the_app_answers_every_abci_request_kind_by_its_method() -> None:
    kinds = {f.name for f in abci.Request.DESCRIPTOR.oneofs_by_name["value"].fields}
    assert set(ABCI_METHODS) == kinds
    assert kinds == {f.name for f in abci.Response.DESCRIPTOR.oneofs_by_name["value"].fields} - {
        "exception"
    }


def test_a_burst_of_check_tx_does_not_hold_back_another_connection(tmp_path: Path) -> None:
    """CometBFT pipelines CheckTx on the mempool connection; on main a chunk of them (up to
    64 KiB of frames) was handled whole before any other connection's request, so a burst of
    heavy txs (tens of ms each) held FinalizeBlock back for seconds. Counted: when the other
    connection's Echo is answered, only a few of the burst's 300 CheckTx have run."""
    sock = str(tmp_path / "abci.sock")

    async def scenario() -> None:
        server, _ = make_server(tmp_path, f"unix://{sock}")
        checked = [0]
        seen_by_echo: list[int] = []
        real_check, real_echo = server.app.check_tx, server.app.echo

        def counting_check(req: abci.RequestCheckTx) -> abci.ResponseCheckTx:
            checked[0] += 1
            return real_check(req)

        def noting_echo(req: abci.RequestEcho) -> abci.ResponseEcho:
            seen_by_echo.append(checked[0])
            return real_echo(req)

        server.app.handlers["check_tx"] = server.app._answer("check_tx", counting_check)
        server.app.handlers["echo"] = server.app._answer("echo", noting_echo)
        await server.start()
        r1, w1 = await asyncio.open_unix_connection(sock)
        r2, w2 = await asyncio.open_unix_connection(sock)
        for w, r in ((w1, r1), (w2, r2)):  # both connections are being served
            w.write(frame(abci.Request(flush=abci.RequestFlush())))
            await w.drain()
            await read_responses(r, 1)
        burst = frame(abci.Request(check_tx=abci.RequestCheckTx(tx=b"\x01garbage")))
        w1.write(burst * 300 + frame(abci.Request(flush=abci.RequestFlush())))
        w2.write(
            frame(abci.Request(echo=abci.RequestEcho(message="consensus")))
            + frame(abci.Request(flush=abci.RequestFlush()))
        )
        await asyncio.gather(w1.drain(), w2.drain())
        echo, checks = await asyncio.gather(read_responses(r2, 2), read_responses(r1, 301))
        assert echo[0].echo.message == "consensus" and len(checks) == 301
        assert checked[0] == 300 and seen_by_echo[0] < 30, seen_by_echo  # main: 300
        w1.close()
        w2.close()
        server.stop()
        await server.serve_until_stopped()

    run(scenario())
