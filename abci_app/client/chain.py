"""The SDK's high-level client: typed queries and a tx builder that fetches the nonce, signs,
broadcasts and waits for the block. Synchronous; :mod:`abci_app.client.aio` is the async twin.

Errors are the chain's own exception classes (``abci_app.errors``): a query or tx rejected with
code 102 raises :class:`~abci_app.errors.InsufficientFunds`, and so on, with the node's
message; an unreachable node raises :class:`NodeUnreachable` after the client's timeout and
bounded retries, never hangs.

    with Chain("http://127.0.0.1:26657") as chain:
        print(chain.account("mt1…").balance)
        done = chain.send(key, [MsgTransfer(to, 1_000_000_000)])
"""

from __future__ import annotations

from typing import Any

from nacl.signing import SigningKey

from ..errors import ERRORS_BY_CODE, ModernTensorError
from ..tx import Message, build_tx, tx_fee
from ..weights import exact_fee
from .keyring import Key
from .nonces import BAD_NONCE, UNKNOWN_QUERY_PATH, NonceBook, pending_path
from .paging import Walk
from .rpc import DEFAULT_NODE, BroadcastResult, CommittedTx, QueryResult, RPCClient
from .types import Account, Delegation, Metagraph, Subnet, Validator


class _QuoteKey:
    """A throwaway signer for fee quotes (a fee depends on size and messages only)."""

    signing_key = SigningKey(bytes(32))
    address = ""


_ANY_KEY: Any = _QuoteKey()


def chain_error(code: int, log: str, **context: Any) -> ModernTensorError:
    """The chain's exception for a rejection ``code``, carrying the node's message."""
    cls = ERRORS_BY_CODE.get(code)
    if cls is None:  # a code this SDK does not know (a newer node)
        err = ModernTensorError(f"code {code}: {log}")
    else:
        prefix = f"{cls.summary}: "
        err = cls(log[len(prefix) :] if log.startswith(prefix) else log)
    for k, v in context.items():
        setattr(err, k, v)
    return err


def query_json(result: QueryResult) -> Any:
    if result.code != 0:
        raise chain_error(result.code, result.log)
    return result.json()


class Chain:
    def __init__(self, url: str = DEFAULT_NODE, timeout: float = 10.0, retries: int = 2) -> None:
        self.rpc = RPCClient(url, timeout=timeout, retries=retries)
        self._params: dict[str, Any] | None = None
        self.nonces = NonceBook()

    def close(self) -> None:
        self.rpc.close()

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, path: str) -> Any:
        """Any JSON ``abci_query`` route (see README "Queries")."""
        return query_json(self.rpc.abci_query(path))

    def params(self) -> dict[str, Any]:
        if self._params is None:
            self._params = self.query("/params")
        return self._params

    def account(self, address: str) -> Account:
        return Account.from_json(self.query(f"/account/{address}"))

    def query_all(self, route: str, field: str) -> list[Any]:
        """Every entry of a paginated list route (``/validators``, ``/delegations/<addr>``,
        ``/unbonding/<addr>``), page by page (client/paging.py)."""
        walk = Walk(route, field)
        while (path := walk.next_path()) is not None:
            walk.add(self.query(path))
        return walk.items

    def validators(self) -> list[Validator]:
        """Every validator, in the node's rank order (all pages)."""
        return [Validator.from_json(v) for v in self.query_all("/validators", "validators")]

    def delegations(self, delegator: str) -> list[Delegation]:
        """Every delegation of ``delegator`` (all pages)."""
        rows = self.query_all(f"/delegations/{delegator}", "delegations")
        return [Delegation.from_json(d) for d in rows]

    def subnets(self) -> list[Subnet]:
        return [Subnet.from_json(s) for s in self.query("/subnets")]

    def metagraph(self, netuid: int) -> Metagraph:
        return Metagraph.from_json(self.query(f"/subnet/{netuid}/metagraph"))

    def pending_nonce(self, address: str) -> int:
        """The next nonce for ``address`` by the node's pending (check) state; the committed
        nonce from a node without the pending route."""
        res = self.rpc.abci_query(pending_path(address))
        if res.code == UNKNOWN_QUERY_PATH:
            return self.account(address).nonce
        return int(query_json(res)["nonce"])

    def build(
        self,
        key: Key,
        msgs: list[Message],
        fee: int | None = None,
        memo: str = "",
        nonce: int | None = None,
    ) -> bytes:
        """Sign ``msgs`` with ``nonce`` (default: the next one, see :mod:`.nonces`) and, by
        default, the exact fee the chain requires (quoted by the node for this very tx and
        re-signed until the quote is the fee: no estimation; weights.py)."""
        p = self.params()
        if nonce is None:
            nonce = self.nonces.next(key.address, self.pending_nonce(key.address))
        use = nonce

        def sign(the_fee: int) -> bytes:
            return build_tx(key.signing_key, p["chain_id"], use, the_fee, msgs, memo)

        if fee is not None:
            return sign(fee)
        return exact_fee(sign, self.fee_of, int(p["params"]["min_fee"]))

    def fee_of(self, raw: bytes) -> int:
        """The exact fee the chain requires of the signed tx ``raw``: the node's ``/fee``
        quote (max(min_fee, weight x gas_price), base units)."""
        return int(self.fee_quote(raw)["fee"])

    def fee_quote(self, raw: bytes) -> dict[str, Any]:
        """The node's ``/fee`` answer for the signed tx ``raw``: weight, fee, gas_price,
        min_fee."""
        return dict(query_json(self.rpc.abci_query("/fee", data=raw)))

    def quote_fee(self, msgs: list[Message], memo: str = "") -> int:
        """The fee :meth:`send` pays for ``msgs`` (exact: what the chain charges). A fee
        depends on the tx's size and messages, not on who signs it: quoted here for a tx
        signed by a throwaway key of the same size."""
        return tx_fee(self.build(_ANY_KEY, msgs, None, memo, nonce=0))

    def broadcast(
        self,
        key: Key,
        msgs: list[Message],
        fee: int | None = None,
        memo: str = "",
        nonce: int | None = None,
    ) -> BroadcastResult:
        """Build and ``broadcast_tx_sync`` under the key's lock; a BadNonce refusal of a nonce
        chosen here is retried once with a fresh one (:mod:`.nonces`). Raises the chain's
        error for a refusal."""
        with self.nonces.lock(key.address):
            for attempt in (1, 2):
                use = (
                    nonce
                    if nonce is not None
                    else self.nonces.next(key.address, self.pending_nonce(key.address))
                )
                res = self.rpc.broadcast_tx_sync(self.build(key, msgs, fee, memo, use))
                if res.code == BAD_NONCE and nonce is None and attempt == 1:
                    self.nonces.forget(key.address)
                    continue
                break
            if res.code != 0:
                raise chain_error(res.code, res.log, tx_hash=res.hash)
            self.nonces.sent(key.address, use)
        return res

    def send(
        self,
        key: Key,
        msgs: list[Message],
        fee: int | None = None,
        memo: str = "",
        timeout: float = 30.0,
        nonce: int | None = None,
    ) -> CommittedTx:
        """Build, broadcast, wait for the block. A refusal by CheckTx or a failure in the block
        raises the chain's error (with ``tx_hash``, and ``height`` once included). Safe to
        call from several threads with one key (:mod:`.nonces`)."""
        res = self.broadcast(key, msgs, fee, memo, nonce)
        done = self.rpc.wait_for_tx(res.hash, timeout=timeout)
        if done.code != 0:
            raise chain_error(done.code, done.log, tx_hash=done.hash, height=done.height)
        return done
