"""``abci_query`` routes over the committed state (the latest committed height only).

Routes:
  /account/<mt1… address>  JSON {address, balance, nonce, exists}; with prove=true a Merkle proof
  /store/<hex key>         raw value; with prove=true a proof of presence or absence
  /params                  JSON {chain_id, params}
  /supply                  JSON {total, minted, burned: {reason: amount}, genesis}: total =
                           genesis + minted - every burn (minted: block rewards so far)
  /module_accounts         every module account with its address and balance (bank)
  /validators, /validator/<operator>, /delegations/<delegator>, /unbonding/<delegator>,
  /params/staking          staking records as JSON (modules/staking/queries.py)
  /rewards/<addr>, /validator_rewards/<operator> (commission and outstanding rewards),
  /params/distribution     rewards (modules/distribution/queries.py)
  /signing_info/<operator>, /params/slashing   downtime records (modules/slashing/queries.py)
  /subnets, /subnet/<netuid>[/hyperparams|/metagraph|/weights/<uid>], /subnet_stake/<addr>,
  /params/subnets          subnets (modules/subnets/queries.py)
Amounts in JSON are decimal strings (base units) so no client loses precision.
"""

from __future__ import annotations

import json
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
from .state.db import StateDB
from .state.keys import account_key
from .state.merkle import PROOF_OP_TYPE, BucketProof
from .types import DISCARD_EVENTS


@dataclass
class QueryResult:
    """A query's answer: the value (JSON or raw bytes), the key, and a proof if asked."""

    value: bytes
    key: bytes = b""
    proof: BucketProof | None = None
    proof_type: str = PROOF_OP_TYPE


def _json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True).encode()


def run_query(db: StateDB, path: str, prove: bool) -> QueryResult:
    """Answer one query; raise a ModernTensorError for a bad path or argument."""
    if path.startswith("/account/"):
        addr = from_bech32(path[len("/account/") :])
        key = account_key(addr)
        acct = get_account(db, addr)
        body = {
            "address": to_bech32(addr),
            "balance": str((acct or Account()).balance),
            "nonce": (acct or Account()).nonce,
            "exists": acct is not None,
        }
        return QueryResult(_json(body), key, db.prove(key)[1] if prove else None)
    if path.startswith("/store/"):
        try:
            key = bytes.fromhex(path[len("/store/") :])
        except ValueError:
            raise InvalidQuery("store key must be hex") from None
        if not key:
            raise InvalidQuery("store key must not be empty")
        value, proof = db.prove(key)
        return QueryResult(value or b"", key, proof if prove else None)
    if path == "/params":
        ctx = load_context(db, db.height, DISCARD_EVENTS)
        return QueryResult(_json({"chain_id": ctx.chain_id, "params": ctx.params.to_dict()}))
    if path == "/supply":
        return QueryResult(
            _json(
                {
                    "total": str(get_supply(db)),
                    "minted": str(get_minted(db)),
                    "burned": {k: str(v) for k, v in get_burned(db).items()},
                    "genesis": str(get_genesis_supply(db)),
                }
            )
        )
    for module in MODULES:
        result = None if module.query is None else module.query(db, path, db.height)
        if result is not None:
            return QueryResult(_json(result))
    raise UnknownQueryPath(
        f"{path!r}; known: /account/<addr>, /store/<hex>, /params, /supply, /module_accounts, "
        "/validators, /validator/<operator>, /delegations/<addr>, /unbonding/<addr>, "
        "/params/staking, /rewards/<addr>, /validator_rewards/<operator>, /params/distribution, "
        "/signing_info/<operator>, /params/slashing, "
        "/subnets, /subnet/<netuid>[/hyperparams|/metagraph|/weights/<uid>], "
        "/subnet_stake/<addr>, /params/subnets"
    )
