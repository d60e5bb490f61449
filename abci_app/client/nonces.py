"""Nonces that do not collide: one sender at a time per key, the next nonce from the pending
state, and one safe retry.

Rules the sync and async clients share (:class:`~.chain.Chain`, :class:`~.aio.AsyncChain`):

- The next nonce is the node's *pending* nonce (``/pending/account/<addr>``: the committed nonce
  plus this sender's txs in the node's mempool), never below the last nonce this client sent
  plus one. An older node without the route: the committed nonce.
- Sends from one key are serialised (a lock per address) from fetching the nonce to the end of
  ``broadcast_tx_sync``: CometBFT answers broadcast_tx_sync after CheckTx, so the next sender's
  pending query already counts the previous tx. Waiting for the block happens outside the lock,
  so twenty sends from one key fill one block.
- A refusal by CheckTx with code 21 (BadNonce) is retried once with a fresh pending nonce when
  the nonce was chosen here (not given by the caller): a tx CheckTx refused is in no mempool and
  can never be committed, so sending its replacement cannot spend twice.
"""

from __future__ import annotations

import asyncio
import threading

from ..errors import BadNonce, UnknownQueryPath

BAD_NONCE = BadNonce.code
UNKNOWN_QUERY_PATH = UnknownQueryPath.code


def pending_path(address: str) -> str:
    return f"/pending/account/{address}"


class NonceBook:
    """The next nonce this client will use per address, and a lock per address (threads)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._async_locks: dict[str, asyncio.Lock] = {}
        self._next: dict[str, int] = {}

    def lock(self, address: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(address, threading.Lock())

    def async_lock(self, address: str) -> asyncio.Lock:
        with self._guard:
            return self._async_locks.setdefault(address, asyncio.Lock())

    def next(self, address: str, pending: int) -> int:
        """The nonce to use: the node's pending nonce, or more if this client sent further."""
        with self._guard:
            return max(pending, self._next.get(address, 0))

    def sent(self, address: str, nonce: int) -> None:
        """A tx with ``nonce`` passed CheckTx."""
        with self._guard:
            self._next[address] = max(self._next.get(address, 0), nonce + 1)

    def forget(self, address: str) -> None:
        """Trust the node again (after a BadNonce refusal)."""
        with self._guard:
            self._next.pop(address, None)
