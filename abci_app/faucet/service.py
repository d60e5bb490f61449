"""Granting tokens: limits, the faucet key's nonce, and broadcasting through CometBFT RPC.

Grants are serialised by one lock: the faucet's nonce is read once and then counted locally,
so concurrent requests never reuse a nonce; on a nonce mismatch (someone else used the key)
it is re-read from the chain and the grant retried once. Each transfer is signed by the SDK's
builder with the exact fee the node quotes for it (``Chain.build``: the ``/fee`` quote,
max(min_fee, weight x gas_price); weights.py), so a chain whose gas price makes a transfer
cost more than ``min_fee`` still gets paid. A grant is answered once its transfer is in a
block (the wait happens outside the lock, so concurrent grants share blocks): the recipient
can spend as soon as it has the answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..address import from_bech32
from ..client.chain import Chain
from ..client.keyring import Key
from ..client.rpc import NodeUnreachable, RPCClient, RPCError, TxTimeout
from ..errors import BadNonce, InvalidAddress, ModernTensorError
from ..modules.bank.messages import MsgTransfer
from .ledger import Ledger, Limits, Refusal
from .metrics import FaucetMetrics


@dataclass
class Faucet:
    rpc_url: str
    key: Key
    limits: Limits
    ledger: Ledger
    clock: Callable[[], float] = time.time
    metrics: FaucetMetrics | None = None
    commit_timeout: float = 30.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self.grants = 0
        self.refusals = 0

    def _fetch_nonce(self, rpc: RPCClient) -> int:
        return int(rpc.abci_query(f"/account/{self.key.address}").json()["nonce"])

    def grant(self, address: str, ip: str) -> dict[str, Any]:
        """Send ``limits.amount`` to ``address`` and wait for the block; the JSON answer has the
        tx hash and height. Raises Refusal (400 bad address, 429 a limit, 502 the chain is
        unreachable or refused, 504 not committed in ``commit_timeout`` seconds)."""
        try:
            sent = self._grant(address, ip)
            return self._committed(sent)
        except Refusal as refusal:
            self.refusals += 1
            if self.metrics is not None:
                self.metrics.refusals.labels(refusal.code).inc()
            raise

    def _grant(self, address: str, ip: str) -> dict[str, Any]:
        try:
            to = from_bech32(address)
        except InvalidAddress as e:
            raise Refusal("bad_address", 400, e.log()) from None
        with self._lock:
            now = self.clock()
            self.ledger.check(address, ip, now, self.limits)
            try:
                with Chain(self.rpc_url, timeout=10, retries=1) as chain:
                    for attempt in range(2):
                        nonce: int = (
                            self._nonce if self._nonce is not None else self._fetch_nonce(chain.rpc)
                        )
                        self._nonce = nonce
                        raw = chain.build(  # signed with the fee the node quotes for it
                            self.key, [MsgTransfer(to, self.limits.amount)], None, "faucet", nonce
                        )
                        res = chain.rpc.broadcast_tx_sync(raw)
                        if res.code == BadNonce.code and attempt == 0:
                            self._nonce = None
                            continue
                        break
            except (NodeUnreachable, RPCError) as e:
                raise Refusal("node_unavailable", 502, f"the chain is unreachable: {e}") from None
            except ModernTensorError as e:  # the node refused a query (params, fee quote)
                raise Refusal(
                    "chain_rejected", 502, f"the chain refused the fee quote: {e.log()}"
                ) from None
            if res.code != 0:
                self._nonce = None
                raise Refusal(
                    "chain_rejected",
                    502,
                    f"the chain refused the grant (code {res.code}): {res.log}",
                )
            self._nonce = nonce + 1
            self.ledger.record(address, ip, now, self.limits)
            self.grants += 1
            if self.metrics is not None:
                self.metrics.grants.inc()
                self.metrics.granted.inc(self.limits.amount)
            return {"address": address, "amount": str(self.limits.amount), "tx_hash": res.hash}

    def _committed(self, sent: dict[str, Any]) -> dict[str, Any]:
        try:
            with RPCClient(self.rpc_url, timeout=10, retries=1) as rpc:
                done = rpc.wait_for_tx(sent["tx_hash"], timeout=self.commit_timeout)
        except TxTimeout:
            raise Refusal(
                "not_committed",
                504,
                f"the grant was sent (tx {sent['tx_hash']}) but is not in a block after "
                f"{self.commit_timeout:.0f}s",
            ) from None
        except (NodeUnreachable, RPCError) as e:
            raise Refusal("node_unavailable", 502, f"the chain is unreachable: {e}") from None
        if done.code != 0:
            raise Refusal(
                "chain_rejected", 502, f"the grant failed in its block (code {done.code})"
            )
        return {**sent, "height": done.height}

    def status(self) -> dict[str, Any]:
        return {
            "faucet_address": self.key.address,
            "amount": str(self.limits.amount),
            "address_cooldown_seconds": self.limits.address_cooldown,
            "ip_limit": self.limits.ip_limit,
            "ip_window_seconds": self.limits.ip_window,
            "daily_cap": str(self.limits.cap),
            "granted_today": str(self.ledger.granted_today(self.clock())),
        }
