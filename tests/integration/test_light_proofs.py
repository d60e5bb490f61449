"""Honest proofs: a value is shown as verified only if the node's proof matches an app hash in a
header that validators the client trusts signed. A lying RPC node (a proxy that rewrites
answers) is caught whichever part it lies about."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import LocalNode, seeded_key
from lying_proxy import LIE_BALANCE, LyingProxy

from abci_app.address import address_from_pubkey
from abci_app.client.keyring import Keyring
from abci_app.client.light import (
    LightClient,
    LightClientError,
    genesis_anchor,
    header_hash,
    validators_hash,
)
from abci_app.client.proof import ProofError
from abci_app.client.proven import open_light_client, proven_account
from abci_app.client.rpc import RPCClient

pytestmark = pytest.mark.integration

ALICE = seeded_key(71)
ALICE_BALANCE = 123_456_789


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[LocalNode]:
    n = LocalNode(
        tmp_path_factory.mktemp("light") / "home",
        accounts=[(address_from_pubkey(bytes(ALICE.verify_key)), ALICE_BALANCE)],
    ).init()
    n.start(min_height=3)
    yield n
    n.stop()


def test_header_hash_and_validator_set_match_cometbft(node: LocalNode) -> None:
    with node.rpc() as rpc:
        block = rpc.call("block", height="2")
        assert header_hash(block["block"]["header"]).hex().upper() == block["block_id"]["hash"]
        genesis = json.loads(node.home.genesis_file.read_text())
        anchor = genesis_anchor(genesis)  # the app's InitChain run on the genesis gen_txs
        header1 = rpc.call("block", height="1")["block"]["header"]
        assert validators_hash(anchor.next_validators).hex().upper() == header1["validators_hash"]


def test_honest_node_verifies_from_genesis(node: LocalNode, tmp_path: Path) -> None:
    with node.rpc() as rpc:
        light = open_light_client(rpc, tmp_path, genesis_file=node.home.genesis_file)
        acct, proven = proven_account(rpc, light, address_from_pubkey(bytes(ALICE.verify_key)))
        assert acct.balance == ALICE_BALANCE and acct.nonce == 0
        # the next check starts from the saved state, not from genesis
        saved = json.loads((tmp_path / "light" / "mt-test-1.json").read_text())
        assert saved["height"] == proven.height + 1
        again = open_light_client(rpc, tmp_path, genesis_file=node.home.genesis_file)
        assert again.trusted.height == proven.height + 1
        absent, p2 = proven_account(rpc, again, bytes(20))  # proven absent: zero
        assert absent.balance == 0 and p2.value is None


@pytest.mark.parametrize("lie", ["account_json", "store_value", "app_hash", "forged_commit"])
def test_a_lying_node_is_caught(node: LocalNode, tmp_path: Path, lie: str) -> None:
    proxy = LyingProxy(node.rpc_url)
    proxy.lie = lie
    alice = address_from_pubkey(bytes(ALICE.verify_key))
    try:
        with RPCClient(proxy.url, timeout=10, retries=0) as rpc:
            light = open_light_client(rpc, tmp_path, genesis_file=node.home.genesis_file)
            if lie == "account_json":
                # the unproven answer shows the lie; the proven one the truth from the proof
                from abci_app.address import to_bech32

                shown = rpc.abci_query(f"/account/{to_bech32(alice)}").json()
                assert int(shown["balance"]) == LIE_BALANCE
                acct, _ = proven_account(rpc, light, alice)
                assert acct.balance == ALICE_BALANCE
                return
            expected = {
                "store_value": (ProofError, "does not match the app hash"),
                "app_hash": (LightClientError, "for another header"),
                "forged_commit": (LightClientError, "bad signature"),
            }[lie]
            with pytest.raises(expected[0], match=expected[1]):
                proven_account(rpc, light, alice)
            assert not (tmp_path / "light").exists() or lie == "store_value"
    finally:
        proxy.close()


def test_anchor_by_trusted_header_hash(node: LocalNode, tmp_path: Path) -> None:
    with node.rpc() as rpc:
        h2 = rpc.call("block", height="2")["block_id"]["hash"]
        light = open_light_client(rpc, tmp_path, trust_height=2, trust_hash=bytes.fromhex(h2))
        assert light.trusted.height == 2
        acct, _ = proven_account(rpc, light, address_from_pubkey(bytes(ALICE.verify_key)))
        assert acct.balance == ALICE_BALANCE
        with pytest.raises(LightClientError, match="does not have the given hash"):
            open_light_client(rpc, tmp_path / "x", trust_height=2, trust_hash=bytes(32))
        with pytest.raises(LightClientError, match="nothing to trust"):
            open_light_client(rpc, tmp_path / "empty")
        # a validator set the chain never had signs nothing: skipping from it fails
        fake = genesis_anchor(json.loads(node.home.genesis_file.read_text()))
        other = Keyring(tmp_path / "k", backend="test").add("v")
        from abci_app.client.light import TrustedState, validator_from_pubkey

        wrong = TrustedState(
            fake.chain_id, 0, b"", fake.time, [validator_from_pubkey(other.pub_key, 10)]
        )
        with pytest.raises(LightClientError):
            LightClient(rpc, wrong).verify_header(3)
