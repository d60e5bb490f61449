"""``abci_query`` routes over the committed state (the latest committed height only).

Routes:
  /account/<mt1… address>  JSON {address, balance, nonce, exists}; with prove=true a Merkle proof
  /store/<hex key>         raw value; with prove=true a proof of presence or absence
  /params                  JSON {chain_id, params}
  /fee (data: a signed tx) JSON {weight, fee, gas_price, min_fee}: the exact fee it must pay
  /supply                  JSON {total, minted, burned: {reason: amount}, genesis}: total =
                           genesis + minted - every burn (minted: block rewards so far)
  /module_accounts         every module account with its address and balance (bank)
  /validators, /validator/<operator>, /delegations/<delegator>, /unbonding/<delegator>,
  /params/staking          staking records as JSON (modules/staking/queries.py); the lists
                           are paginated: ?limit=N&next_key=HEX (modules/pagination.py)
  /rewards/<addr>, /validator_rewards/<operator> (commission and outstanding rewards),
  /params/distribution     rewards (modules/distribution/queries.py)
  /signing_info/<operator>, /params/slashing   downtime records (modules/slashing/queries.py)
  /subnets, /subnet/<netuid>[/hyperparams|/metagraph|/weights/<uid>], /subnet_stake/<addr>,
  /params/subnets          subnets (modules/subnets/queries.py)
Amounts in JSON are decimal strings (base units) so no client loses precision.

Every argument is range-checked against its encoding (issue 13): a path longer than
:data:`MAX_QUERY_PATH_BYTES`, a store key longer than :data:`MAX_STORE_KEY_BYTES`, a netuid or
uid outside u16, a malformed address all answer :class:`InvalidQuery`/:class:`InvalidAddress`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from .address import from_bech32, to_bech32
from .chain_modules import MODULES
from .errors import InvalidQuery, UnknownQueryPath
from .execution import load_context
from .modules.bank.state import (
    Account,
    get_account,
    get_burned,
    get_genesis_supply,
    get_supply,
)
from .modules.distribution.state import get_minted
from .state.keys import account_key
from .state.merkle import PROOF_OP_TYPE, BucketProof
from .state.overlay import KVReader
from .tx import decode_tx
from .types import DISCARD_EVENTS
from .weights import required_fee, tx_weight

MAX_QUERY_PATH_BYTES = 1024
"""Longest query path answered (UTF-8 bytes). The longest meaningful one, ``/store/`` with a
key of :data:`MAX_STORE_KEY_BYTES`, is 519; CometBFT bounds the request anyway, but a query's
path is echoed in error logs and must not make them large."""
MAX_STORE_KEY_BYTES = 256
"""Longest key ``/store/<hex>`` looks up: well above every key the chain writes (under 100
bytes, see state/keys.py)."""

Prover = Callable[[bytes], tuple[bytes | None, BucketProof]]
"""The committed value of a key with its Merkle proof against the app hash."""


@dataclass
class QueryResult:
    """A query's answer: the value (JSON or raw bytes), the key, and a proof if asked."""

    value: bytes
    key: bytes = b""
    proof: BucketProof | None = None
    proof_type: str = PROOF_OP_TYPE


def _json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True).encode()


def run_query(
    state: KVReader, height: int, path: str, prover: Prover | None, data: bytes = b""
) -> QueryResult:
    """Answer one query over ``state`` at ``height`` (the last committed height, or 0 before
    the first Commit, when ``state`` is the genesis state); raise a ModernTensorError for a
    bad path or argument. ``prover`` is given when a proof was asked for (``prove=true``);
    ``data`` is the query's data (``/fee``: a signed tx).
    """
    if len(path.encode(errors="surrogatepass")) > MAX_QUERY_PATH_BYTES:
        raise InvalidQuery(f"query path longer than {MAX_QUERY_PATH_BYTES} bytes")
    if path.startswith("/account/"):
        addr = from_bech32(path[len("/account/") :])
        key = account_key(addr)
        acct = get_account(state, addr)
        body = {
            "address": to_bech32(addr),
            "balance": str((acct or Account()).balance),
            "nonce": (acct or Account()).nonce,
            "exists": acct is not None,
        }
        return QueryResult(_json(body), key, prover(key)[1] if prover else None)
    if path.startswith("/store/"):
        hex_key = path[len("/store/") :]
        if len(hex_key) > 2 * MAX_STORE_KEY_BYTES:
            raise InvalidQuery(f"store key longer than {MAX_STORE_KEY_BYTES} bytes")
        try:
            key = bytes.fromhex(hex_key)
        except ValueError:
            raise InvalidQuery("store key must be hex") from None
        if not key:
            raise InvalidQuery("store key must not be empty")
        if prover is not None:
            value, proof = prover(key)
            return QueryResult(value or b"", key, proof)
        return QueryResult(state.get(key) or b"", key)
    if path == "/fee":
        ctx = load_context(state, height, DISCARD_EVENTS)
        if len(data) > ctx.params.max_tx_bytes:
            raise InvalidQuery(f"/fee: tx larger than max_tx_bytes {ctx.params.max_tx_bytes}")
        tx = decode_tx(data, ctx.params, ctx.chain_id)
        weight = tx_weight(tx.size, tx.messages, ctx.bounds)
        quote = {
            "weight": weight,
            "fee": str(required_fee(weight, ctx.params)),
            "gas_price": str(ctx.params.gas_price),
            "min_fee": str(ctx.params.min_fee),
        }
        return QueryResult(_json(quote))
    if path == "/params":
        ctx = load_context(state, height, DISCARD_EVENTS)
        return QueryResult(_json({"chain_id": ctx.chain_id, "params": ctx.params.to_dict()}))
    if path == "/supply":
        return QueryResult(
            _json(
                {
                    "total": str(get_supply(state)),
                    "minted": str(get_minted(state)),
                    "burned": {k: str(v) for k, v in get_burned(state).items()},
                    "genesis": str(get_genesis_supply(state)),
                }
            )
        )
    for module in MODULES:
        result = None if module.query is None else module.query(state, path, height)
        if result is not None:
            return QueryResult(_json(result))
    raise UnknownQueryPath(
        f"{path[:64]!r}; known: /account/<addr>, /store/<hex>, /params, /fee, /supply, "
        "/module_accounts, /validators, /validator/<operator>, /delegations/<addr>, "
        "/unbonding/<addr>, /params/staking, /rewards/<addr>, /validator_rewards/<operator>, "
        "/params/distribution, /signing_info/<operator>, /params/slashing, "
        "/subnets, /subnet/<netuid>[/hyperparams|/metagraph|/weights/<uid>], "
        "/subnet_stake/<addr>, /params/subnets"
    )
