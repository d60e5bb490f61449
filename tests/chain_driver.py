"""Drive an :class:`Application` directly with ABCI requests, as CometBFT would, without sockets.

Used by determinism, property and vector tests: the same blocks go to several app instances.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import CHAIN_ID, addr_of, seeded_key
from nacl.signing import SigningKey

from abci_app._proto.tendermint.abci import types_pb2 as abci
from abci_app._proto.tendermint.types import validator_pb2
from abci_app.address import to_bech32
from abci_app.app import Application
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.staking.genesis import make_gentx
from abci_app.modules.staking.params import StakingParams
from abci_app.modules.staking.state import last_powers
from abci_app.modules.subnets.params import SubnetParams
from abci_app.params import AppParams
from abci_app.state.db import StateDB
from abci_app.state.store import Store
from abci_app.tx import Message, build_tx
from abci_app.weights import WeightBounds, exact_fee, required_fee, tx_weight

VALIDATOR_OPERATOR = seeded_key(1000)
VALIDATOR_CONSENSUS = seeded_key(2000)


def genesis_app_state(
    n_accounts: int, balance: int = 10**15, staking_params: dict[str, int] | None = None
) -> dict[str, object]:
    """``n_accounts`` funded test accounts plus one validator from a signed gen_tx."""
    gentx = make_gentx(
        VALIDATOR_OPERATOR, bytes(VALIDATOR_CONSENSUS.verify_key), 10**12, "val0", CHAIN_ID
    )
    accounts = [
        {"address": to_bech32(addr_of(seeded_key(i))), "balance": str(balance)}
        for i in range(n_accounts)
    ]
    accounts.append({"address": to_bech32(addr_of(VALIDATOR_OPERATOR)), "balance": str(10**13)})
    state: dict[str, object] = {
        "chain_id": CHAIN_ID,
        "accounts": accounts,
        "gen_txs": [gentx.to_dict()],
    }
    if staking_params:
        state["staking"] = {"params": staking_params}
    return state


DEFAULT_BOUNDS = WeightBounds(
    max_uids_cap=SubnetParams().max_uids_cap,
    max_subnets=SubnetParams().max_subnets,
    max_delegations=StakingParams().max_delegations,
)


def exact_tx(key: SigningKey, msgs: list[Message], nonce: int, memo: str = "") -> bytes:
    """A tx paying exactly the fee a chain with default params requires (weights.py), as the
    SDK's quote would give (a chain with smaller bounds requires less: it is overpaid)."""
    return exact_fee(
        lambda fee: build_tx(key, CHAIN_ID, nonce, fee, msgs, memo),
        lambda raw: required_fee(tx_weight(len(raw), tuple(msgs), DEFAULT_BOUNDS), AppParams()),
        AppParams().min_fee,
    )


def fee_of(raw: bytes) -> int:
    """The fee a signed tx carries (what the ante charges)."""
    from abci_app._proto.moderntensor.tx.v1 import tx_pb2

    env = tx_pb2.Tx.FromString(raw)
    return int(tx_pb2.TxBody.FromString(env.body).fee)


def signed(i: int, msgs: list[Message], nonce: int, fee: int | None = None) -> bytes:
    """A tx from test account ``i`` (with the exact fee unless ``fee`` is given)."""
    if fee is None:
        return exact_tx(seeded_key(i), msgs, nonce)
    return build_tx(seeded_key(i), CHAIN_ID, nonce, fee, msgs)


