"""Nonces that do not collide: txs sent from one key before a block all get in (the next nonce
comes from the node's pending state), concurrent SDK sends are serialised per key, and a stale
nonce is retried once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from harness import LocalNode, seeded_key

from abci_app.address import address_from_pubkey, to_bech32
from abci_app.client.aio import AsyncChain
from abci_app.client.chain import Chain
from abci_app.client.keyring import Key
from abci_app.errors import BadNonce
from abci_app.modules.bank.messages import MsgTransfer

pytestmark = pytest.mark.integration

SENDER = Key("sender", seeded_key(81))
ASYNC_SENDER = Key("async-sender", seeded_key(82))
SINK = bytes(range(20))


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[LocalNode]:
    funded = [(address_from_pubkey(k.pub_key), 10**15) for k in (SENDER, ASYNC_SENDER)]
    n = LocalNode(tmp_path_factory.mktemp("nonces") / "home", accounts=funded).init()
    n.start()
    yield n
    n.stop()


def test_pending_nonce_counts_the_mempool(node: LocalNode) -> None:
    with Chain(node.rpc_url) as chain:
        start = chain.account(SENDER.address).nonce
        first = chain.broadcast(SENDER, [MsgTransfer(SINK, 1)])
        second = chain.broadcast(SENDER, [MsgTransfer(SINK, 2)])  # before any block: 21 before
        assert first.hash != second.hash
        done = [chain.rpc.wait_for_tx(r.hash) for r in (first, second)]
        assert [d.code for d in done] == [0, 0]
        assert chain.account(SENDER.address).nonce == start + 2
        res = chain.rpc.abci_query(f"/pending/account/{SENDER.address}", prove=True)
        assert res.code != 0 and "no proofs" in res.log
        assert chain.rpc.abci_query("/pending/account/mt1nope").code == 100


def test_twenty_concurrent_sends_from_one_key(node: LocalNode) -> None:
    with Chain(node.rpc_url) as chain:
        start = chain.account(SENDER.address).nonce
        with ThreadPoolExecutor(max_workers=20) as pool:
            done = list(
                pool.map(lambda i: chain.send(SENDER, [MsgTransfer(SINK, i + 1)]), range(20))
            )
        assert all(d.code == 0 for d in done)
        assert chain.account(SENDER.address).nonce == start + 20
        # they did not wait for a block each: fewer blocks than txs
        assert len({d.height for d in done}) < 20


def test_async_concurrent_sends_and_stale_nonce_retry(node: LocalNode) -> None:
    async def run() -> list[int]:
        async with AsyncChain(node.rpc_url) as chain:
            start = (await chain.account(ASYNC_SENDER.address)).nonce
            done = await asyncio.gather(
                *(chain.send(ASYNC_SENDER, [MsgTransfer(SINK, i + 1)]) for i in range(20))
            )
            assert (await chain.account(ASYNC_SENDER.address)).nonce == start + 20
            return [d.height for d in done]

    heights = asyncio.run(run())
    assert len(set(heights)) < 20
    with Chain(node.rpc_url) as chain:
        # this client believes it sent up to nonce 10**6 (e.g. its txs were dropped elsewhere):
        # the gap is refused with 21, retried once with the node's pending nonce, and committed
        chain.nonces.sent(SENDER.address, 10**6)
        assert chain.send(SENDER, [MsgTransfer(SINK, 5)]).code == 0
        # a nonce the caller chose is never changed behind its back
        with pytest.raises(BadNonce):
            chain.send(SENDER, [MsgTransfer(SINK, 5)], nonce=0)
    assert to_bech32(address_from_pubkey(SENDER.pub_key)) == SENDER.address
