"""The explorer page in a real browser (Debian's Chromium driven by Playwright) against a live
node: the latest transactions show a transfer the test just sent, the account page its
balance, the validators page power and uptime, and the subnet page renders the incentive and
dividends chart of a subnet that has run an epoch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import LocalNode, seeded_key, wait_until
from playwright.sync_api import Page, sync_playwright

from abci_app.client.chain import Chain
from abci_app.client.keyring import Key
from abci_app.explorer.server import ExplorerServer
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
)

pytestmark = pytest.mark.integration

OWNER, MINER1, MINER2 = (
    Key("o", seeded_key(41)),
    Key("m1", seeded_key(42)),
    Key("m2", seeded_key(43)),
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(chromium_bin: Path) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_bin), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def open_view(page: Page, url: str) -> None:
    """Go to a view and wait until the page says it has rendered it."""
    page.goto(url)
    fragment = url.split("#", 1)[1] if "#" in url else ""
    ready = f"#{fragment}" if fragment else "#/"
    page.wait_for_function(f"document.getElementById('view').dataset.ready === {ready!r}")
    assert page.locator(".error").count() == 0, page.locator(".error").inner_text()


def test_explorer_in_a_browser(node_factory: type, page: Page) -> None:
    accounts = [(k.address_bytes, 10**16) for k in (OWNER, MINER1, MINER2)]
    node: LocalNode = node_factory(accounts=accounts)
    node.init().start(min_height=2)
    with Chain(node.rpc_url, timeout=10) as chain:
        sent = chain.send(OWNER, [MsgTransfer(MINER2.address_bytes, 1_500_000_000)])
        names = ("tempo", "commit_reveal", "weights_rate_limit")
        chain.send(
            OWNER,
            [MsgRegisterSubnet(max_cost=10**13), MsgSetSubnetHyperparams(1, names, (4, 0, 0))],
        )
        for k in (OWNER, MINER1, MINER2):
            chain.send(k, [MsgRegisterNeuron(1, 10**11)])
        chain.send(OWNER, [MsgAddSubnetStake(1, OWNER.address_bytes, 10**12)])
        # weights need the validator permit the second epoch after the stake grants (the
        # first starts its stake floor)
        wait_until(lambda: chain.metagraph(1).neurons[0].validator_permit, 60, "a permit")
        chain.send(OWNER, [MsgSetWeights(1, (1, 2), (1, 3))])
        wait_until(lambda: any(n.incentive for n in chain.metagraph(1).neurons), 60, "an epoch")
        balance = chain.account(MINER2.address).balance
    server = ExplorerServer(node.rpc_url, "127.0.0.1", 0).start()
    try:
        open_view(page, f"{server.url}/#/")
        assert page.locator(f"tr.tx[data-hash='{sent.hash}']").count() == 1
        assert "transfer" in page.locator(f"tr.tx[data-hash='{sent.hash}']").inner_text()
        assert page.locator("#blocks tr").count() > 2

        open_view(page, f"{server.url}/#/account/{MINER2.address}")
        whole, frac = divmod(balance, 10**9)
        exact = f"{whole:,}" + (f".{frac:09d}".rstrip("0") if frac else "") + " MDT"
        assert page.locator("#balance").inner_text() == exact
        assert page.locator(f"tr.tx[data-hash='{sent.hash}']").count() == 1

        open_view(page, f"{server.url}/#/validators")
        row = page.locator("#validators tr").nth(1).inner_text()
        assert "active" in row and "%" in page.locator(".uptime").first.inner_text()

        open_view(page, f"{server.url}/#/subnet/1")
        assert page.locator("#metagraph tr").count() == 4  # header + 3 uids
        assert page.eval_on_selector("#chart", "c => c.dataset.drawn") == "3"
        painted = page.eval_on_selector(
            "#chart",
            """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                     let blue = 0, orange = 0;
                     for (let i = 0; i < d.length; i += 4) {
                       if (d[i] === 47 && d[i + 1] === 111 && d[i + 2] === 222) blue++;
                       if (d[i] === 240 && d[i + 1] === 140 && d[i + 2] === 46) orange++;
                     }
                     return [blue, orange]; }""",
        )
        assert painted[0] > 0 and painted[1] > 0, painted  # incentive and dividends bars
        # the proxy refuses anything that is not a read-only RPC method
        res = page.request.get(f"{server.url}/rpc/broadcast_tx_sync?tx=0x00")
        assert res.status == 403
    finally:
        server.stop()