@dataclass
class Driver:
    app: Application
    height: int = 0
    _last: abci.ResponseFinalizeBlock | None = None

    @classmethod
    def open(cls, path: Path) -> Driver:
        db = StateDB(path)
        return cls(Application(db, check_invariants=True), db.height)

    def init_chain(self, app_state: dict[str, object], chain_id: str = CHAIN_ID) -> bytes:
        resp = self.app.init_chain(
            abci.RequestInitChain(
                chain_id=chain_id, app_state_bytes=json.dumps(app_state).encode(), initial_height=1
            )
        )
        return resp.app_hash

    def last_response(self) -> abci.ResponseFinalizeBlock | None:
        return self._last

    def finalize(
        self,
        txs: list[bytes],
        absent: frozenset[bytes] = frozenset(),
        misbehavior: list[abci.Misbehavior] | None = None,
        time: int = 0,
    ) -> abci.ResponseFinalizeBlock:
        """FinalizeBlock as CometBFT sends it: every validator of the current set voted for the
        previous block (except ``absent`` consensus addresses); the first one proposes."""
        powers = last_powers(self.app._block_base())  # genesis included before block 1
        votes = (
            [
                abci.VoteInfo(
                    validator=abci.Validator(address=a, power=p),
                    block_id_flag=validator_pb2.BLOCK_ID_FLAG_ABSENT
                    if a in absent
                    else validator_pb2.BLOCK_ID_FLAG_COMMIT,
                )
                for a, p in sorted(powers.items())
            ]
            if self.height > 0
            else []
        )
        req = abci.RequestFinalizeBlock(
            txs=txs,
            height=self.height + 1,
            proposer_address=min(powers) if powers else b"",
            decided_last_commit=abci.CommitInfo(votes=votes),
            misbehavior=misbehavior or [],
        )
        req.time.seconds = time or 1_800_000_000 + 6 * (self.height + 1)
        resp = self.app.finalize_block(req)
        self._last = resp
        return resp

    def block(
        self, txs: list[bytes], absent: frozenset[bytes] = frozenset()
    ) -> tuple[bytes, list[int]]:
        """FinalizeBlock + Commit; return (app hash, tx result codes)."""
        resp = self.finalize(txs, absent)
        self.app.commit()
        self.height += 1
        return resp.app_hash, [r.code for r in resp.tx_results]

    def check(self, tx: bytes) -> abci.ResponseCheckTx:
        return self.app.check_tx(abci.RequestCheckTx(tx=tx))

    def query(self, path: str) -> abci.ResponseQuery:
        return self.app.query(abci.RequestQuery(path=path))

    def close(self) -> None:
        self.app.db.close()


def transfer(i: int, to_index: int, amount: int, nonce: int, fee: int = 1_000) -> bytes:
    return build_tx(
        seeded_key(i),
        CHAIN_ID,
        nonce,
        fee,
        [MsgTransfer(to=addr_of(seeded_key(to_index)), amount=amount)],
    )


class Sender:
    """Builds signed txs from test accounts, tracking each account's next nonce (a tx whose
    message fails still uses its nonce; do not reuse this for txs the ante refuses)."""

    def __init__(self) -> None:
        self.nonces: dict[int, int] = {}

    def tx(self, i: int, *msgs: Message, fee: int | None = None) -> bytes:
        nonce = self.nonces.get(i, 0)
        self.nonces[i] = nonce + 1
        return signed(i, list(msgs), nonce, fee)


def count_store_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the rows the store's lazy scans (``Store.iter_from``) yield from now on (undone
    with ``monkeypatch``); returns the counter, a one-element list a test may reset."""
    rows = [0]
    original = Store.iter_from

    def counting(
        self: Store, prefix: bytes, start: bytes, chunk: int = 64
    ) -> Iterator[tuple[bytes, bytes]]:
        for kv in original(self, prefix, start, chunk):
            rows[0] += 1
            yield kv

    monkeypatch.setattr(Store, "iter_from", counting)
    return rows


def genesis_document(app_state: dict[str, Any], consensus_params: dict[str, Any]) -> dict[str, Any]:
    """A complete genesis.json (chain CHAIN_ID from height 1, no CometBFT validators: the app's
    genesis validators become the set) around ``app_state`` and ``consensus_params``."""
    return {
        "genesis_time": "2026-01-01T00:00:00Z",
        "chain_id": CHAIN_ID,
        "initial_height": "1",
        "consensus_params": consensus_params,
        "validators": [],
        "app_state": app_state,
    }
