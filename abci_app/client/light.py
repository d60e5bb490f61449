"""A light client for CometBFT v0.38: trust a header only when validators you trust signed it.

A node's answer to ``abci_query`` proves a value against an app hash; the app hash is in a block
header; a header is only as good as the signatures on it. This module checks those signatures
the way CometBFT's light client does (``light/verifier.go``), so a lying node cannot show a
verified balance:

- the header's hash is recomputed from its fields (``Header.Hash``: an RFC 6962 Merkle root of
  the 14 proto-encoded fields), so no field (the app hash included) can be altered;
- the commit for that header must carry ed25519 signatures over CometBFT's canonical vote sign
  bytes (``CanonicalVote``, length-delimited protobuf, ``types/canonical.go``);
- *adjacent* header (trusted height + 1): its validator set must be the one the trusted header
  named as next, and more than 2/3 of its power must have signed;
- *non-adjacent* header (skipping): validators holding more than ``TRUST_LEVEL`` (1/3) of the
  trusted next validator set's power must have signed it, and more than 2/3 of its own set
  (whose hash is in the header); if the trusted set's share is too small, an intermediate header
  is verified first (bisection), at most ``MAX_STEPS`` of them;
- the trusted header must be younger than the trusting period (default 14 days, 2/3 of the
  21-day unbonding): after that its validators could have unbonded and signed anything.

Trust starts from an anchor the user supplies and never from the node being checked: the
chain's genesis file (its initial validator set, computed by running the app's own InitChain
on it) or a header hash at a height obtained from someone trusted. The last verified state is
kept in a file (``<home>/light/<chain_id>.json``), so later checks skip forward from it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import wrappers_pb2
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from .._proto.tendermint.crypto import keys_pb2
from .._proto.tendermint.types import canonical_pb2, types_pb2, validator_pb2
from .._proto.tendermint.version import types_pb2 as version_pb2
from ..codec import encode_uvarint
from .local_files import MAX_SMALL_FILE_BYTES, LocalFileError, read_text_file

TRUST_LEVEL = (1, 3)
"""Share of the trusted validator set's power that must sign a skipped-to header (CometBFT's
default trust level)."""
COMMIT_LEVEL = (2, 3)
"""Share of a header's own validator set that must sign it."""
TRUSTING_PERIOD_S = 14 * 24 * 3600
MAX_CLOCK_DRIFT_S = 10
MAX_STEPS = 64
"""Most headers verified for one target (bisection steps plus the target)."""
MAX_VALIDATOR_PAGES = 20
PRECOMMIT = types_pb2.SIGNED_MSG_TYPE_PRECOMMIT
BLOCK_ID_FLAG_COMMIT = 2


class LightClientError(Exception):
    """A header, commit or validator set does not verify, or no trust anchor is given."""


class NotEnoughTrust(LightClientError):
    """The trusted validators signed too little of a far header (bisect)."""


