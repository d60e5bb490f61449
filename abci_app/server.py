"""The ABCI socket server: framing and the four connections, nothing else.

CometBFT opens four connections (consensus, mempool, query, snapshot) to the same address. Each
message is an unsigned varint length followed by a protobuf ``Request``; each is answered in order
with a ``Response``. Responses are buffered and flushed to the socket when a ``Flush`` arrives,
as CometBFT's socket client expects (here: all answers to one read are written together, which
includes every Flush read).

All requests run on one asyncio loop, so the application sees them one at a time and needs no
locks; the loop turns between two requests of one connection, so a burst on the mempool
connection delays a consensus request by one CheckTx, not by the whole burst. A malformed
frame closes only its connection. An unexpected exception in the application is a bug: it is
logged with its traceback, answered with ``ResponseException`` so CometBFT reports it, and
the server stops (fail-stop), since in-memory state may no longer be trusted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

from google.protobuf.message import DecodeError

from ._proto.tendermint.abci import types_pb2 as abci
from .app import Application, FatalAppError, HaltReached
from .codec import decode_uvarint, encode_uvarint

log = logging.getLogger("moderntensor.server")

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
READ_CHUNK = 1 << 16
HALT_GRACE_SECONDS = 2.0
"""After committing the halt height, time left to CometBFT to save its own state for that
height before the app stops (it stops at once if CometBFT asks for the next block)."""


class MalformedFrame(Exception):
    """The peer sent bytes that are not a length-prefixed ABCI Request."""


def parse_frames(buf: bytearray) -> list[bytes]:
    """Remove and return every complete frame at the front of ``buf``."""
    frames: list[bytes] = []
    pos = 0
    with memoryview(buf) as view:  # one copy per frame (slicing the bytearray would make two)
        while True:
            try:
                got = decode_uvarint(buf, pos)
            except ValueError as e:
                raise MalformedFrame(str(e)) from None
            if got is None:
                break
            length, start = got
            if length > MAX_MESSAGE_BYTES:
                raise MalformedFrame(f"frame of {length} bytes exceeds {MAX_MESSAGE_BYTES}")
            end = start + length
            if end > len(buf):
                break
            frames.append(bytes(view[start:end]))
            pos = end
    if pos:
        del buf[:pos]
    return frames


def encode_frame(resp: abci.Response) -> bytes:
    data = resp.SerializeToString()
    return encode_uvarint(len(data)) + data


class ABCIServer:
    def __init__(self, app: Application, address: str) -> None:
        self.app = app
        self.address = address
        self._server: asyncio.Server | None = None
        self._stopped = asyncio.Event()
        self._halt_scheduled = False
        self.failure: str | None = None

    async def start(self) -> None:
        if self.address.startswith("unix://"):
            path = self.address[len("unix://") :]
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._server = await asyncio.start_unix_server(self._serve, path=path)
        else:
            hostport = self.address.removeprefix("tcp://")
            host, _, port = hostport.rpartition(":")
            self._server = await asyncio.start_server(
                self._serve, host=host or "127.0.0.1", port=int(port), reuse_address=True
            )
        log.info("ABCI server listening on %s", self.address)

    async def serve_until_stopped(self) -> None:
        await self._stopped.wait()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def stop(self, failure: str | None = None) -> None:
        if failure and self.failure is None:
            self.failure = failure
        self._stopped.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or "unix socket"
        log.info("ABCI connection from %s", peer)
        self.app.on_connect()
        buf = bytearray()
        try:
            while not self._stopped.is_set():
                chunk = await reader.read(READ_CHUNK)
                if not chunk:
                    break
                buf += chunk
                out = bytearray()
                for frame in parse_frames(buf):
                    if not self._answer(frame, out):
                        writer.write(out)
                        return
                    # let the other connections in between two requests: a chunk of CheckTx
                    # (CometBFT pipelines them, tens of ms each at worst) must not hold
                    # FinalizeBlock or a query back until it is all done (issue 13 review)
                    await asyncio.sleep(0)
                # one write for every answer to this chunk (one syscall, not one per CheckTx);
                # everything read is answered before reading again, so a Flush never waits
                writer.write(out)
                await writer.drain()
                if self.app.halted and not self._halt_scheduled:
                    self._halt_scheduled = True
                    asyncio.get_running_loop().call_later(HALT_GRACE_SECONDS, self.stop)
        except MalformedFrame as e:
            log.error("closing ABCI connection from %s: malformed frame: %s", peer, e)
        except (ConnectionResetError, BrokenPipeError):
            log.info("ABCI connection from %s reset", peer)
        except asyncio.CancelledError:
            # the server is stopping (asyncio.run cancels the connections): end quietly, or
            # Python 3.11's stream callback logs a traceback for the cancelled task
            log.info("ABCI connection from %s closed: the app is stopping", peer)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _answer(self, frame: bytes, out: bytearray) -> bool:
        """Append the answer to one frame to ``out``; False when the connection must close."""
        req = abci.Request()
        try:
            req.ParseFromString(frame)
        except DecodeError as e:
            log.error("closing ABCI connection: undecodable request: %s", e)
            return False
        kind = req.WhichOneof("value")
        if kind is None:
            log.error("closing ABCI connection: request of an unknown kind")
            return False
        try:
            resp = self.app.handle(req)
        except HaltReached as e:
            log.info("halting: %s", e)
            self.stop()
            return False
        except FatalAppError as e:
            log.error("fatal: %s", e)
            return self._fail(out, str(e))
        except Exception as e:  # a bug: report it to CometBFT and stop, never carry on
            log.exception("bug while handling %s", kind)
            return self._fail(out, f"{kind}: {type(e).__name__}: {e}")
        out += encode_frame(resp)
        return True

    def _fail(self, out: bytearray, message: str) -> bool:
        out += encode_frame(abci.Response(exception=abci.ResponseException(error=message)))
        self.stop(message)
        return False


async def run_server(app: Application, address: str) -> int:
    """Serve until stopped; return the process exit code (1 after a fatal error)."""
    server = ABCIServer(app, address)
    await server.start()
    loop = asyncio.get_running_loop()
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.stop)
    await server.serve_until_stopped()
    return 1 if server.failure else 0
