"""The SDK against a live node: typed results, the tx builder, typed errors, async client and
reconnecting subscriptions, a node that stops answering mid-call (a clear error within the
timeout, no hang, no connection left open), and the examples in examples/."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import REPO, LocalNode, seeded_key, wait_until

from abci_app.client.aio import AsyncChain
from abci_app.client.chain import Chain
from abci_app.client.keyring import Key, Keyring
from abci_app.client.rpc import NodeUnreachable
from abci_app.errors import InsufficientFunds, UnknownSubnet
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.subnets.messages import MsgRegisterNeuron, MsgRegisterSubnet

pytestmark = pytest.mark.integration

ALICE = Key("alice", seeded_key(31))
BOB = Key("bob", seeded_key(32))


@pytest.fixture
def node(node_factory: type) -> LocalNode:
    n: LocalNode = node_factory(
        accounts=[(ALICE.address_bytes, 10**16), (BOB.address_bytes, 10**6)]
    )
    return n.init().start(min_height=2)


def established_to(port: int) -> int:
    """Client-side TCP connections to ``port`` on loopback that are still open."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote, state = fields[2], fields[3]
        if int(remote.split(":")[1], 16) == port and state == "01":
            count += 1
    return count


def test_typed_queries_tx_builder_and_errors(node: LocalNode) -> None:
    with Chain(node.rpc_url, timeout=5) as chain:
        done = chain.send(ALICE, [MsgTransfer(BOB.address_bytes, 7)])
        assert done.height > 0 and done.code == 0
        bob = chain.account(BOB.address)
        assert (bob.balance, bob.exists) == (10**6 + 7, True)
        assert chain.account(ALICE.address).nonce == 1
        [val] = chain.validators()
        assert val.power > 0 and not val.jailed
        assert chain.delegations(ALICE.address) == []
        chain.send(ALICE, [MsgRegisterSubnet(max_cost=10**13), MsgRegisterNeuron(1, 10**11)])
        [subnet] = chain.subnets()
        assert subnet.netuid == 1 and subnet.neurons == 1 and subnet.owner == ALICE.address
        meta = chain.metagraph(1)
        assert meta.neurons[0].hotkey == ALICE.address and meta.neurons[0].uid == 0
        with pytest.raises(InsufficientFunds, match="balance"):
            chain.send(BOB, [MsgTransfer(ALICE.address_bytes, 10**9)])
        with pytest.raises(UnknownSubnet):
            chain.metagraph(9)


def test_async_client_and_a_subscription_that_survives_a_restart(node: LocalNode) -> None:
    async def run() -> tuple[list[int], int]:
        heights: list[int] = []
        async with AsyncChain(node.rpc_url, timeout=5) as chain:
            done = await chain.send(ALICE, [MsgTransfer(BOB.address_bytes, 11)])
            assert (await chain.account(BOB.address)).balance == 10**6 + 11
            assert len(await chain.validators()) == 1
            restarted = False
            async for event in chain.subscribe("tm.event='NewBlock'", reconnects=30, backoff=0.5):
                heights.append(int(event["data"]["value"]["block"]["header"]["height"]))
                if len(heights) == 2 and not restarted:
                    restarted = True
                    node.kill("cometbft")  # the stream breaks; the subscription reconnects
                    node.start_cometbft()
                if len(heights) >= 5:
                    break
            return heights, done.height

    heights, _ = asyncio.run(asyncio.wait_for(run(), 120))
    assert heights == sorted(heights) and len(set(heights)) == len(heights)
    assert heights[-1] > heights[1]  # blocks after the restart arrived on the same iterator


def test_a_node_that_stops_answering_gives_a_clear_error(node: LocalNode) -> None:
    port = node.cfg.rpc_port
    chain = Chain(node.rpc_url, timeout=1.5, retries=1)
    assert chain.account(ALICE.address).exists
    comet = node.procs["cometbft"]
    comet.send_signal(signal.SIGSTOP)  # alive but silent: a call must time out, not hang
    try:
        start = time.monotonic()
        with pytest.raises(NodeUnreachable, match="did not answer"):
            chain.account(BOB.address)
        assert time.monotonic() - start < 10  # two attempts of 1.5 s plus a short backoff

        async def async_call() -> None:
            async with AsyncChain(node.rpc_url, timeout=1.5, retries=1) as achain:
                await achain.account(BOB.address)

        with pytest.raises(NodeUnreachable):
            asyncio.run(asyncio.wait_for(async_call(), 20))
        chain.close()
        wait_until(lambda: established_to(port) == 0, 10, "client connections to close")
    finally:
        comet.send_signal(signal.SIGCONT)
    with Chain(node.rpc_url, timeout=5) as again:  # the node answers again afterwards
        assert again.account(ALICE.address).exists


@pytest.mark.parametrize(
    "script,args,expect",
    [
        ("send_transfer.py", ["--amount", "0.5"], "1000000 -> 501000000 base units"),
        ("watch_blocks.py", ["--blocks", "2"], "block "),
        ("subnet_metagraph.py", [], "consensus validator(s)"),
    ],
)
def test_examples_run_against_a_node(
    node: LocalNode, script: str, args: list[str], expect: str
) -> None:
    Keyring(node.root / "keyring").add("dev2", bytes(seeded_key(31)))  # alice's funds
    cmd = [sys.executable, str(REPO / "examples" / script), "--node", node.rpc_url, *args]
    if script == "send_transfer.py":
        cmd += ["--home", str(node.root), "--from", "dev2", "--to", BOB.address]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert expect in res.stdout, res.stdout
