"""Any RPC caller, through a real node's JSON-RPC: hostile query paths (huge, negative,
non-numeric, unicode, long; with prove and odd heights) and garbage txs. Each is answered with
an error code, the node keeps producing blocks and committing txs, and its memory stays within
the stated bounds (adversary.node_is_live, after every attack). On main,
``abci_query path="/subnet/70000"`` stopped the node."""

from __future__ import annotations

import base64
import random

import pytest
from adversary import node_is_live
from harness import CHAIN_ID, LocalNode, addr_of, seeded_key

from abci_app.client.rpc import RPCClient, RPCError
from abci_app.errors import (
    ERRORS_BY_CODE,
    HeightNotAvailable,
    InvalidAddress,
    InvalidQuery,
    UnknownAccount,
    UnknownQueryPath,
)
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.tx import build_tx

pytestmark = pytest.mark.adversarial

HOSTILE_PATHS = [
    "/subnet/70000",  # the example
    "/subnet/65536/metagraph",
    "/subnet/1/weights/4294967296",
    "/subnet/-1",
    "/subnet/0x10",
    "/subnet/1.5",
    "/subnet/" + "9" * 100_000,  # huge
    "/subnet/\u0663\u0664",  # Arabic-Indic digits
    "/subnet/\U0001f600",
    "/account/-1",
    "/account/mt1" + "q" * 200,
    "/account/\u202emt1",
    "/validator/",
    "/delegations/%00",
    "/store/" + "00" * 10_000,  # long
    "/store/not-hex",
    "/" + "\u00e9" * 5000,
    "/\x00\x01\x02",
    "",
]


def test_hostile_query_paths_get_error_codes(hostile_node: LocalNode, rpc: RPCClient) -> None:
    seen = set()
    for path in HOSTILE_PATHS:
        for prove in (False, True):
            r = rpc.abci_query(path, prove=prove)
            assert r.code != 0 and r.code in ERRORS_BY_CODE, (path[:40], r.code, r.log)
            assert "\n" not in r.log and len(r.log) < 600
            seen.add(r.code)
    assert {InvalidQuery.code, InvalidAddress.code, UnknownQueryPath.code} <= seen
    node_is_live(hostile_node, rpc)


def test_odd_heights_get_error_codes(hostile_node: LocalNode, rpc: RPCClient) -> None:
    latest = rpc.latest_height()
    for height in (latest + 1000, 10**18, 2**63 - 1, 1):
        r = rpc.abci_query("/params", prove=True, height=height)
        assert r.code == HeightNotAvailable.code, (height, r.code, r.log)
    for height in ("-1", "abc", "1e9", "99999999999999999999"):  # CometBFT refuses these
        try:
            r = rpc.abci_query("/params", height=height)  # type: ignore[arg-type]
        except RPCError:
            continue
        assert r.code == HeightNotAvailable.code, (height, r.code)
    node_is_live(hostile_node, rpc)


def test_garbage_txs_get_error_codes(hostile_node: LocalNode, rpc: RPCClient) -> None:
    rng = random.Random(13)
    valid = build_tx(
        seeded_key(0), CHAIN_ID, 0, 1_000, [MsgTransfer(to=addr_of(seeded_key(1)), amount=1)]
    )
    garbage = [rng.randbytes(rng.randrange(1, 2_000)) for _ in range(100)]
    garbage += [valid[:i] for i in range(1, len(valid), 7)]  # truncations
    garbage += [valid + b"\x00", b"\x0a\xff\xff\xff\xff\x0f", b"\x08" * 3000]
    garbage += [valid[:k] + bytes([valid[k] ^ 0x40]) + valid[k + 1 :] for k in range(len(valid))]
    for raw in garbage:
        try:
            r = rpc.broadcast_tx_sync(raw)
        except RPCError:  # CometBFT itself refused it (duplicate in its cache, too large)
            continue
        assert r.code != 0 and r.code in ERRORS_BY_CODE, (raw[:20].hex(), r.code, r.log)
    unfunded = build_tx(
        seeded_key(999), CHAIN_ID, 0, 1_000, [MsgTransfer(to=addr_of(seeded_key(1)), amount=1)]
    )
    assert rpc.broadcast_tx_sync(unfunded).code == UnknownAccount.code
    with pytest.raises(RPCError, match="too large"):  # mempool.max_tx_bytes
        rpc.call(
            "broadcast_tx_sync", idempotent=False, tx=base64.b64encode(b"\x0a" * 70_000).decode()
        )
    node_is_live(hostile_node, rpc)


