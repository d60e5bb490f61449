"""The whole state machine (FinalizeBlock + Commit over random txs) against a simple model of
balances, nonces, delegations, unbonding and supply (hypothesis stateful testing).

Rewards are switched off (block_reward 0, every fee burned) so the model is exact: each tx
pays the exact fee its weight requires (issue 13; read back from the signed tx); a tx whose
nonce is right pays its fee even when its message fails; a wrong nonce changes nothing; the
supply falls by exactly the fees (burned as the next block begins). After every block each
account's balance + unbonding, nonce and delegated tokens, the supply and the app's own
invariants must match.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from chain_driver import VALIDATOR_OPERATOR, Driver, fee_of, genesis_app_state, signed
from harness import addr_of, seeded_key
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from abci_app.address import to_bech32
from abci_app.invariants import check_invariants
from abci_app.modules.bank.messages import MsgTransfer
from abci_app.modules.staking.messages import MsgDelegate, MsgUndelegate

N = 5
START = 10**13
VALIDATOR = addr_of(VALIDATOR_OPERATOR)
accounts = st.integers(0, N - 1)
amounts = st.one_of(st.integers(1, 10**6), st.integers(10**12, 3 * 10**13))


class ChainModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="mt-sm-"))
        self.d = Driver.open(self.tmp / "s.sqlite")
        state = genesis_app_state(N, balance=START, staking_params={"unbonding_blocks": 2})
        state["distribution"] = {"params": {"block_reward": 0, "fee_burn_rate": 10**9}}
        self.d.init_chain(state)
        self.d.block([])
        self.balance = [START] * N
        self.nonce = [0] * N
        self.delegated = [0] * N
        self.unbonding = [0] * N
        self.supply = int(json.loads(self.d.query("/supply").value)["total"])
        self.pending: list[tuple[bytes, object]] = []  # (raw tx, model effect)
        self.fees = 0
        self.blocks = 0

    def teardown(self) -> None:
        self.d.close()

    # --- txs for the next block ---------------------------------------------------------------
    def _queue(self, i: int, msg: object, nonce_shift: int, effect: object) -> None:
        nonce = max(0, self.nonce_in_block(i) + nonce_shift)
        raw = signed(i, [msg], nonce)  # the exact fee of its weight
        self.pending.append((raw, (i, nonce, fee_of(raw), effect)))  # type: ignore[list-item]

    def nonce_in_block(self, i: int) -> int:
        """Nonce account i has after the txs already queued for this block (model)."""
        n = self.nonce[i]
        for _, entry in self.pending:
            if entry is not None and entry[0] == i and entry[1] == n:  # type: ignore[index]
                n += 1
        return n

    @rule(i=accounts, j=accounts, amount=amounts, shift=st.sampled_from([0, 0, 0, -1, 1]))
    def transfer(self, i: int, j: int, amount: int, shift: int) -> None:
        self._queue(i, MsgTransfer(addr_of(seeded_key(j)), amount), shift, ("transfer", j, amount))

    @rule(i=accounts, amount=amounts)
    def delegate(self, i: int, amount: int) -> None:
        self._queue(i, MsgDelegate(VALIDATOR, amount), 0, ("delegate", amount))

    @rule(i=accounts, amount=amounts)
    def undelegate(self, i: int, amount: int) -> None:
        self._queue(i, MsgUndelegate(VALIDATOR, amount), 0, ("undelegate", amount))

    @rule(raw=st.binary(max_size=60))
    def garbage(self, raw: bytes) -> None:
        self.pending.append((raw, None))

    # --- a block --------------------------------------------------------------------------------
    def _apply(self, entry: tuple[int, int, int, tuple[object, ...]] | None) -> bool:
        """The model's execution of one tx; True if the chain must answer code 0."""
        if entry is None:
            return False
        i, nonce, fee, effect = entry
        if nonce != self.nonce[i] or self.balance[i] < fee:
            return False  # refused by the ante: nothing changes
        self.balance[i] -= fee
        self.nonce[i] += 1
        self.fees += fee  # collected now, burned when the next block allocates them
        kind = effect[0]
        if kind == "transfer":
            _, j, amount = effect
            if self.balance[i] < amount:  # type: ignore[operator]
                return False
            self.balance[i] -= amount  # type: ignore[operator]
            self.balance[j] += amount  # type: ignore[index, operator]
        elif kind == "delegate":
            amount = effect[1]
            if self.balance[i] < amount:  # type: ignore[operator]
                return False
            self.balance[i] -= amount  # type: ignore[operator]
            self.delegated[i] += amount  # type: ignore[operator]
        else:
            amount = effect[1]
            if self.delegated[i] < amount:  # type: ignore[operator]
                return False
            self.delegated[i] -= amount  # type: ignore[operator]
            self.unbonding[i] += amount  # type: ignore[operator]
        return True

    @precondition(lambda self: self.blocks < 12)
    @rule()
    def commit_block(self) -> None:
        txs = [raw for raw, _ in self.pending]
        self.supply -= self.fees  # the previous block's fees, burned as this one begins
        self.fees = 0
        expected = [self._apply(e) for _, e in self.pending]  # type: ignore[arg-type]
        _, codes = self.d.block(txs)
        assert [c == 0 for c in codes] == expected, (codes, expected)
        self.pending = []
        self.blocks += 1

    # --- the model and the chain agree --------------------------------------------------------
    @invariant()
    def agrees_with_the_model(self) -> None:
        if self.pending:
            return  # compared at block boundaries
        for i in range(N):
            addr = to_bech32(addr_of(seeded_key(i)))
            acct = json.loads(self.d.query(f"/account/{addr}").value)
            unbonding = sum(
                int(e["amount"])
                for e in json.loads(self.d.query(f"/unbonding/{addr}").value)["unbonding"]
            )
            # an unbonding entry matures into the balance: their sum is what the model knows
            assert int(acct["balance"]) + unbonding == self.balance[i] + self.unbonding[i]
            assert acct["nonce"] == self.nonce[i]
            dels = json.loads(self.d.query(f"/delegations/{addr}").value)["delegations"]
            assert sum(int(x["tokens"]) for x in dels) == self.delegated[i]
        assert int(json.loads(self.d.query("/supply").value)["total"]) == self.supply
        assert check_invariants(self.d.app.db) == []


ChainModel.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestChainModel = ChainModel.TestCase
