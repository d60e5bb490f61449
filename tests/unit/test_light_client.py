"""The light client on a synthetic chain whose validator set rotates: skipping from a trusted
set that signed too little of a far header bisects through an intermediate one; too few
signatures, a stranger's signature, a future header or an expired anchor are refused.
(Against real cometbft headers and signatures: tests/integration/test_light_proofs.py.)"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from nacl.signing import SigningKey

from abci_app.client.light import (
    LightClient,
    LightClientError,
    TrustedState,
    header_hash,
    sort_validators,
    validator_from_pubkey,
    validators_hash,
    vote_sign_bytes,
)

CHAIN = "synthetic-1"
KEYS = [SigningKey(hashlib.sha256(b"val%d" % i).digest()) for i in range(12)]
T0 = 1_800_000_000  # unix seconds of height 1
NOW = (T0 + 1000) * 10**9


def members(height: int) -> list[int]:
    j = 2 * ((height - 1) // 2)  # heights 1-2: keys 0..3, 3-4: 2..5, 5-6: 4..7, 7-8: 6..9
    return list(range(j, j + 4))


def vset(height: int) -> list[Any]:
    return sort_validators(
        [validator_from_pubkey(bytes(KEYS[i].verify_key), 10) for i in members(height)]
    )


def ts(height: int) -> str:
    return f"2027-01-15T08:{height:02d}:00.5Z"


class FakeChain:
    """Serves ``commit`` and ``validators`` like CometBFT's RPC for heights 1..8."""

    def __init__(self, signers: dict[int, int] | None = None) -> None:
        self.signers = signers or {}  # height -> how many of its validators sign
        self.calls: list[tuple[str, int]] = []

    def header(self, height: int) -> dict[str, Any]:
        last = header_hash(self.header(height - 1)).hex().upper() if height > 1 else ""
        return {
            "version": {"block": "11", "app": "0"},
            "chain_id": CHAIN,
            "height": str(height),
            "time": ts(height),
            "last_block_id": {"hash": last, "parts": {"total": 1 if last else 0, "hash": ""}},
            "last_commit_hash": "",
            "data_hash": "",
            "validators_hash": validators_hash(vset(height)).hex().upper(),
            "next_validators_hash": validators_hash(vset(height + 1)).hex().upper(),
            "consensus_hash": "",
            "app_hash": (b"app%d" % height).hex(),
            "last_results_hash": "",
            "evidence_hash": "",
            "proposer_address": vset(height)[0].address.hex().upper(),
        }

    def call(self, method: str, **params: str) -> Any:
        height = int(params["height"])
        self.calls.append((method, height))
        if method == "validators":
            return {
                "validators": [
                    {
                        "address": v.address.hex().upper(),
                        "pub_key": {
                            "type": "tendermint/PubKeyEd25519",
                            "value": base64.b64encode(v.pub_key).decode(),
                        },
                        "voting_power": str(v.power),
                    }
                    for v in vset(height)
                ],
                "total": "4",
            }
        header = self.header(height)
        block_id = {
            "hash": header_hash(header).hex().upper(),
            "parts": {"total": 1, "hash": "AB" * 32},
        }
        by_pub = {bytes(k.verify_key): k for k in KEYS}
        sigs = []
        for n, v in enumerate(vset(height)):
            if n >= self.signers.get(height, 4):
                sigs.append({"block_id_flag": 1, "validator_address": "", "timestamp": ts(0)})
                continue
            msg = vote_sign_bytes(CHAIN, height, 0, block_id, ts(height))
            sig = by_pub[v.pub_key].sign(msg).signature
            sigs.append(
                {
                    "block_id_flag": 2,
                    "validator_address": v.address.hex().upper(),
                    "timestamp": ts(height),
                    "signature": base64.b64encode(sig).decode(),
                }
            )
        commit = {"height": str(height), "round": 0, "block_id": block_id, "signatures": sigs}
        return {"signed_header": {"header": header, "commit": commit}}


def anchor() -> TrustedState:
    return TrustedState(CHAIN, 0, b"", T0 * 10**9, vset(1))


def test_skipping_bisects_when_the_trusted_set_signed_too_little() -> None:
    chain = FakeChain()
    light = LightClient(chain, anchor(), now=lambda: NOW)
    got = light.verify_header(8)
    assert got.app_hash == b"app8" and light.trusted.height == 8
    verified_commits = [h for m, h in chain.calls if m == "commit"]
    assert verified_commits == [8, 4, 8]  # 0 -> 8 fails (no overlap), 0 -> 4, then 4 -> 8


def test_adjacent_and_backwards() -> None:
    light = LightClient(FakeChain(), anchor(), now=lambda: NOW)
    assert light.verify_header(1).app_hash == b"app1"
    assert light.verify_header(3).app_hash == b"app3"
    assert light.verify_header(2).app_hash == b"app2"  # below the trusted one: hash chain


def test_refusals() -> None:
    # a header two of four validators signed: not more than 2/3
    with pytest.raises(LightClientError, match="not more than 2/3"):
        LightClient(FakeChain({2: 2}), anchor(), now=lambda: NOW).verify_header(2)
    # an expired anchor (older than the trusting period)
    late = NOW + 15 * 86400 * 10**9
    with pytest.raises(LightClientError, match="trusting period"):
        LightClient(FakeChain(), anchor(), now=lambda: late).verify_header(2)
    # a header from the future
    early = (T0 - 10_000) * 10**9
    with pytest.raises(LightClientError, match="future"):
        LightClient(FakeChain(), anchor(), now=lambda: early).verify_header(1)
    # a trusted set that never signed anything of this chain
    stranger = [validator_from_pubkey(bytes(SigningKey(bytes(32)).verify_key), 10)]
    bad = TrustedState(CHAIN, 0, b"", T0 * 10**9, stranger)
    with pytest.raises(LightClientError):
        LightClient(FakeChain(), bad, now=lambda: NOW).verify_header(8)
