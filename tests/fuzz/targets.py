"""Fuzz targets: each takes arbitrary bytes and raises only when it finds a bug.

* ``tx``: the tx decoder, then CheckTx on a live check-state: only the chain's own errors (a
  code), never another exception, and a refused tx leaves the check-state unchanged;
* ``frames``: the ABCI framing: parse_frames raises only MalformedFrame, every frame parses as a
  Request or fails with DecodeError, and splitting the stream anywhere gives the same frames;
* ``genesis``: genesis ``app_state`` parsing raises only InvalidGenesis;
* ``query``: abci_query with any path, data, height and prove flag answers (never raises).

Run by ``scripts/fuzz.py`` with atheris (coverage-guided), a short bounded run in ``make test``
(tests/fuzz/test_fuzz.py) and a longer one in ``make fuzz``.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from google.protobuf.message import DecodeError  # noqa: E402

from abci_app._proto.tendermint.abci import types_pb2 as abci  # noqa: E402
from abci_app.errors import InvalidGenesis, ModernTensorError  # noqa: E402
from abci_app.genesis import parse_app_state  # noqa: E402
from abci_app.params import AppParams  # noqa: E402
from abci_app.server import MalformedFrame, encode_frame, parse_frames  # noqa: E402
from abci_app.tx import decode_tx  # noqa: E402

_DRIVER = None


def _driver():  # type: ignore[no-untyped-def]
    """One small chain (genesis and a block of transfers) shared by the stateful targets."""
    global _DRIVER
    if _DRIVER is None:
        from chain_driver import Driver, genesis_app_state, transfer

        tmp = Path(tempfile.mkdtemp(prefix="mt-fuzz-"))
        d = Driver.open(tmp / "state.sqlite")
        d.init_chain(genesis_app_state(3))
        d.block([transfer(0, 1, 10, 0), transfer(1, 2, 10, 0)])
        _DRIVER = d
    return _DRIVER


def fuzz_tx(data: bytes) -> None:
    with contextlib.suppress(ModernTensorError):
        decode_tx(data, AppParams(), "mt-test-1")
    d = _driver()
    before = dict(d.app.check_state.writes)
    resp = d.check(data)
    if resp.code != 0:
        assert d.app.check_state.writes == before, "a refused tx changed the check-state"
    else:  # a valid tx found by the fuzzer: it must really be one (it was signed)
        d.app._reset_check_state()


def fuzz_frames(data: bytes) -> None:
    split = data[0] % (len(data) + 1) if data else 0
    whole: list[bytes] = []
    try:
        whole = parse_frames(bytearray(data))
    except MalformedFrame:
        return
    buf = bytearray(data[:split])
    try:
        parts = parse_frames(buf)
        buf += data[split:]
        parts += parse_frames(buf)
    except MalformedFrame:
        raise AssertionError("a split stream was malformed where the whole was not") from None
    assert parts == whole, "splitting the stream changed the frames"
    for frame in whole:
        req = abci.Request()
        try:
            req.ParseFromString(frame)
        except DecodeError:
            continue
        again = parse_frames(bytearray(encode_frame(req)))  # type: ignore[arg-type]
        assert len(again) == 1


def fuzz_genesis(data: bytes) -> None:
    with contextlib.suppress(InvalidGenesis):
        parse_app_state(data, "mt-test-1")


def fuzz_query(data: bytes) -> None:
    d = _driver()
    cut = data[0] if data else 0
    text = data[1 : 1 + cut].decode("utf-8", "replace")
    height = int.from_bytes(data[1 + cut : 9 + cut] or b"\0", "big") % 4
    req = abci.RequestQuery(path=text, data=data[9 + cut :], height=height, prove=bool(cut & 1))
    resp = d.app.query(req)
    assert resp.code == 0 or resp.log, "a refused query must say why"


_EACH = {"tx": fuzz_tx, "frames": fuzz_frames, "genesis": fuzz_genesis, "query": fuzz_query}
_ORDER = sorted(_EACH)


def fuzz_all(data: bytes) -> None:
    """Every target in one process (the first byte picks it): one start-up for make test."""
    if data:
        _EACH[_ORDER[data[0] % len(_ORDER)]](data[1:])


TARGETS = {**_EACH, "all": fuzz_all}


def seeds(target: str) -> list[bytes]:
    """Valid inputs to start the fuzzer from (it mutates them)."""
    from chain_driver import genesis_app_state, transfer

    if target == "all":
        return [bytes([_ORDER.index(t)]) + s for t in _ORDER for s in seeds(t)]
    if target == "tx":
        return [transfer(0, 1, 5, 1), transfer(2, 0, 10**18, 0), b""]
    if target == "frames":
        reqs = [
            abci.Request(echo=abci.RequestEcho(message="hi")),
            abci.Request(check_tx=abci.RequestCheckTx(tx=transfer(0, 1, 5, 1))),
            abci.Request(flush=abci.RequestFlush()),
        ]
        return [b"".join(encode_frame(r) for r in reqs)]  # type: ignore[arg-type]
    if target == "genesis":
        return [json.dumps(genesis_app_state(2)).encode(), b"{}"]
    return [b"\x20/account/mt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", b"\x07/params"]