# --- hashing ---------------------------------------------------------------------------------
def merkle_root(items: list[bytes]) -> bytes:
    """RFC 6962 Merkle root (CometBFT's ``merkle.HashFromByteSlices``)."""
    if not items:
        return hashlib.sha256(b"").digest()
    if len(items) == 1:
        return hashlib.sha256(b"\x00" + items[0]).digest()
    split = 1 << ((len(items) - 1).bit_length() - 1)  # largest power of 2 below len
    left, right = merkle_root(items[:split]), merkle_root(items[split:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def parse_time(text: str) -> tuple[int, int]:
    """RFC 3339 UTC time with up to 9 fractional digits -> (unix seconds, nanos), exactly."""
    import calendar

    if not text.endswith("Z"):
        raise LightClientError(f"time {text!r} is not UTC")
    main, _, frac = text[:-1].partition(".")
    try:
        tm = time.strptime(main, "%Y-%m-%dT%H:%M:%S")
        nanos = int((frac + "000000000")[:9]) if frac else 0
    except ValueError:
        raise LightClientError(f"time {text!r} is not RFC 3339") from None
    if len(frac) > 9 or (frac and not frac.isdigit()):
        raise LightClientError(f"time {text!r} has a bad fraction")
    return calendar.timegm(tm), nanos


def _hex(v: Any) -> bytes:
    try:
        return bytes.fromhex(v or "")
    except (TypeError, ValueError):
        raise LightClientError(f"{v!r} is not hex") from None


def _block_id(j: dict[str, Any]) -> types_pb2.BlockID:
    parts = j.get("parts") or {}
    return types_pb2.BlockID(
        hash=_hex(j.get("hash")),
        part_set_header=types_pb2.PartSetHeader(
            total=int(parts.get("total", 0)), hash=_hex(parts.get("hash"))
        ),
    )


def header_hash(h: dict[str, Any]) -> bytes:
    """``Header.Hash()`` of a header in CometBFT's RPC JSON form."""
    from google.protobuf.timestamp_pb2 import Timestamp

    seconds, nanos = parse_time(h["time"])
    version = version_pb2.Consensus(
        block=int(h["version"]["block"]), app=int(h["version"].get("app", 0))
    )
    fields = [
        version.SerializeToString(),
        wrappers_pb2.StringValue(value=h["chain_id"]).SerializeToString(),
        wrappers_pb2.Int64Value(value=int(h["height"])).SerializeToString(),
        Timestamp(seconds=seconds, nanos=nanos).SerializeToString(),
        _block_id(h["last_block_id"]).SerializeToString(),
    ]
    for name in (
        "last_commit_hash",
        "data_hash",
        "validators_hash",
        "next_validators_hash",
        "consensus_hash",
        "app_hash",
        "last_results_hash",
        "evidence_hash",
        "proposer_address",
    ):
        fields.append(wrappers_pb2.BytesValue(value=_hex(h[name])).SerializeToString())
    return merkle_root(fields)


@dataclass(frozen=True)
class Validator:
    address: bytes
    pub_key: bytes
    power: int

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address.hex(), "pub_key": self.pub_key.hex(), "power": self.power}

    @classmethod
    def from_json(cls, j: dict[str, Any]) -> Validator:
        return cls(bytes.fromhex(j["address"]), bytes.fromhex(j["pub_key"]), int(j["power"]))


def validator_from_pubkey(pub_key: bytes, power: int) -> Validator:
    return Validator(hashlib.sha256(pub_key).digest()[:20], pub_key, power)


def sort_validators(vals: list[Validator]) -> list[Validator]:
    """CometBFT's set order: voting power descending, then address ascending."""
    return sorted(vals, key=lambda v: (-v.power, v.address))


def validators_hash(vals: list[Validator]) -> bytes:
    """``ValidatorSet.Hash()``: Merkle root of each ``SimpleValidator`` in set order."""
    return merkle_root(
        [
            validator_pb2.SimpleValidator(
                pub_key=keys_pb2.PublicKey(ed25519=v.pub_key), voting_power=v.power
            ).SerializeToString()
            for v in vals
        ]
    )


def vote_sign_bytes(
    chain_id: str, height: int, round_: int, block_id: dict[str, Any], timestamp: str
) -> bytes:
    """CometBFT's ``VoteSignBytes`` for a precommit for ``block_id``: the length-delimited
    ``CanonicalVote``."""
    from google.protobuf.timestamp_pb2 import Timestamp

    seconds, nanos = parse_time(timestamp)
    bid = _block_id(block_id)
    vote = canonical_pb2.CanonicalVote(
        type=PRECOMMIT,
        height=height,
        round=round_,
        block_id=canonical_pb2.CanonicalBlockID(
            hash=bid.hash,
            part_set_header=canonical_pb2.CanonicalPartSetHeader(
                total=bid.part_set_header.total, hash=bid.part_set_header.hash
            ),
        ),
        timestamp=Timestamp(seconds=seconds, nanos=nanos),
        chain_id=chain_id,
    )
    body = vote.SerializeToString()
    return encode_uvarint(len(body)) + body


def _tally(
    chain_id: str,
    vals: list[Validator],
    commit: dict[str, Any],
    level: tuple[int, int],
    by_index: bool,
) -> None:
    """Raise unless validators of ``vals`` with more than ``level`` of its power signed
    ``commit`` (only signatures for the block count; each validator at most once)."""
    total = sum(v.power for v in vals)
    needed = total * level[0] // level[1]
    by_address = {v.address: v for v in vals}
    height, round_ = int(commit["height"]), int(commit.get("round", 0))
    sigs = commit.get("signatures") or []
    if by_index and len(sigs) != len(vals):
        raise LightClientError(f"commit has {len(sigs)} signatures for {len(vals)} validators")
    seen: set[bytes] = set()
    tallied = 0
    for i, sig in enumerate(sigs):
        if int(sig.get("block_id_flag", 0)) != BLOCK_ID_FLAG_COMMIT:
            continue
        address = _hex(sig.get("validator_address"))
        if by_index:  # a commit lists its own validator set's signatures in set order
            val = vals[i]
            if val.address != address:
                raise LightClientError(f"signature {i} names another validator than the set")
        else:
            found = by_address.get(address)
            if found is None:
                continue
            val = found
        if address in seen:
            raise LightClientError(f"validator {address.hex()} signed twice")
        seen.add(address)
        msg = vote_sign_bytes(chain_id, height, round_, commit["block_id"], sig["timestamp"])
        try:
            VerifyKey(val.pub_key).verify(msg, base64.b64decode(sig.get("signature") or ""))
        except (BadSignatureError, ValueError):
            raise LightClientError(f"bad signature from validator {address.hex()}") from None
        tallied += val.power
        if tallied > needed:
            return
    if by_index:
        raise LightClientError(f"signed power {tallied} of {total}: not more than 2/3")
    raise NotEnoughTrust(f"trusted validators signed {tallied} of {total}: too little")


# --- the trusted state -----------------------------------------------------------------------
@dataclass(frozen=True)
class TrustedState:
    """The last verified header (``height``, ``hash``, ``time``) and the validator set it
    names for the next height. From a genesis anchor: height initial_height - 1, no hash."""

    chain_id: str
    height: int
    hash: bytes
    time: int
    """Unix nanoseconds of the header (of genesis for a genesis anchor)."""
    next_validators: list[Validator]

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "height": self.height,
            "hash": self.hash.hex(),
            "time": self.time,
            "next_validators": [v.to_json() for v in self.next_validators],
        }

    @classmethod
    def from_json(cls, j: dict[str, Any]) -> TrustedState:
        return cls(
            str(j["chain_id"]),
            int(j["height"]),
            bytes.fromhex(j["hash"]),
            int(j["time"]),
            [Validator.from_json(v) for v in j["next_validators"]],
        )


