"""Reading the node from a neuron: every answer within a timeout, every malformed one an error.

A neuron's node may be down, restarting, or hostile (anyone can point a miner at any RPC
address). None of that may stop or hang a neuron, so each read here has a timeout and decodes
the answer defensively: a list where an object belongs, a string where a number does, nesting
deeper than the parser recurses, all become ``RPCError``, one of :data:`SYNC_ERRORS`, which the
miner and validator log and retry. The SDK's async client bounds the rest (a whole attempt's
time, an answer's size).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..client.aio import AsyncChain
from ..client.rpc import NodeUnreachable, RPCError
from ..errors import ModernTensorError

SYNC_ERRORS = (NodeUnreachable, RPCError, ModernTensorError, TimeoutError, ValueError, KeyError)
"""What a read may meet when the node is down, restarting or answering oddly: logged, retried."""

MALFORMED = (
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    ValueError,
    RecursionError,
    OverflowError,
)
"""What decoding a node's JSON of the wrong shape raises: each is turned into ``RPCError``."""

MAX_HEIGHT = 2**63 - 1

MAX_NODE_ANSWER_BYTES = 16 << 20
"""Largest node answer a neuron reads (``AsyncChain(max_response_bytes=...)``): a metagraph
of 4,096 uids, the most a subnet may hold, is about 3 MiB of JSON-RPC."""


def as_height(value: Any) -> int:
    """A block height as CometBFT writes it (a decimal string) or as the app does (an int);
    ``ValueError`` for anything else or outside 0..2^63-1."""
    ok = isinstance(value, str | int) and not isinstance(value, bool)
    height = int(value) if ok else -1
    if not 0 <= height <= MAX_HEIGHT:
        raise ValueError(f"not a block height: {str(value)[:40]!r}")
    return height


async def node_query(chain: AsyncChain, path: str, timeout: float) -> Any:
    """The JSON of the node's ``abci_query`` at ``path``, within ``timeout`` seconds.

    Raises the SDK's errors (``NodeUnreachable``, ``RPCError``, the chain's refusal as a
    ``ModernTensorError``), ``TimeoutError``, or ``RPCError`` for a malformed answer."""
    try:
        return await asyncio.wait_for(chain.query(path), timeout)
    except MALFORMED as e:
        raise RPCError(f"malformed answer to {path}: {type(e).__name__}") from None


async def node_object(chain: AsyncChain, path: str, timeout: float) -> dict[str, Any]:
    """:func:`node_query` for a path that answers a JSON object (``RPCError`` otherwise)."""
    data = await node_query(chain, path, timeout)
    if not isinstance(data, dict):
        raise RPCError(f"malformed answer to {path}: not an object")
    return data


async def hyperparams(chain: AsyncChain, netuid: int, timeout: float) -> dict[str, Any]:
    """The subnet's hyperparameters (``/subnet/<netuid>/hyperparams``); ``RPCError`` unless
    the ones a validator reads (``tempo``, ``weights_rate_limit``, ``commit_reveal``) are
    ints in 0..2^63-1."""
    path = f"/subnet/{netuid}/hyperparams"
    hp = await node_object(chain, path, timeout)
    for name in ("tempo", "weights_rate_limit", "commit_reveal"):
        value = hp.get(name)
        if type(value) is not int or not 0 <= value <= MAX_HEIGHT:
            raise RPCError(f"malformed answer to {path}: {name}")
    return hp


async def latest_height(chain: AsyncChain, timeout: float) -> int:
    """The node's latest block height (``status``), within ``timeout`` seconds; errors as
    :func:`node_query`."""
    status = await asyncio.wait_for(chain.rpc.call("status"), timeout)
    try:
        return as_height(status["sync_info"]["latest_block_height"])
    except MALFORMED as e:
        raise RPCError(f"malformed status answer: {type(e).__name__}") from None


def event_height(event: Any) -> int:
    """The height of a ``NewBlockHeader`` event (``RPCError`` when it has none)."""
    try:
        return as_height(event["data"]["value"]["header"]["height"])
    except MALFORMED as e:
        raise RPCError(f"malformed block event: {type(e).__name__}") from None
