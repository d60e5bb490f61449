"""Queries whose answer is proven, not taken on a node's word.

The client derives the state key itself (e.g. ``acct/<address>``), asks the node for that key's
value with a Merkle proof (``/store/<hex key>``, ``prove=true``), verifies the header of the
next block with the light client (signatures of a trusted validator set, :mod:`.light`), checks
the proof against that header's app hash, and decodes the value from the proven bytes. Nothing
the node says outside the proof and the signed header is used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..modules.bank.state import Account
from ..state.keys import account_key
from .light import LightClient, LightClientError, TrustedState, VerifiedHeader, genesis_anchor
from .local_files import MAX_GENESIS_FILE_BYTES, LocalFileError, read_text_file
from .proof import ProofError, verify_query_proof


@dataclass(frozen=True)
class ProvenValue:
    key: bytes
    value: bytes | None
    """The proven bytes (None: the key is proven absent)."""
    height: int
    """The state's height; the app hash that proves it is in the header of ``height + 1``."""
    header: VerifiedHeader


_CHAIN_ID_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,49}")
"""A chain id that can name a file (CometBFT allows 50 characters of any kind)."""


def light_store(home: Path, chain_id: str) -> Path:
    """Where the last verified header of ``chain_id`` is kept for a home. Raises
    LightClientError for a chain id that is no file name (``../x``: it comes from a header
    or a genesis file, and must not choose where the client writes)."""
    if not _CHAIN_ID_FILE.fullmatch(chain_id):
        raise LightClientError(f"chain id {chain_id!r} cannot name the light client's state file")
    return home / "light" / f"{chain_id}.json"


def open_light_client(
    rpc: Any,
    home: Path,
    genesis_file: Path | None = None,
    trust_height: int | None = None,
    trust_hash: bytes | None = None,
) -> LightClient:
    """A light client anchored in something other than the node: a header hash at a height
    (``trust_height`` and ``trust_hash``, from a source you trust), else the state saved from an
    earlier verification, else the genesis file (``genesis_file`` or the home's).

    Raises LightClientError when there is no anchor at all."""
    if (trust_height is None) != (trust_hash is None):
        raise LightClientError("--trust-height and --trust-hash go together")
    if trust_height is not None and trust_hash is not None:
        lc = LightClient(rpc, TrustedState("", 0, b"", 0, []))
        lc.anchor_hash(trust_height, trust_hash)
        lc.store = light_store(home, lc.trusted.chain_id)
        lc.save()
        return lc
    path = genesis_file or home / "cometbft" / "config" / "genesis.json"
    if path.exists():
        try:
            genesis = json.loads(read_text_file(path, MAX_GENESIS_FILE_BYTES, "genesis file"))
        except (LocalFileError, ValueError, RecursionError) as e:
            raise LightClientError(f"genesis file {path} is unreadable: {e}") from None
        if not isinstance(genesis, dict) or not isinstance(genesis.get("chain_id"), str):
            raise LightClientError(f"genesis file {path} has no chain_id: not a genesis")
        store = light_store(home, genesis["chain_id"])
        saved = LightClient.load(store)
        if saved is not None:
            return LightClient(rpc, saved, store)
        try:
            anchor = genesis_anchor(genesis)
        except (KeyError, TypeError, ValueError, LightClientError) as e:
            raise LightClientError(f"genesis file {path} is not a usable genesis: {e}") from None
        return LightClient(rpc, anchor, store)
    saved_states = sorted((home / "light").glob("*.json")) if (home / "light").is_dir() else []
    if len(saved_states) == 1:
        state = LightClient.load(saved_states[0])
        assert state is not None
        return LightClient(rpc, state, saved_states[0])
    raise LightClientError(
        "nothing to trust the node's headers from: give --trust-height H --trust-hash HASH (a "
        "header hash from a source you trust) or --genesis FILE (the chain's genesis)"
    )


def proven_value(rpc: Any, light: LightClient, key: bytes, timeout: float = 30.0) -> ProvenValue:
    """The value of state ``key`` proven against a header verified by ``light``.

    Raises ProofError (the node's proof is wrong, or for another key) or LightClientError (the
    header is not signed by trusted validators)."""
    res = rpc.abci_query(f"/store/{key.hex()}", prove=True)
    if res.code != 0:
        raise ProofError(f"the node refused the proof query: code {res.code}: {res.log}")
    if res.key != key:
        raise ProofError("the node answered for another key than the one asked")
    if res.height <= 0:
        raise ProofError("the node's answer has no height")
    rpc.wait_for_height(res.height + 1, timeout)
    header = light.verify_header(res.height + 1)
    value = res.value or None
    verify_query_proof(header.app_hash, key, value, res.proof_ops)
    return ProvenValue(key, value, res.height, header)


def proven_account(
    rpc: Any, light: LightClient, address: bytes, timeout: float = 30.0
) -> tuple[Account, ProvenValue]:
    """An account decoded from proven bytes (absent: balance 0, nonce 0)."""
    proven = proven_value(rpc, light, account_key(address), timeout)
    if proven.value is None:
        return Account(), proven
    try:
        return Account.decode(proven.value), proven
    except ValueError as e:
        raise ProofError(f"the proven account record does not decode: {e}") from None
