"""CometBFT genesis.json files carrying our app_state: create, extend, validate, export.

These are the coordinator's and validators' tools (``moderntensor genesis …``). Validation runs
exactly the rules InitChain runs (:func:`parse_app_state`, then a dry run of InitChain's
writes and their checks), plus the checks CometBFT itself makes on the file, so a file that
passes ``validate`` starts a chain.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from ..address import from_bech32
from ..client.local_files import (
    MAX_GENESIS_FILE_BYTES,
    MAX_SMALL_FILE_BYTES,
    LocalFileError,
    read_text_file,
)
from ..errors import InvalidAddress, InvalidGenesis
from ..execution import init_chain
from ..genesis import GenesisState, export_app_state, parse_app_state
from ..modules.slashing.evidence_window import (
    DEFAULT_MAX_AGE_BLOCKS,
    DEFAULT_MAX_AGE_NS,
    check_evidence_max_age,
    evidence_max_age,
)
from ..modules.staking.genesis import GenTx, check_backed_by_stake, initial_set, make_gentx
from ..params import AppParams
from ..schema import check_genesis_start, parse_amount
from ..state.db import StateDB
from ..state.overlay import EmptyReader, Overlay
from ..upgrades import VersionTooNew, migrate
from ..weights import check_max_gas

DEFAULT_CONSENSUS_PARAMS: dict[str, Any] = {
    "block": {"max_bytes": "22020096", "max_gas": "1000000"},
    "evidence": {
        "max_age_num_blocks": "100000",
        "max_age_duration": "172800000000000",
        "max_bytes": "1048576",
    },
    "validator": {"pub_key_types": ["ed25519"]},
    "version": {"app": "0"},
    "abci": {"vote_extensions_enable_height": "0"},
}
"""CometBFT v0.38's defaults, as ``cometbft init`` writes them, except ``block.max_gas``: a
block weighs at most 1,000,000 units (weights.py; ~1 s of execution on the reference machine,
about 10,000 plain transfers), so CometBFT's mempool reaping and our PrepareProposal keep
blocks under it and ProcessProposal rejects heavier ones. :func:`new_genesis` shortens the
evidence window below the unbonding period (``modules.slashing.evidence_window``)."""


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_genesis(
    chain_id: str,
    app_params: dict[str, Any] | None = None,
    staking_params: dict[str, Any] | None = None,
    block_interval_ns: int | None = None,
) -> dict[str, Any]:
    """An empty genesis for ``chain_id``: no accounts, no validators yet. Its evidence window
    is CometBFT's default shortened below the unbonding period (in blocks, and in time when
    ``block_interval_ns``, the shortest block interval, is known: a node's timeout_commit).

    Raises:
        InvalidGenesis: a bad chain id or param.
    """
    if not chain_id or len(chain_id) > 50:
        raise InvalidGenesis("chain_id must be 1-50 characters (a CometBFT limit)")
    params = AppParams.from_dict(app_params or {})
    app_state: dict[str, Any] = {
        "chain_id": chain_id,
        "params": params.to_dict(),
        "accounts": [],
        "staking": {"params": staking_params or {}, "validators": []},
        "gen_txs": [],
    }
    state = parse_app_state(app_state, chain_id)
    consensus = json.loads(json.dumps(DEFAULT_CONSENSUS_PARAMS))
    blocks, duration = evidence_max_age(state.staking.params.unbonding_blocks, block_interval_ns)
    consensus["evidence"]["max_age_num_blocks"] = str(blocks)
    consensus["evidence"]["max_age_duration"] = str(duration)
    return {
        "genesis_time": now_rfc3339(),
        "chain_id": chain_id,
        "initial_height": "1",
        "consensus_params": consensus,
        "validators": [],
        "app_hash": "",
        "app_state": app_state,
    }


def load(path: Path) -> dict[str, Any]:
    if not Path(path).exists():
        raise InvalidGenesis(f"no genesis file at {path}")
    try:
        data = json.loads(read_text_file(Path(path), MAX_GENESIS_FILE_BYTES, "genesis file"))
    except LocalFileError as e:
        raise InvalidGenesis(str(e)) from None
    except (json.JSONDecodeError, RecursionError) as e:
        raise InvalidGenesis(f"{path} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise InvalidGenesis(f"{path} must hold a JSON object")
    return data


def save(path: Path, genesis: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(genesis, indent=2) + "\n")


def block_max_gas(genesis: dict[str, Any]) -> int:
    """``consensus_params.block.max_gas`` as written (CometBFT's JSON: a decimal string; -1,
    CometBFT's default, when missing); :func:`abci_app.weights.check_max_gas` judges it.

    Raises:
        InvalidGenesis: a value that is no integer.
    """
    params = genesis.get("consensus_params")
    block = params.get("block") if isinstance(params, dict) else None
    raw = block.get("max_gas", "-1") if isinstance(block, dict) else "-1"
    text = str(raw)
    digits = text[1:] if text.startswith("-") else text
    if isinstance(raw, bool) or not (digits.isascii() and digits.isdigit() and len(digits) <= 19):
        raise InvalidGenesis(
            f"consensus_params.block.max_gas must be an integer, got {text[:32]!r}"
        )
    return int(text)


def evidence_window(genesis: dict[str, Any]) -> tuple[int, int]:
    """``consensus_params.evidence``'s (max_age_num_blocks, max_age_duration in ns); CometBFT's
    defaults for a missing one.

    Raises:
        InvalidGenesis: a value that is not a positive integer (CometBFT's JSON: a string).
    """
    params = genesis.get("consensus_params")
    evidence = params.get("evidence") if isinstance(params, dict) else None
    if not isinstance(evidence, dict):
        evidence = {}
    out = []
    for key, default in (
        ("max_age_num_blocks", DEFAULT_MAX_AGE_BLOCKS),
        ("max_age_duration", DEFAULT_MAX_AGE_NS),
    ):
        raw = evidence.get(key, default)
        text = str(raw)
        if isinstance(raw, bool) or not (text.isascii() and text.isdigit() and 0 < len(text) <= 19):
            raise InvalidGenesis(
                f"consensus_params.evidence.{key} must be a positive integer, got {text[:32]!r}"
            )
        if int(text) == 0:
            raise InvalidGenesis(f"consensus_params.evidence.{key} must be positive")
        out.append(int(text))
    return out[0], out[1]


def validate(genesis: dict[str, Any], block_interval_ns: int | None = None) -> GenesisState:
    """Every rule InitChain enforces (it writes the genesis into a throwaway overlay, as
    InitChain does, and checks what it wrote) plus CometBFT's own checks on the file, and the
    evidence window against the unbonding period (in time too when ``block_interval_ns``, the
    shortest block interval, is given).

    Raises:
        InvalidGenesis: the first rule broken, in one line.
    """
    for key in ("genesis_time", "chain_id", "consensus_params"):
        if key not in genesis:
            raise InvalidGenesis(f"genesis.json is missing {key}")
    chain_id = genesis["chain_id"]
    if not isinstance(chain_id, str) or not 0 < len(chain_id) <= 50:
        raise InvalidGenesis("chain_id must be a string of 1-50 characters")
    try:
        start = datetime.fromisoformat(str(genesis["genesis_time"]))
    except ValueError:
        raise InvalidGenesis(f"genesis_time {genesis['genesis_time']!r} is not RFC 3339") from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    height = genesis.get("initial_height", "1")
    text = str(height)
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        raise InvalidGenesis(
            f"initial_height must be a non-negative integer string, got {text[:32]!r}"
        )
    unix = (start - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    check_genesis_start(unix, int(text))
    state = parse_app_state(genesis.get("app_state", {}), chain_id)
    init_chain(Overlay(EmptyReader()), chain_id, state, max(1, int(height)))  # a dry run
    comet = []
    for i, v in enumerate(genesis.get("validators") or []):
        try:
            comet.append((base64.b64decode(v["pub_key"]["value"]), int(v["power"])))
        except (KeyError, TypeError, ValueError):
            raise InvalidGenesis(f"validators[{i}] needs pub_key.value and power") from None
    check_backed_by_stake(initial_set(state.staking), comet)
    check_max_gas(block_max_gas(genesis), state.params)
    blocks, duration = evidence_window(genesis)
    check_evidence_max_age(
        blocks, duration, state.staking.params.unbonding_blocks, block_interval_ns
    )
    return state


def _app_state(genesis: dict[str, Any], section: str) -> list[Any]:
    """The list ``app_state[section]`` of a genesis being assembled (created if absent).
    Raises InvalidGenesis if the file has no chain id, no app_state object or a section that
    is not a list (a hostile or unrelated JSON file)."""
    app_state = genesis.get("app_state")
    if not isinstance(genesis.get("chain_id"), str) or not isinstance(app_state, dict):
        raise InvalidGenesis("not a genesis: it needs a chain_id and an app_state object")
    entries = app_state.setdefault(section, [])
    if not isinstance(entries, list):
        raise InvalidGenesis(f"app_state.{section} must be a list")
    return entries


def add_account(genesis: dict[str, Any], address: str, balance: int) -> None:
    try:
        from_bech32(address)
    except InvalidAddress as e:
        raise InvalidGenesis(e.log()) from None
    accounts = _app_state(genesis, "accounts")
    if any(a.get("address") == address for a in accounts):
        raise InvalidGenesis(f"account {address} is already in the genesis")
    accounts.append({"address": address, "balance": str(parse_amount(balance, "balance"))})
    try:
        parse_app_state(genesis["app_state"], genesis["chain_id"])
    except InvalidGenesis:
        accounts.pop()
        raise


def read_pv_pubkey(priv_validator_key: Path) -> bytes:
    """The consensus public key from a CometBFT priv_validator_key.json."""
    try:
        text = read_text_file(Path(priv_validator_key), MAX_SMALL_FILE_BYTES, "key file")
        data = json.loads(text)
        key = base64.b64decode(data["pub_key"]["value"])
    except (LocalFileError, ValueError, KeyError, TypeError) as e:
        raise InvalidGenesis(
            f"cannot read a consensus key from {priv_validator_key}: {e}"
        ) from None
    if data["pub_key"].get("type") != "tendermint/PubKeyEd25519" or len(key) != 32:
        raise InvalidGenesis("only ed25519 consensus keys are supported")
    return key


def gentx(
    operator: SigningKey, priv_validator_key: Path, self_bond: int, moniker: str, chain_id: str
) -> GenTx:
    return make_gentx(operator, read_pv_pubkey(priv_validator_key), self_bond, moniker, chain_id)


def add_validator(genesis: dict[str, Any], gentx_doc: dict[str, Any]) -> None:
    """Append a signed gen_tx after checking it against the whole genesis."""
    gen_txs = _app_state(genesis, "gen_txs")
    gen_txs.append(gentx_doc)
    try:
        parse_app_state(genesis["app_state"], genesis["chain_id"])
    except InvalidGenesis:
        gen_txs.pop()
        raise


def export(db: StateDB, base_genesis: dict[str, Any]) -> dict[str, Any]:
    """The committed state of a stopped node as a new genesis starting at the next height.

    Each module exports its own section (:func:`abci_app.genesis.export_app_state`): accounts
    keep balances and nonces (so old signed txs cannot be replayed), validators stay bonded,
    params are kept. Importing it reproduces the same app hash. A state written by an older
    app version (a chain halted for an export-and-restart upgrade) is read through this
    version's migrations (:func:`abci_app.upgrades.migrate`, in memory: the database is not
    changed), so the export is this version's schema and hash. The consensus params are the
    base genesis' (CometBFT's defaults if it has none), with an evidence window in blocks that
    reaches the unbonding period shortened below it (``modules.slashing.evidence_window``).

    Raises:
        InvalidGenesis: nothing to export, a state newer than this app, malformed state or
            base consensus params, or an export that breaks a genesis rule.
    """
    migrated = Overlay(db)
    try:
        migrate(migrated)
    except VersionTooNew as e:
        raise InvalidGenesis(f"{e}: export it with the newer version of moderntensor") from None
    app_state = export_app_state(migrated).to_dict()
    chain_id = app_state["chain_id"]
    state = parse_app_state(app_state, chain_id)
    consensus = json.loads(
        json.dumps(base_genesis.get("consensus_params", DEFAULT_CONSENSUS_PARAMS))
    )
    out = {
        "genesis_time": now_rfc3339(),
        "chain_id": chain_id,
        "initial_height": str(db.height + 1),
        "consensus_params": consensus,
        "validators": [],
        "app_hash": "",
        "app_state": app_state,
    }
    unbonding = state.staking.params.unbonding_blocks
    blocks, duration = evidence_window(out)
    if blocks >= unbonding and isinstance(consensus, dict):
        evidence = consensus.get("evidence")
        if not isinstance(evidence, dict):
            evidence = consensus["evidence"] = dict(DEFAULT_CONSENSUS_PARAMS["evidence"])
        blocks = evidence_max_age(unbonding)[0]
        evidence["max_age_num_blocks"] = str(blocks)
    check_evidence_max_age(blocks, duration, unbonding)
    return out
