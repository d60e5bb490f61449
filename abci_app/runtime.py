"""Checks the app process runs before it serves CometBFT: the environment it was tested in.

Consensus depends on the protobuf runtime: a tx is valid only in its canonical encoding
(``tx._parse_canonical`` re-serialises deterministically and compares), and unknown fields,
UTF-8 checks and map ordering are decided by the runtime. Protobuf's Python package ships
several backends (``upb``, the pure-Python ``python`` one, the legacy ``cpp``); they have
differed in such edge cases before, and two nodes that disagree on one tx's validity fork.
So a node refuses to start on any backend but the one the test suite and the pinned vectors
run on.

The ABCI socket has no authentication: whoever reaches it can send FinalizeBlock and Commit
and so write the node's state. It is served on loopback or a unix socket only.
"""

from __future__ import annotations

import ipaddress

from google.protobuf import __version__ as protobuf_version
from google.protobuf.internal import api_implementation

TESTED_PROTOBUF_BACKEND = "upb"
"""``api_implementation.Type()`` of the pinned protobuf (7.36.2) by default; tests and vectors
run on it."""


class RuntimeRefused(Exception):
    """The process must not serve consensus here; the message says why and what to change."""


def check_protobuf_backend(backend: str | None = None) -> None:
    """Raise :class:`RuntimeRefused` unless protobuf runs on :data:`TESTED_PROTOBUF_BACKEND`.

    ``backend`` defaults to the running one (tests pass another to see the refusal)."""
    backend = backend or api_implementation.Type()
    if backend != TESTED_PROTOBUF_BACKEND:
        raise RuntimeRefused(
            f"protobuf {protobuf_version} runs on its {backend!r} backend; ModernTensor is "
            f"tested only on {TESTED_PROTOBUF_BACKEND!r} (a backend deciding a tx's canonical "
            "encoding differently would fork the node): unset "
            "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION and reinstall the pinned protobuf"
        )


def check_abci_address(address: str) -> None:
    """Raise :class:`RuntimeRefused` unless ``address`` (``tcp://host:port`` or
    ``unix:///path``) listens on loopback or a unix socket only."""
    if address.startswith("unix://"):
        return
    host = address.removeprefix("tcp://").rpartition(":")[0].strip("[]")
    if host in ("", "localhost"):  # the server listens on 127.0.0.1 when no host is given
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise RuntimeRefused(
            f"ABCI address {address!r} is not loopback: anyone reaching the ABCI socket can "
            "write this node's state (it has no authentication). Listen on 127.0.0.1 or a "
            "unix:// socket, next to cometbft"
        )
