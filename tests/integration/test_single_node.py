"""One real cometbft node + the app, driven only through CometBFT's RPC and WebSocket."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from harness import CHAIN_ID, LocalNode, addr_of, search_txs, seeded_key
from websockets.sync.client import connect

from abci_app.address import to_bech32
from abci_app.client.proof import ProofError, ProofOp, verify_query_proof
from abci_app.client.rpc import RPCClient, RPCError
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.params import BASE_UNITS_PER_MDT
from abci_app.state.keys import account_key
from abci_app.tx import build_tx

pytestmark = pytest.mark.integration

N_ACCOUNTS = 20
START_BALANCE = 1_000 * BASE_UNITS_PER_MDT
FEE = 1_000
KEYS = [seeded_key(i) for i in range(N_ACCOUNTS)]
ADDRS = [addr_of(k) for k in KEYS]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: object) -> Iterator[LocalNode]:
    n = LocalNode(
        tmp_path_factory.mktemp("single") / "node",
        accounts=[(a, START_BALANCE) for a in ADDRS],
    )
    n.init().start(min_height=2)
    yield n
    n.stop()


@pytest.fixture
def rpc(node: LocalNode) -> Iterator[RPCClient]:
    with node.rpc() as c:
        yield c


def account(rpc: RPCClient, addr: bytes) -> dict[str, object]:
    res = rpc.abci_query(f"/account/{to_bech32(addr)}")
    assert res.code == 0, res.log
    data: dict[str, object] = res.json()
    return data


def nonce_of(rpc: RPCClient, i: int) -> int:
    return int(account(rpc, ADDRS[i])["nonce"])  # type: ignore[call-overload]


def transfer(
    i: int, to: bytes, amount: int, nonce: int, chain_id: str = CHAIN_ID, fee: int = FEE
) -> bytes:
    return build_tx(KEYS[i], chain_id, nonce, fee, [MsgTransfer(to=to, amount=amount)])


def test_200_transfers_between_20_accounts(node: LocalNode, rpc: RPCClient) -> None:
    before = rpc.abci_query("/supply").json()
    start = {i: int(account(rpc, ADDRS[i])["balance"]) for i in range(N_ACCOUNTS)}  # type: ignore[call-overload]
    nonces = {i: nonce_of(rpc, i) for i in range(N_ACCOUNTS)}
    expected = dict(start)
    hashes = []
    for n in range(200):
        s, r = n % N_ACCOUNTS, (n * 7 + 3) % N_ACCOUNTS
        amount = 1_000_000 + n * 17
        raw = transfer(s, ADDRS[r], amount, nonces[s])
        nonces[s] += 1
        res = rpc.broadcast_tx_sync(raw)
        assert res.code == 0, res.log
        hashes.append(res.hash)
        expected[s] -= amount + FEE
        expected[r] += amount
    heights = set()
    for h in hashes:
        done = rpc.wait_for_tx(h, timeout=60)
        assert done.code == 0, done.log
        heights.add(done.height)
    assert len(heights) >= 1
    for i in range(N_ACCOUNTS):
        acct = account(rpc, ADDRS[i])
        assert int(acct["balance"]) == expected[i]  # type: ignore[call-overload]
        assert acct["nonce"] == nonces[i]
    # transfers move tokens, only block rewards add them (the node checks supply = sum of all
    # balances after every block: MODERNTENSOR_CHECK_INVARIANTS=1 in the harness)
    after = rpc.abci_query("/supply").json()
    assert int(after["total"]) - int(after["minted"]) == int(before["total"]) - int(
        before["minted"]
    )
    assert int(after["minted"]) > int(before["minted"])


def test_rejections_carry_their_codes_and_change_nothing(rpc: RPCClient) -> None:
    before = [account(rpc, a) for a in ADDRS[:3]]
    n0 = nonce_of(rpc, 0)
    ok = transfer(0, ADDRS[1], 5, n0)
    res = rpc.broadcast_tx_sync(ok)
    assert res.code == 0
    rpc.wait_for_tx(res.hash)
    # the identical bytes again: CometBFT's cache or our nonce check refuses them
    try:
        again = rpc.broadcast_tx_sync(ok)
        assert again.code == 21, again.log
    except RPCError as e:
        assert "already exists in cache" in str(e)
    cases = {
        "replayed nonce": (transfer(0, ADDRS[1], 6, n0), 21),
        "future nonce": (transfer(0, ADDRS[1], 6, n0 + 5), 21),
        "wrong chain id": (transfer(0, ADDRS[1], 6, n0 + 1, chain_id="other-chain"), 5),
        "fee too low": (transfer(0, ADDRS[1], 6, n0 + 1, fee=1), 8),
        "overspend": (transfer(2, ADDRS[1], 10**18, nonce_of(rpc, 2)), 102),
        "garbage": (b"\x01\x02not a tx", 3),
    }
    good = bytearray(transfer(0, ADDRS[1], 7, n0 + 1))
    good[-1] ^= 0x01  # last byte is in the signature
    cases["wrong signature"] = (bytes(good), 7)
    for name, (raw, code) in cases.items():
        res = rpc.broadcast_tx_sync(raw)
        assert res.code == code, f"{name}: got {res.code} {res.log}"
        assert res.log, name
    after = [account(rpc, a) for a in ADDRS[:3]]
    assert after[0]["nonce"] == before[0]["nonce"] + 1  # type: ignore[operator]
    assert after[2] == before[2]


def test_tx_search_and_websocket_events(node: LocalNode, rpc: RPCClient) -> None:
    sender, recipient = 3, 4
    query = f"tm.event='Tx' AND transfer.sender='{to_bech32(ADDRS[sender])}'"
    ws_url = node.rpc_url.replace("http://", "ws://") + "/websocket"
    with connect(ws_url, open_timeout=10, close_timeout=5) as ws:
        ws.send(
            json.dumps(
                {"jsonrpc": "2.0", "id": 1, "method": "subscribe", "params": {"query": query}}
            )
        )
        ack = json.loads(ws.recv(timeout=10))
        assert ack.get("error") is None
        raw = transfer(sender, ADDRS[recipient], 4242, nonce_of(rpc, sender))
        res = rpc.broadcast_tx_sync(raw)
        assert res.code == 0
        event = json.loads(ws.recv(timeout=30))
        tx_result = event["result"]["data"]["value"]["TxResult"]
        assert base64.b64decode(tx_result["tx"]) == raw
        assert event["result"]["events"]["transfer.amount"] == ["4242"]
    found = search_txs(
        rpc, f"transfer.recipient='{to_bech32(ADDRS[recipient])}' AND transfer.amount='4242'"
    )
    assert res.hash in [t["hash"] for t in found["txs"]]


def test_query_proofs_verify_against_the_block_header(rpc: RPCClient) -> None:
    key = account_key(ADDRS[5])
    res = rpc.abci_query(f"/store/{key.hex()}", prove=True)
    assert res.code == 0 and res.value
    app_hash = rpc.block_app_hash(res.height + 1)
    verify_query_proof(app_hash, key, res.value, res.proof_ops)
    with pytest.raises(ProofError):
        verify_query_proof(app_hash, key, res.value[:-1] + b"\x00", res.proof_ops)
    op = res.proof_ops[0]
    tampered = bytearray(op.data)
    tampered[-1] ^= 1
    with pytest.raises(ProofError):
        verify_query_proof(app_hash, key, res.value, [ProofOp(op.type, op.key, bytes(tampered))])
    # absence: an address nobody ever used
    missing = account_key(b"\xee" * 20)
    res = rpc.abci_query(f"/store/{missing.hex()}", prove=True)
    assert res.value == b""
    verify_query_proof(rpc.block_app_hash(res.height + 1), missing, None, res.proof_ops)


def test_bad_queries_get_codes(rpc: RPCClient) -> None:
    assert rpc.abci_query("/nope").code == 200
    assert rpc.abci_query("/account/notanaddress").code == 100
    assert rpc.abci_query("/store/zz").code == 201
    assert rpc.abci_query("/account/" + to_bech32(ADDRS[0]), height=10**9).code == 203
