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


def validators_answer(vals: list[Any], total: str) -> dict[str, Any]:
    """CometBFT's ``/validators`` result for ``vals`` (``total`` as the node states it)."""
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
            for v in vals
        ],
        "total": total,
    }


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
            return validators_answer(vset(height), "4")
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


OUTSIDERS = [SigningKey(hashlib.sha256(b"outsider%d" % i).digest()) for i in range(4)]


class LyingChain(FakeChain):
    """FakeChain served by a node that lies in one way (``lie``); everything else is honest.

    - ``dup_signature``: header 2 signed by two validators, a third slot holds a copy of the
      first signature (under its own address, or relabelled with another validator's);
    - ``dup_trusted``: header 3 (skipped to) carries one trusted validator's signature twice;
    - ``outsiders``: header 8 with another app hash, a validator set of strangers who all sign;
    - ``other_height``: asked for 5, answers the genuine signed header of 4;
    - ``wrong_set``: the validator set sent for 3 is not the one header 3 names;
    - ``time_back``: header 5 is properly signed but its time is before header 3's.
    """

    def __init__(self, lie: str) -> None:
        super().__init__({2: 2} if lie == "dup_signature" else None)
        self.lie = lie
        self.asked_8 = False

    def header(self, height: int) -> dict[str, Any]:
        h = super().header(height)
        if self.lie == "time_back" and height == 5:
            h["time"] = ts(2)
        return h

    def call(self, method: str, **params: str) -> Any:
        height = int(params["height"])
        if self.lie == "other_height" and method == "commit" and height == 5:
            return super().call(method, height="4")
        if self.lie == "wrong_set" and method == "validators" and height == 3:
            return super().call(method, height="1")
        if self.lie == "outsiders" and height == 8 and (method == "commit" or self.asked_8):
            self.asked_8 = True  # (the honest set of 8 is what header 7 names as next)
            return self._outsiders(method)
        answer = super().call(method, **params)
        if method == "commit" and self.lie == "time_back" and height == 5:
            answer = self._signed(answer["signed_header"]["header"], KEYS, vset(5))
        if method == "commit" and self.lie == "dup_signature" and height == 2:
            sigs = answer["signed_header"]["commit"]["signatures"]
            sigs[2] = dict(sigs[0])
            sigs[3] = {**sigs[0], "validator_address": vset(2)[3].address.hex().upper()}
        if method == "commit" and self.lie == "dup_trusted" and height == 3:
            sigs = answer["signed_header"]["commit"]["signatures"]
            trusted = {v.address.hex().upper() for v in vset(1)}
            first = next(s for s in sigs if s.get("validator_address") in trusted)
            for i, s in enumerate(sigs):
                if s is not first and s.get("validator_address") in trusted:
                    sigs[i] = dict(first)
        return answer

    def _signed(self, header: dict[str, Any], keys: list[SigningKey], vals: list[Any]) -> Any:
        height = int(header["height"])
        block_id = {"hash": header_hash(header).hex().upper(), "parts": {"total": 1, "hash": ""}}
        by_pub = {bytes(k.verify_key): k for k in keys}
        msg = vote_sign_bytes(CHAIN, height, 0, block_id, header["time"])
        sigs = [
            {
                "block_id_flag": 2,
                "validator_address": v.address.hex().upper(),
                "timestamp": header["time"],
                "signature": base64.b64encode(by_pub[v.pub_key].sign(msg).signature).decode(),
            }
            for v in vals
        ]
        commit = {"height": str(height), "round": 0, "block_id": block_id, "signatures": sigs}
        return {"signed_header": {"header": header, "commit": commit}}

    def _outsiders(self, method: str) -> Any:
        vals = sort_validators([validator_from_pubkey(bytes(k.verify_key), 10) for k in OUTSIDERS])
        if method == "validators":
            return validators_answer(vals, str(len(vals)))
        header = FakeChain.header(self, 8)
        header["app_hash"] = b"evil".hex()
        header["validators_hash"] = validators_hash(vals).hex().upper()
        header["proposer_address"] = vals[0].address.hex().upper()
        return self._signed(header, OUTSIDERS, vals)


@pytest.mark.parametrize(
    ("lie", "trust_height", "target", "reason"),
    [
        ("dup_signature", 1, 2, "names another validator|bad signature|signed twice"),
        ("dup_trusted", 0, 3, "signed twice"),
        ("outsiders", 0, 8, "too little|not the header|changed the trusted"),
        ("outsiders", 7, 8, "changed the trusted next validator set"),
        ("other_height", 3, 5, "asked for height 5"),
        ("wrong_set", 0, 3, "not the header's"),
        ("time_back", 3, 5, "not after the trusted header"),
    ],
)
def test_a_lying_node_gets_no_header_accepted(
    lie: str, trust_height: int, target: int, reason: str
) -> None:
    """Each lie of the brief's list, against the light client: refused, and the trusted state
    is not moved to the lie."""
    chain = LyingChain(lie)
    light = LightClient(chain, anchor(), now=lambda: NOW)
    if trust_height:
        light.verify_header(trust_height)  # honest so far
    before = light.trusted
    with pytest.raises(LightClientError, match=reason):
        light.verify_header(target)
    assert light.trusted.height < target and light.trusted.height >= before.height


def test_a_chain_id_does_not_choose_where_the_state_is_written(tmp_path: Any) -> None:
    from abci_app.client.proven import light_store

    assert light_store(tmp_path, "mt-test-1") == tmp_path / "light" / "mt-test-1.json"
    for bad in ("../../x", "a/b", ".hidden", "", "x" * 51, "a\nb"):
        with pytest.raises(LightClientError, match="cannot name"):
            light_store(tmp_path, bad)
