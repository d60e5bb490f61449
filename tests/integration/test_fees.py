"""Exact fees through a real node (issue 13): the CLI's ``--dry-run`` and the SDK's quote give
the fee the chain then charges, for a plain transfer (exactly min_fee) and for a heavier
message (its weight x gas_price); nothing is sent by a dry run."""

from __future__ import annotations

import json

import pytest
from harness import LocalNode, addr_of, run_cli, seeded_key

from abci_app.client.chain import Chain
from abci_app.client.keyring import Keyring
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.distribution.messages import MsgWithdrawRewards
from abci_app.params import AppParams

pytestmark = pytest.mark.integration


def test_quoted_fees_are_the_fees_charged(node_factory: type) -> None:
    payer = seeded_key(300)
    node: LocalNode = node_factory(accounts=[(addr_of(payer), 10**15)])
    node.init().start(min_height=2)
    key = Keyring(node.home.keyring).add("payer", bytes(payer))
    with Chain(node.rpc_url, timeout=10) as chain:
        transfer = [MsgTransfer(addr_of(seeded_key(301)), 5)]
        heavy = [MsgWithdrawRewards(b"")] * 3  # settles up to max_delegations each: weighs more
        assert chain.quote_fee(transfer) == AppParams().min_fee
        heavy_fee = chain.quote_fee(heavy)
        assert heavy_fee > 10 * AppParams().min_fee

        # the CLI's dry run quotes the same, sends nothing
        out = run_cli(
            node.root, "-o", "json", "tx", "transfer", "--from", "payer", "--to",
            key.address, "--amount", "5", "--dry-run",
            node=node.rpc_url,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        quote = json.loads(out.stdout)
        assert int(quote["fee"]) == int(quote["fee_signed"]) == AppParams().min_fee
        assert chain.account(key.address).nonce == 0

        for msgs, fee in ((transfer, AppParams().min_fee), (heavy, heavy_fee)):
            before = chain.account(key.address).balance
            done = chain.send(key, msgs)
            assert done.code == 0
            spent = before - chain.account(key.address).balance
            assert spent == fee + sum(getattr(m, "amount", 0) for m in msgs)
