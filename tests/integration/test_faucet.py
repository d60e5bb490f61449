"""The faucet over real HTTP against a running node: grants, limits, persistence, concurrency,
and the fee: the node runs with a gas price at which a transfer costs more than ``min_fee``,
so every grant here pays the fee the node quotes (the faucet used to pay ``min_fee`` and every
grant was refused with code 8)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from harness import LocalNode, addr_of, free_ports, seeded_key
from prometheus_client.parser import text_string_to_metric_families

from abci_app.address import to_bech32
from abci_app.client.keyring import Key
from abci_app.client.rpc import RPCClient
from abci_app.faucet.http import FaucetServer
from abci_app.faucet.ledger import DAY, Ledger, Limits
from abci_app.faucet.metrics import FaucetMetrics
from abci_app.faucet.service import Faucet
from abci_app.tx import tx_fee

pytestmark = pytest.mark.integration

FAUCET_KEY = Key("faucet", seeded_key(500))
AMOUNT = 5_000_000
GAS_PRICE = 100
"""Base units per weight unit: a transfer (weight ~100) costs ~10,000 > min_fee 1,000."""


class FakeClock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> Iterator[LocalNode]:
    n = LocalNode(
        tmp_path_factory.mktemp("faucet") / "node", accounts=[(FAUCET_KEY.address_bytes, 10**15)]
    )
    n.init()
    genesis = json.loads(n.home.genesis_file.read_text())
    genesis["app_state"]["params"]["gas_price"] = GAS_PRICE
    n.home.genesis_file.write_text(json.dumps(genesis, indent=2))
    n.start(min_height=2)
    yield n
    n.stop()


class Running:
    def __init__(self, node: LocalNode, ledger_path: Path, limits: Limits) -> None:
        self.clock = FakeClock()
        self.ledger = Ledger(ledger_path)
        self.metrics = FaucetMetrics()
        self.faucet = Faucet(
            node.rpc_url, FAUCET_KEY, limits, self.ledger, self.clock, metrics=self.metrics
        )
        self.server = FaucetServer(self.faucet, "127.0.0.1", 0, trust_proxy=True).start()
        self.http = httpx.Client(base_url=self.server.url, timeout=30)

    def ask(self, address: str, ip: str = "10.0.0.1") -> httpx.Response:
        return self.http.post(
            "/api/request", json={"address": address}, headers={"X-Forwarded-For": ip}
        )

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.ledger.close()


@pytest.fixture
def faucet(node: LocalNode, tmp_path: Path) -> Iterator[Running]:
    r = Running(node, tmp_path / "ledger.sqlite", Limits(AMOUNT, 3600, 3, DAY, 50 * AMOUNT))
    yield r
    r.close()


_counter = iter(range(10_000, 20_000))


def fresh_address() -> str:
    return to_bech32(addr_of(seeded_key(next(_counter))))


def balance(node: LocalNode, address: str) -> int:
    with node.rpc() as c:
        return int(c.abci_query(f"/account/{address}").json()["balance"])


def test_grant_is_committed(node: LocalNode, faucet: Running) -> None:
    addr = fresh_address()
    r = faucet.ask(addr)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["amount"] == str(AMOUNT)
    # answered once committed: the balance is there at once, no polling
    assert balance(node, addr) == AMOUNT
    with node.rpc() as c:
        assert c.get_tx(body["tx_hash"]).height == body["height"]  # type: ignore[union-attr]


def test_grant_pays_exactly_the_fee_the_node_quotes(node: LocalNode, faucet: Running) -> None:
    """The fee is the SDK's quote for the very tx (weight x gas_price, above min_fee here),
    and the faucet's balance falls by the amount plus exactly that fee."""
    before = balance(node, FAUCET_KEY.address)
    r = faucet.ask(fresh_address())
    assert r.status_code == 200, r.text
    with node.rpc() as c:
        found = c.call("tx", hash=base64.b64encode(bytes.fromhex(r.json()["tx_hash"])).decode())
        raw = base64.b64decode(found["tx"])
        quote = c.abci_query("/fee", data=raw).json()
    fee = tx_fee(raw)
    assert fee == int(quote["fee"]) == int(quote["weight"]) * GAS_PRICE
    assert fee > int(quote["min_fee"])
    assert before - balance(node, FAUCET_KEY.address) == AMOUNT + fee