def test_unfunded_senders_cannot_grow_the_apps_memory(
    hostile_node: LocalNode, rpc: RPCClient
) -> None:
    """The issue's attack: validly signed 43 KB txs (three large set_weights) from never-funded
    keys are refused with code 20; on main each still held ~760 KiB in the verified cache (up
    to 100,000 of them). 150 of them would have held ~110 MiB."""
    from adversary import rss_mib

    from abci_app.modules.subnets.messages import MsgSetWeights

    rng = random.Random(3)
    uids = tuple(range(3_000))
    before = rss_mib(hostile_node.procs["app"].pid)
    for k in range(150):
        msg = MsgSetWeights(1, uids, tuple(rng.randrange(1, 65536) for _ in uids), 0)
        raw = build_tx(seeded_key(50_000 + k), CHAIN_ID, 0, 10**9, [msg, msg, msg])
        assert len(raw) > 40_000
        assert rpc.broadcast_tx_sync(raw).code == UnknownAccount.code
    grown = rss_mib(hostile_node.procs["app"].pid) - before
    assert grown < 40, f"app RSS grew by {grown:.0f} MiB"
    node_is_live(hostile_node, rpc)


def test_a_funded_key_s_refused_txs_cannot_grow_the_apps_memory(
    hostile_node: LocalNode, rpc: RPCClient
) -> None:
    """A funded key's validly signed 43 KB txs (three large set_weights on a subnet it is not
    registered on) pass the ante and fail their message, so CheckTx refuses them and charges
    nothing: distinct txs, all with the same nonce, for free. On main each stayed in the
    verified cache all the same (~0.85 MiB each, ~125 MiB for these 150, evicting the
    mempool's txs); now a refused tx leaves nothing there. (Past the block's refused-work
    budget, app.REFUSED_CHECK_WORK, CheckTx checks the ante only: one of them is then
    admitted, and pays its fee in the block; the others reuse its nonce: refused.)"""
    from adversary import rss_mib

    from abci_app.address import to_bech32
    from abci_app.errors import BadNonce, NotRegistered, UnknownSubnet
    from abci_app.modules.subnets.messages import MsgSetWeights

    key = seeded_key(5)
    nonce = int(rpc.abci_query(f"/account/{to_bech32(addr_of(key))}").json()["nonce"])
    rng = random.Random(5)
    uids = tuple(range(3_000))
    before = rss_mib(hostile_node.procs["app"].pid)
    codes = []
    for _ in range(150):
        msg = MsgSetWeights(1, uids, tuple(rng.randrange(257, 65536) for _ in uids), 0)
        raw = build_tx(key, CHAIN_ID, nonce, 10**8, [msg, msg, msg])
        assert len(raw) > 40_000
        sent = rpc.broadcast_tx_sync(raw)
        assert sent.code in (UnknownSubnet.code, NotRegistered.code, 0, BadNonce.code), sent.log
        codes.append(sent.code)
    assert codes[:40].count(0) == 0 and codes.count(0) <= 1  # refused after their messages ran
    grown = rss_mib(hostile_node.procs["app"].pid) - before
    assert grown < 40, f"app RSS grew by {grown:.0f} MiB"
    node_is_live(hostile_node, rpc)
