"""A fixed chain that sends every message type, with its successes and its failures, through
staking, rewards, downtime and double-sign slashing, unbonding, subnets with epochs, commit-reveal
and pruning, plus CheckTx, PrepareProposal, every query route and a genesis export.

Everything the app answers is recorded: each FinalizeBlock response in full (tx results with
codes, logs and events, block events, validator updates, app hash), CheckTx answers, the txs
PrepareProposal keeps, query answers and the exported genesis.
``tests/unit/test_behaviour_pinned.py`` compares a digest of each step with
``behaviour_pinned.json``, so a refactoring that changes any byte of any answer is seen. When a
change of behaviour is intended, regenerate the file with ``python tests/behaviour_chain.py``
and say so in the commit message; ``--dump FILE`` writes the full answers (JSON) for diffing
two versions.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from chain_driver import (  # noqa: E402
    VALIDATOR_OPERATOR,
    Driver,
    Sender,
    genesis_app_state,
    signed,
    transfer,
)
from google.protobuf.json_format import MessageToDict  # noqa: E402
from harness import CHAIN_ID, addr_of, seeded_key  # noqa: E402

from abci_app._proto.tendermint.abci import types_pb2 as abci  # noqa: E402
from abci_app.address import module_address, to_bech32  # noqa: E402
from abci_app.modules.bank.messages import MsgTransfer  # noqa: E402
from abci_app.modules.distribution.messages import MsgWithdrawRewards  # noqa: E402
from abci_app.modules.slashing.messages import MsgUnjail  # noqa: E402
from abci_app.modules.staking.messages import (  # noqa: E402
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from abci_app.modules.staking.state import consensus_address  # noqa: E402
from abci_app.modules.subnets.messages import (  # noqa: E402
    MsgAddSubnetStake,
    MsgCommitWeights,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgRemoveSubnetStake,
    MsgRevealWeights,
    MsgServeAxon,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
    commit_hash,
)
from abci_app.node import genesis_file  # noqa: E402

PINNED = HERE / "unit" / "behaviour_pinned.json"

N = 8
A_OP = addr_of(VALIDATOR_OPERATOR)
A_INDEX = 1000  # seeded_key(1000) is validator A's operator
B_KEY = bytes(seeded_key(9000).verify_key)
C_KEY = bytes(seeded_key(9001).verify_key)
B_CONS, C_CONS = consensus_address(B_KEY), consensus_address(C_KEY)
B_OP, C_OP = addr_of(seeded_key(0)), addr_of(seeded_key(1))
MDT = 10**9


def acct(i: int) -> bytes:
    return addr_of(seeded_key(i))


def d_pool() -> bytes:
    """The distribution module account (no transfer may reach it)."""
    return module_address("distribution")


PRICE = 100 * MDT  # the max_cost of registrations (above every price in the scenario)
SALT = b"pepper and salt!"  # 16 bytes


def genesis() -> dict[str, Any]:
    state = genesis_app_state(N, 10**15, {"unbonding_blocks": 12, "commission_change_blocks": 1})
    state["slashing"] = {
        "params": {
            "signed_blocks_window": 10,
            "min_signed_per_window": 500_000_000,
            "downtime_jail_seconds": 30,
            "slash_fraction_downtime": 10_000_000,
            "slash_fraction_double_sign": 50_000_000,
        }
    }
    state["distribution"] = {"params": {"fee_burn_rate": 100_000_000}}
    state["subnets"] = {
        "params": {"min_lock_cost": MDT, "lock_reduction_interval": 50, "max_subnets": 3}
    }
    return state


class Recorder:
    """Runs steps on a Driver and records every answer as JSON-ready data."""

    def __init__(self, d: Driver) -> None:
        self.d = d
        self.steps: list[dict[str, Any]] = []

    def block(
        self, txs: list[bytes], absent: frozenset[bytes] = frozenset(), evidence: Any = None
    ) -> abci.ResponseFinalizeBlock:
        resp = self.d.finalize(txs, absent, misbehavior=evidence)
        self.d.app.commit()
        self.d.height += 1
        self.steps.append(
            {
                "step": f"block {self.d.height}",
                "response": MessageToDict(resp),
                "codes": [r.code for r in resp.tx_results],
            }
        )
        return resp

    def check(self, txs: list[bytes]) -> None:
        answers = [MessageToDict(self.d.check(tx)) for tx in txs]
        self.steps.append({"step": f"check_tx after {self.d.height}", "answers": answers})

    def prepare(self, txs: list[bytes]) -> None:
        req = abci.RequestPrepareProposal(txs=txs, max_tx_bytes=10**6, height=self.d.height + 1)
        kept = self.d.app.prepare_proposal(req).txs
        self.steps.append(
            {"step": f"prepare_proposal at {self.d.height + 1}", "kept": [t.hex() for t in kept]}
        )

    def queries(self, paths: list[str]) -> None:
        answers = {p: MessageToDict(self.d.query(p)) for p in paths}
        self.steps.append({"step": f"queries at {self.d.height}", "answers": answers})


def evidence_against(cons: bytes, height: int, power: int) -> list[abci.Misbehavior]:
    return [
        abci.Misbehavior(
            type=abci.DUPLICATE_VOTE,
            validator=abci.Validator(address=cons, power=power),
            height=height,
            total_voting_power=100,
        )
    ]


def query_paths() -> list[str]:
    who = [to_bech32(acct(i)) for i in (0, 1, 2, 3, 4)] + [to_bech32(A_OP)]
    paths = ["/params", "/supply", "/validators", "/params/staking", "/params/distribution"]
    paths += ["/module_accounts"]
    paths += ["/params/slashing", "/params/subnets", "/subnets", "/nope", "/store/zz"]
    for w in who:
        paths += [f"/account/{w}", f"/delegations/{w}", f"/unbonding/{w}", f"/rewards/{w}"]
        paths += [f"/subnet_stake/{w}"]
    for op in (A_OP, B_OP, C_OP):
        paths += [f"/validator/{to_bech32(op)}", f"/signing_info/{to_bech32(op)}"]
        paths += [f"/validator_rewards/{to_bech32(op)}"]
    for net in (1, 2, 3):
        paths += [f"/subnet/{net}", f"/subnet/{net}/hyperparams", f"/subnet/{net}/metagraph"]
        paths += [f"/subnet/{net}/weights/0", f"/subnet/{net}/weights/1", f"/subnet/{net}/x"]
    paths += ["/validator/mt1invalid", "/subnet/abc", "/account/nothex"]
    return paths


def run(d: Driver) -> Recorder:
    """One long scenario, read top to bottom."""
    r = Recorder(d)
    s = Sender()
    genesis_hash = d.init_chain(genesis())
    r.steps.append({"step": "init_chain", "app_hash": genesis_hash.hex()})

    # --- staking: two more validators, delegations, failures ---------------------------------
    r.block(
        [
            s.tx(0, MsgCreateValidator(B_KEY, 4000 * MDT, "B", "b.ex", 10**8, 3 * 10**8, 10**7)),
            s.tx(1, MsgCreateValidator(C_KEY, 3000 * MDT, "C", "", 5 * 10**7, 10**8, 10**7)),
            s.tx(2, MsgTransfer(acct(3), 7 * MDT)),
            s.tx(3, MsgTransfer(acct(2), 10**18)),  # 102: overspend, fee and nonce kept
            s.tx(0, MsgCreateValidator(C_KEY, 2 * MDT, "B2", "", 0, 0, 0)),  # 111
            s.tx(4, MsgCreateValidator(B_KEY, 2 * MDT, "dup", "", 0, 0, 0)),  # 115
            s.tx(5, MsgCreateValidator(bytes(seeded_key(9005).verify_key), 10, "x", "", 0, 0, 0)),
        ]
    )
    r.block(
        [
            s.tx(2, MsgDelegate(B_OP, 1000 * MDT)),
            s.tx(3, MsgDelegate(A_OP, 500 * MDT)),
            s.tx(0, MsgEditValidator("B!", "", True, 11 * 10**7)),
            s.tx(0, MsgEditValidator("", "", True, 12 * 10**7)),  # 120: one change per block here
            s.tx(1, MsgEditValidator("", "", True, 9 * 10**7)),  # 110: beyond max_change_rate
            s.tx(4, MsgTransfer(d_pool(), MDT)),  # 104: a module account
            s.tx(4, MsgDelegate(acct(7), MDT)),  # 112: no such validator
            s.tx(0, MsgEditValidator("", "c.example", False, 0)),
        ]
    )
    r.block(
        [
            s.tx(5, MsgDelegate(C_OP, 200 * MDT)),
            transfer(6, 7, 1, 0, fee=999),  # 8
            signed(6, [MsgTransfer(b"short", 1)], 0),  # 100
            signed(6, [MsgTransfer(acct(1), 0)], 0),  # 101
            signed(6, [], 0),  # 9: no message
            signed(6, [MsgServeAxon(1, "not-an-ip", 80, 0, 0)], 0),  # 145
            signed(6, [MsgTransfer(acct(1), 1)], 0, fee=10**16),  # 22: fee not covered
            signed(6, [MsgTransfer(acct(1), 1)], 3),  # 21: nonce gap
        ]
    )
    r.block(
        [
            s.tx(2, MsgWithdrawRewards(b"")),
            s.tx(0, MsgWithdrawRewards(B_OP)),
            s.tx(A_INDEX, MsgWithdrawRewards(b"")),
            s.tx(2, MsgUndelegate(B_OP, 300 * MDT)),
            s.tx(3, MsgRedelegate(A_OP, C_OP, 200 * MDT)),
            s.tx(3, MsgRedelegate(C_OP, B_OP, 100 * MDT)),  # 119: still arriving at C
            s.tx(3, MsgUndelegate(A_OP, 10**18)),  # 114
            s.tx(4, MsgUnjail()),  # 112: operates no validator
            s.tx(0, MsgUnjail()),  # 116: not jailed
        ]
    )
    # a tx whose second message fails: the first one's writes are reverted too
    r.block(
        [
            s.tx(6, MsgTransfer(acct(7), MDT), MsgDelegate(B_OP, MDT), MsgWithdrawRewards(b"")),
            s.tx(6, MsgTransfer(acct(7), MDT), MsgDelegate(B_OP, 10**18)),
            s.tx(7, MsgWithdrawRewards(C_OP), MsgWithdrawRewards(b"")),
        ]
    )
    r.check(
        [
            transfer(2, 3, MDT, s.nonces[2]),
            transfer(2, 3, MDT, s.nonces[2]),  # 21: stale in the check-state now
            transfer(3, 2, 10**18, s.nonces[3]),  # 102: refused by CheckTx outright
            b"\x01\x02garbage",
            transfer(4, 2, MDT, s.nonces[4], fee=10),  # 8
            signed(50, [MsgTransfer(acct(1), 1)], 0),  # 20: unknown account
        ]
    )
    r.prepare(
        [
            transfer(2, 3, MDT, s.nonces[2]),
            transfer(2, 3, MDT, s.nonces[2] + 5),  # dropped: nonce gap
            transfer(3, 2, 10**18, s.nonces[3]),  # kept: its message fails but the fee pays
            b"junk",
        ]
    )

    # --- subnets set-up while C goes down ------------------------------------------------------
    down = frozenset({C_CONS})
    names = ("tempo", "weights_rate_limit", "max_allowed_uids", "immunity_period")
    names += ("max_allowed_validators", "commit_reveal", "adjustment_interval")
    cap = ("max_registrations_per_block",)
    r.block(
        [
            s.tx(4, MsgRegisterSubnet(max_cost=PRICE)),
            s.tx(5, MsgRegisterSubnet(max_cost=PRICE)),
            s.tx(6, MsgRegisterSubnet(max_cost=MDT)),  # 150: the lock doubled to 4 MDT
        ],
        down,
    )
    r.block(
        [
            s.tx(4, MsgSetSubnetHyperparams(1, names + cap, (4, 2, 4, 3, 2, 0, 5, 4))),
            s.tx(5, MsgSetSubnetHyperparams(2, (*names[:3], names[4], *cap), (4, 2, 8, 4, 3))),
            s.tx(4, MsgSetSubnetHyperparams(2, ("tempo",), (9,))),  # 132: not the owner
            s.tx(5, MsgSetSubnetHyperparams(2, ("max_allowed_validators",), (9,))),  # 133
            s.tx(6, MsgSetSubnetHyperparams(7, ("tempo",), (9,))),  # 130
        ],
        down,
    )
    r.block(
        [s.tx(i, MsgRegisterNeuron(1, PRICE)) for i in (0, 1, 2, 3)]
        + [s.tx(i, MsgRegisterNeuron(2, PRICE)) for i in (0, 1, 6)]
        + [s.tx(0, MsgRegisterNeuron(1, PRICE))]  # 134: already registered
        + [s.tx(7, MsgRegisterNeuron(2, PRICE))],  # 151: 3 per block on subnet 2
        down,
    )
    r.block(
        [
            s.tx(7, MsgRegisterNeuron(1, PRICE)),  # 135: all immune
            s.tx(1, MsgServeAxon(1, "10.0.0.1", 8091, 4, 1)),
            s.tx(7, MsgServeAxon(1, "10.0.0.7", 8091, 4, 1)),  # 136
            s.tx(4, MsgAddSubnetStake(1, acct(0), 300 * MDT)),
            s.tx(5, MsgAddSubnetStake(1, acct(1), 100 * MDT)),
            s.tx(6, MsgAddSubnetStake(2, acct(0), 200 * MDT)),
            s.tx(6, MsgAddSubnetStake(2, acct(1), 50 * MDT)),
            s.tx(7, MsgAddSubnetStake(1, acct(7), MDT)),  # 136: hotkey not registered
            s.tx(0, MsgSetWeights(1, (1, 2, 3), (30_000, 20_000, 10_000))),  # 147: no permit yet
        ],
        down,
    )
    while (r.d.height + 3) % 5 != 0:  # subnet 2's epoch (tempo 4) starts the stake floors ...
        r.block([], down)
    r.block([], down)  # ... then subnet 1's (in the next block)
    for i in range(5):  # the next epochs of both weigh the stake that stayed: validator permits
        r.block([s.tx(1, MsgUnjail())] if i == 0 else [], down)  # 117: C was jailed 2 blocks ago
    salt = SALT
    commit0 = commit_hash(acct(0), 2, (1, 2), (100, 200), salt, 0)
    r.block(
        [
            s.tx(0, MsgSetWeights(1, (1, 2, 3), (30_000, 20_000, 10_000))),
            s.tx(1, MsgSetWeights(1, (9,), (1,))),  # 137: unknown uid (a failure: no rate limit)
            s.tx(1, MsgSetWeights(1, (0, 2), (5_000, 60_000))),
            s.tx(0, MsgCommitWeights(2, commit0)),
            s.tx(0, MsgCommitWeights(2, commit_hash(acct(0), 2, (1,), (1,), salt, 0))),  # 152
            s.tx(1, MsgCommitWeights(2, commit_hash(acct(1), 2, (0,), (9,), salt, 0))),
            s.tx(6, MsgSetWeights(2, (0,), (1,))),  # 139: commit-reveal is on
            s.tx(5, MsgRemoveSubnetStake(1, acct(1), 40 * MDT)),
            s.tx(5, MsgRemoveSubnetStake(1, acct(1), 10**15)),  # 143
            s.tx(6, MsgRevealWeights(2, (0,), (1,), salt)),  # 140: nothing committed
            s.tx(1, MsgUnjail()),  # the jail time is over
        ],
        down,
    )
    r.block(
        [
            s.tx(0, MsgRevealWeights(2, (1, 2), (100, 200), salt)),  # 141: too early
            s.tx(0, MsgSetWeights(1, (1,), (1,))),  # 138: weights_rate_limit is 2 blocks
            s.tx(4, MsgSetSubnetHyperparams(1, ("weights_version",), (1,))),
        ],
        down,
    )
    for _ in range(3):
        r.block([], down)
    r.block(
        [
            s.tx(0, MsgRevealWeights(2, (1, 2), (100, 201), salt)),  # 142: mismatch
            s.tx(0, MsgRevealWeights(2, (1, 2), (100, 200), salt)),
            s.tx(1, MsgSetWeights(1, (0,), (7,))),  # 144: version below weights_version
            s.tx(1, MsgSetWeights(1, (0, 3), (7, 8), 1)),
            s.tx(1, MsgUnjail()),  # 116: not jailed any more
        ],
        down,
    )
    for _ in range(5):
        r.block([], down)
    r.queries(query_paths())

    # --- C is jailed for downtime by now; unjail too early, then after the jail time -----------
    r.block([s.tx(1, MsgUnjail())])
    for _ in range(5):
        r.block([])
    r.block([s.tx(1, MsgUnjail()), s.tx(7, MsgRegisterNeuron(1, PRICE))])  # prunes the lowest
    r.block(
        [
            s.tx(7, MsgRegisterNeuron(2, PRICE)),
            s.tx(3, MsgRegisterSubnet(max_cost=PRICE)),
            s.tx(6, MsgRegisterSubnet(max_cost=PRICE)),  # 131: max_subnets is 3
        ]
    )

    # --- double sign by B: moves after the infraction are cut too -----------------------------
    infraction = d.height + 1
    power = json.loads(d.query(f"/validator/{to_bech32(B_OP)}").value)["power"]
    r.block([s.tx(2, MsgUndelegate(B_OP, 100 * MDT)), s.tx(2, MsgRedelegate(B_OP, C_OP, 50 * MDT))])
    r.block([s.tx(2, MsgWithdrawRewards(b""))])
    r.block([], evidence=evidence_against(B_CONS, infraction, power))
    r.block([s.tx(0, MsgUnjail())], evidence=evidence_against(B_CONS, infraction, power))  # 118
    for i in range(14):  # unbondings and redelegations mature; epochs keep running
        txs = [s.tx(0, MsgSetWeights(1, (1, 2), (10 + i, 20), 1))] if i % 4 == 0 else []
        r.block(txs)
    r.queries(query_paths())

    exported = genesis_file.export(d.app.db, {})
    exported.pop("genesis_time")
    r.steps.append({"step": "genesis export", "genesis": exported})
    return r


def compute(dump: Path | None = None) -> dict[str, Any]:
    """Run the scenario; return {"steps": [[name, sha256 of the step's canonical JSON]]}."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Driver.open(Path(tmp) / "state.sqlite")
        r = run(d)
        d.close()
        imported = Driver.open(Path(tmp) / "imported.sqlite")
        app_hash = imported.init_chain(r.steps[-1]["genesis"]["app_state"])
        imported.close()
        r.steps.append({"step": "genesis import", "app_hash": app_hash.hex()})
    if dump is not None:
        dump.write_text(json.dumps(r.steps, indent=1, sort_keys=True) + "\n")
    digests = []
    for step in r.steps:
        canonical = json.dumps(step, sort_keys=True, separators=(",", ":")).encode()
        digests.append([step["step"], hashlib.sha256(canonical).hexdigest()])
    return {"chain_id": CHAIN_ID, "steps": digests, "summary": summary(r.steps)}


def summary(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """What the scenario exercised: every result code and event type seen."""
    codes: set[int] = set()
    events: set[str] = set()
    for step in steps:
        resp = step.get("response")
        if resp is None:
            continue
        codes.update(step["codes"])
        for res in resp.get("txResults", []):
            events.update(e["type"] for e in res.get("events", []))
        events.update(e["type"] for e in resp.get("events", []))
    return {"codes": sorted(codes), "events": sorted(events)}


if __name__ == "__main__":
    args = sys.argv[1:]
    dump_to = Path(args[1]) if args[:1] == ["--dump"] else None
    result = compute(dump_to)
    if dump_to is None:
        PINNED.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {PINNED}")
    else:
        print(f"dumped to {dump_to}")
    print(json.dumps(result["summary"]))