@dataclass(frozen=True)
class VerifiedHeader:
    height: int
    hash: bytes
    app_hash: bytes
    time: int
    """Unix nanoseconds."""


def genesis_anchor(genesis: dict[str, Any]) -> TrustedState:
    """The trust anchor of a genesis document (CometBFT's genesis.json): its chain id and the
    initial validator set, computed by running the app's own InitChain on ``app_state`` (the
    gen_txs), or genesis.json's ``validators`` if InitChain returns none."""
    from ..execution import init_chain
    from ..genesis import parse_app_state
    from ..state.db import StateDB
    from ..state.overlay import Overlay

    chain_id = str(genesis["chain_id"])
    with tempfile.TemporaryDirectory() as tmp:
        db = StateDB(Path(tmp) / "genesis.sqlite")
        try:
            updates = init_chain(
                Overlay(db), chain_id, parse_app_state(genesis.get("app_state") or {}, chain_id)
            )
        finally:
            db.close()
    vals = [validator_from_pubkey(u.pub_key, u.power) for u in updates if u.power > 0]
    if not vals:
        vals = [
            validator_from_pubkey(base64.b64decode(v["pub_key"]["value"]), int(v["power"]))
            for v in genesis.get("validators") or []
        ]
    height = int(genesis.get("initial_height") or 1) - 1
    genesis_time = time_ns(_utc(str(genesis["genesis_time"])))
    return TrustedState(chain_id, height, b"", genesis_time, sort_validators(vals))