def test_repeat_is_refused_until_the_cooldown_expires(node: LocalNode, faucet: Running) -> None:
    addr = fresh_address()
    assert faucet.ask(addr).status_code == 200
    again = faucet.ask(addr, ip="10.0.0.2")
    assert again.status_code == 429
    err = again.json()["error"]
    assert err["code"] == "address_cooldown" and 0 < err["retry_after"] <= 3601
    assert again.headers["Retry-After"] == str(err["retry_after"])
    faucet.clock.t += 3601
    later = faucet.ask(addr, ip="10.0.0.2")
    assert later.status_code == 200, later.text
    with node.rpc() as c:
        c.wait_for_tx(later.json()["tx_hash"])
    assert balance(node, addr) == 2 * AMOUNT
    # the same counts on the faucet's Prometheus endpoint
    (port,) = free_ports(1)
    faucet.metrics.serve(port)
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("moderntensor_faucet_grants_total", ())] == 2
    assert samples[("moderntensor_faucet_granted_tokens_total", ())] == 2 * AMOUNT
    refused = ("moderntensor_faucet_refusals_total", (("reason", "address_cooldown"),))
    assert samples[refused] == 1


def test_ip_limit(faucet: Running) -> None:
    codes = [faucet.ask(fresh_address(), ip="192.0.2.7").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert faucet.ask(fresh_address(), ip="192.0.2.7").json()["error"]["code"] == "ip_limit"
    faucet.clock.t += DAY
    assert faucet.ask(fresh_address(), ip="192.0.2.7").status_code == 200


def test_daily_cap(node: LocalNode, tmp_path: Path) -> None:
    r = Running(node, tmp_path / "cap.sqlite", Limits(AMOUNT, 3600, 100, DAY, 2 * AMOUNT))
    try:
        assert [r.ask(fresh_address(), ip=f"10.1.0.{i}").status_code for i in range(3)] == [
            200,
            200,
            429,
        ]
        assert r.ask(fresh_address(), ip="10.1.1.1").json()["error"]["code"] == "daily_cap"
        assert r.http.get("/api/status").json()["granted_today"] == str(2 * AMOUNT)
    finally:
        r.close()


def test_bad_requests_get_clear_json_errors(faucet: Running) -> None:
    bad = faucet.ask("mt1notanaddress")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_address"
    assert "invalid address" in bad.json()["error"]["message"]
    nobody = faucet.http.post("/api/request", content=b"{", headers={"Content-Type": "x"})
    assert nobody.status_code == 400 and nobody.json()["error"]["code"] == "bad_request"
    assert faucet.http.post("/api/request", json={"addr": "x"}).status_code == 400
    assert faucet.http.get("/api/request").status_code == 405
    assert faucet.http.get("/nope").status_code == 404
    page = faucet.http.get("/")
    assert page.status_code == 200 and "<form" in page.text and "/api/request" in page.text
    assert faucet.faucet.refusals >= 1


def test_ledger_survives_a_restart(node: LocalNode, tmp_path: Path) -> None:
    path = tmp_path / "persist.sqlite"
    limits = Limits(AMOUNT, 3600, 100, DAY, 50 * AMOUNT)
    first = Running(node, path, limits)
    addr = fresh_address()
    try:
        assert first.ask(addr).status_code == 200
    finally:
        first.close()
    second = Running(node, path, limits)
    try:
        assert second.ask(addr, ip="10.9.9.9").json()["error"]["code"] == "address_cooldown"
    finally:
        second.close()


def test_twenty_parallel_requests_use_distinct_nonces(node: LocalNode, tmp_path: Path) -> None:
    r = Running(node, tmp_path / "par.sqlite", Limits(AMOUNT, 3600, 100, DAY, 100 * AMOUNT))
    with node.rpc() as c:
        nonce_before = int(c.abci_query(f"/account/{FAUCET_KEY.address}").json()["nonce"])
    addrs = [fresh_address() for _ in range(20)]
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(
                pool.map(lambda ai: r.ask(ai[1], ip=f"10.2.0.{ai[0]}"), enumerate(addrs))
            )
    finally:
        r.close()
    assert [x.status_code for x in responses] == [200] * 20, [x.text for x in responses]
    hashes = {x.json()["tx_hash"] for x in responses}
    assert len(hashes) == 20
    with RPCClient(node.rpc_url) as c:
        for h in hashes:
            assert c.wait_for_tx(h, timeout=60).code == 0
        nonce_after = int(c.abci_query(f"/account/{FAUCET_KEY.address}").json()["nonce"])
    assert nonce_after - nonce_before == 20
    assert [balance(node, a) for a in addrs] == [AMOUNT] * 20
