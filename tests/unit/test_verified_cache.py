"""Signatures are verified once per node: CheckTx's verification is reused by PrepareProposal
and FinalizeBlock through a bounded cache keyed by tx hash, without changing any result."""

from __future__ import annotations

from pathlib import Path

import pytest
from chain_driver import Driver, genesis_app_state, transfer
from harness import CHAIN_ID
from nacl.signing import VerifyKey

from abci_app.errors import InvalidSignature
from abci_app.params import AppParams
from abci_app.tx import VerifiedTxs, decode_tx, tx_hash


def count_verifies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = VerifyKey.verify

    def counting(self: VerifyKey, *args: object, **kw: object) -> object:
        calls[0] += 1
        return real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(VerifyKey, "verify", counting)
    return calls


def test_a_verified_tx_is_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_verifies(monkeypatch)
    cache = VerifiedTxs()
    raw = transfer(0, 1, 5, 0)
    first = decode_tx(raw, AppParams(), CHAIN_ID, cache)
    again = decode_tx(raw, AppParams(), CHAIN_ID, cache)
    assert first == again and calls[0] == 1 and tx_hash(raw) in cache
    decode_tx(raw, AppParams(), CHAIN_ID)  # without the cache: verified
    assert calls[0] == 2


def test_a_bad_signature_is_never_cached() -> None:
    cache = VerifiedTxs()
    raw = bytearray(transfer(0, 1, 5, 0))
    raw[-1] ^= 1  # the signature is the envelope's last field
    for _ in range(2):
        with pytest.raises(InvalidSignature):
            decode_tx(bytes(raw), AppParams(), CHAIN_ID, cache)
    assert len(cache) == 0


def test_the_cache_is_bounded() -> None:
    cache = VerifiedTxs(capacity=2)
    for h in (b"a", b"b", b"c"):
        cache.add(h)
    assert len(cache) == 2 and b"a" not in cache and b"c" in cache


def test_warm_and_cold_nodes_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One node saw every tx in CheckTx (warm cache), the other sees them first in the block."""
    warm = Driver.open(tmp_path / "warm.sqlite")
    cold = Driver.open(tmp_path / "cold.sqlite")
    state = genesis_app_state(6)
    assert warm.init_chain(state) == cold.init_chain(state)
    calls = count_verifies(monkeypatch)
    for height in range(5):
        txs = [transfer(i, (i + 1) % 6, 10 + height, height) for i in range(6)]
        for raw in txs:
            assert warm.check(raw).code == 0
        checked = calls[0]
        assert warm.block(txs) == cold.block(txs)
        assert calls[0] - checked == len(txs)  # only the cold node verified the block's txs
    warm.close()
    cold.close()