def time_ns(text: str) -> int:
    """RFC 3339 UTC time -> unix nanoseconds."""
    seconds, nanos = parse_time(text)
    return seconds * 10**9 + nanos


def _utc(text: str) -> str:
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class LightClient:
    """Verifies headers from ``rpc`` (an :class:`~abci_app.client.rpc.RPCClient`) starting
    from ``trusted``; saves each newly verified state to ``store`` if given."""

    def __init__(
        self,
        rpc: Any,
        trusted: TrustedState,
        store: Path | None = None,
        trusting_period_s: int = TRUSTING_PERIOD_S,
        now: Callable[[], int] = time.time_ns,
    ) -> None:
        self.rpc = rpc
        self.trusted = trusted
        self.store = store
        self.trusting_period_s = trusting_period_s
        self.now = now

    @staticmethod
    def load(store: Path) -> TrustedState | None:
        if not store.exists():
            return None
        try:
            text = read_text_file(store, MAX_SMALL_FILE_BYTES, "trusted state")
            return TrustedState.from_json(json.loads(text))
        except (LocalFileError, ValueError, KeyError, TypeError) as e:
            raise LightClientError(f"trusted state {store} is unreadable: {e}") from None

    def save(self) -> None:
        """Write the trusted state to ``store`` (atomically), if a store was given."""
        if self.store is None:
            return
        self.store.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.store.parent)
        with os.fdopen(fd, "w") as f:
            json.dump(self.trusted.to_json(), f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.store)

    # --- fetching --------------------------------------------------------------------------
    def _signed_header(self, height: int) -> tuple[dict[str, Any], dict[str, Any]]:
        r = self.rpc.call("commit", height=str(height))
        sh = r["signed_header"]
        return sh["header"], sh["commit"]

    def _validators(self, height: int) -> list[Validator]:
        vals: list[Validator] = []
        for page in range(1, MAX_VALIDATOR_PAGES + 1):
            r = self.rpc.call("validators", height=str(height), page=str(page), per_page="100")
            for v in r["validators"]:
                if v["pub_key"]["type"] != "tendermint/PubKeyEd25519":
                    raise LightClientError(f"validator key type {v['pub_key']['type']}")
                pub = base64.b64decode(v["pub_key"]["value"])
                val = validator_from_pubkey(pub, int(v["voting_power"]))
                if val.address != _hex(v["address"]):
                    raise LightClientError("a validator's address does not match its key")
                vals.append(val)
            if len(vals) >= int(r["total"]):
                return vals
        raise LightClientError(f"over {MAX_VALIDATOR_PAGES * 100} validators")

    # --- verifying -------------------------------------------------------------------------
    def _check_header(self, header: dict[str, Any], commit: dict[str, Any], height: int) -> bytes:
        if header.get("chain_id") != self.trusted.chain_id:
            raise LightClientError(
                f"header is for chain {header.get('chain_id')!r}, not {self.trusted.chain_id!r}"
            )
        if int(header["height"]) != height or int(commit["height"]) != height:
            raise LightClientError(f"asked for height {height}, got {header['height']}")
        h = header_hash(header)
        if _hex(commit["block_id"]["hash"]) != h:
            raise LightClientError(
                f"the commit at {height} is for another header than the one sent"
            )
        return h

    def _step(self, height: int) -> dict[str, Any]:
        """Verify the header at ``height`` from the trusted state, make it the new one and
        return it."""
        t = self.trusted
        header, commit = self._signed_header(height)
        h = self._check_header(header, commit, height)
        header_time = time_ns(header["time"])
        if header_time <= t.time and t.hash:
            raise LightClientError(f"header {height}'s time is not after the trusted header's")
        if header_time > self.now() + MAX_CLOCK_DRIFT_S * 10**9:
            raise LightClientError(f"header {height} is from the future")
        vals = self._validators(height)
        if validators_hash(vals) != _hex(header["validators_hash"]):
            raise LightClientError(f"the validator set sent for {height} is not the header's")
        if height == t.height + 1:
            if validators_hash(t.next_validators) != _hex(header["validators_hash"]):
                raise LightClientError(f"header {height} changed the trusted next validator set")
        else:
            _tally(t.chain_id, t.next_validators, commit, TRUST_LEVEL, by_index=False)
        _tally(t.chain_id, vals, commit, COMMIT_LEVEL, by_index=True)
        nxt = self._validators(height + 1)
        if validators_hash(nxt) != _hex(header["next_validators_hash"]):
            raise LightClientError(f"the next validator set sent for {height} is not the header's")
        self.trusted = TrustedState(t.chain_id, height, h, header_time, nxt)
        return header

    def verify_header(self, height: int) -> VerifiedHeader:
        """The header at ``height``, verified; raises LightClientError."""
        t = self.trusted
        if self.now() > t.time + self.trusting_period_s * 10**9:
            raise LightClientError(
                f"the trusted header (height {t.height}) is older than the trusting period "
                f"({self.trusting_period_s // 86400} days): give a recent --trust-height and "
                "--trust-hash from a source you trust"
            )
        if height <= t.height:
            return self._verify_backwards(height)
        targets = [height]
        verified: dict[str, Any] = {}
        for _ in range(MAX_STEPS):
            target = targets[-1]
            try:
                verified = self._step(target)
            except NotEnoughTrust:
                pivot = (self.trusted.height + target) // 2
                if pivot <= self.trusted.height:
                    raise
                targets.append(pivot)
                continue
            targets.pop()
            if not targets:
                break
        else:
            raise LightClientError(f"more than {MAX_STEPS} headers needed to reach {height}")
        self.save()
        return VerifiedHeader(
            height, self.trusted.hash, _hex(verified["app_hash"]), self.trusted.time
        )

    def _verify_backwards(self, height: int) -> VerifiedHeader:
        """A header at or below the trusted one, through the chain of ``last_block_id``s."""
        t = self.trusted
        if t.height - height > MAX_STEPS or not t.hash:
            raise LightClientError(f"height {height} is too far below the trusted {t.height}")
        want = t.hash
        for h in range(t.height, height - 1, -1):
            header, _ = self._signed_header(h)
            if header_hash(header) != want or header.get("chain_id") != t.chain_id:
                raise LightClientError(f"header {h} does not hash to the trusted chain")
            if h == height:
                return VerifiedHeader(h, want, _hex(header["app_hash"]), time_ns(header["time"]))
            want = _hex(header["last_block_id"]["hash"])
        raise LightClientError("unreachable")  # pragma: no cover

    def anchor_hash(self, height: int, trusted_hash: bytes) -> None:
        """Make the header at ``height`` whose hash is ``trusted_hash`` (from a source you
        trust) the trusted state."""
        header, _ = self._signed_header(height)
        if header_hash(header) != trusted_hash:
            raise LightClientError(f"the node's header at {height} does not have the given hash")
        chain_id = str(header["chain_id"])
        self.trusted = TrustedState(chain_id, height - 1, b"", 0, [])
        nxt = self._validators(height + 1)
        if validators_hash(nxt) != _hex(header["next_validators_hash"]):
            raise LightClientError(f"the next validator set sent for {height} is not the header's")
        self.trusted = TrustedState(chain_id, height, trusted_hash, time_ns(header["time"]), nxt)
        self.save()
