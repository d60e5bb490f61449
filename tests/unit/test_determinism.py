"""The same blocks on two app instances give the same app hash after every block."""

from __future__ import annotations

import json
import random
from pathlib import Path

from chain_driver import Driver, genesis_app_state, transfer

N = 12
SALT = bytes(range(16))


def random_blocks(seed: int, n_blocks: int) -> list[list[bytes]]:
    """Valid transfers, overspends, stale nonces and garbage, in a seeded random mix."""
    rng = random.Random(seed)
    nonces = [0] * N
    blocks = []
    for _ in range(n_blocks):
        txs = []
        for _ in range(rng.randrange(0, 15)):
            s, r = rng.randrange(N), rng.randrange(N)
            kind = rng.random()
            if kind < 0.7:
                txs.append(transfer(s, r, rng.randrange(1, 10**12), nonces[s]))
                nonces[s] += 1
            elif kind < 0.8:  # message fails, fee and nonce still charged
                txs.append(transfer(s, r, 10**18, nonces[s]))
                nonces[s] += 1
            elif kind < 0.9:
                txs.append(transfer(s, r, 5, max(0, nonces[s] - 1)))
            else:
                txs.append(rng.randbytes(rng.randrange(0, 80)))
        blocks.append(txs)
    return blocks


def test_two_instances_agree_on_every_block(tmp_path: Path) -> None:
    a = Driver.open(tmp_path / "a.sqlite")
    b = Driver.open(tmp_path / "b.sqlite")
    state = genesis_app_state(N)
    assert a.init_chain(state) == b.init_chain(state)
    seen = set()
    for txs in random_blocks(seed=7, n_blocks=40):
        ha, codes_a = a.block(txs)
        hb, codes_b = b.block(txs)
        assert ha == hb
        assert codes_a == codes_b
        seen.update(codes_a)
    assert {0, 102, 21}.issubset(seen), seen  # the mix really exercised success and failures
    a.close()
    b.close()


def test_restart_replay_gives_the_same_hash(tmp_path: Path) -> None:
    """Blocks finalized but not committed before a crash are replayed to the same hash."""
    blocks = random_blocks(seed=11, n_blocks=12)
    ref = Driver.open(tmp_path / "ref.sqlite")
    ref.init_chain(genesis_app_state(N))
    ref_hashes = [ref.block(txs)[0] for txs in blocks]

    d = Driver.open(tmp_path / "crash.sqlite")
    d.init_chain(genesis_app_state(N))
    for txs in blocks[:6]:
        d.block(txs)
    d.finalize(blocks[6])  # crash after FinalizeBlock, before Commit
    d.close()
    d = Driver.open(tmp_path / "crash.sqlite")
    assert d.height == 6
    assert d.app.db.app_hash == ref_hashes[5]
    hashes = [d.block(txs)[0] for txs in blocks[6:]]
    assert hashes == ref_hashes[6:]
    ref.close()
    d.close()


def subnet_blocks(seed: int, n_blocks: int) -> list[list[bytes]]:
    """A seeded mix of every subnet message (valid and failing) over several epochs."""
    from chain_driver import Sender
    from harness import addr_of, seeded_key

    from abci_app.modules.subnets.messages import (
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

    rng = random.Random(seed)
    s = Sender()
    names = (
        "tempo",
        "weights_rate_limit",
        "max_allowed_uids",
        "immunity_period",
        "max_allowed_validators",
        "max_registrations_per_block",
        "target_registrations_per_interval",
    )
    price = 10**15  # a max_cost that never binds
    setup = [
        [s.tx(0, MsgRegisterSubnet(max_cost=price)), s.tx(1, MsgRegisterSubnet(max_cost=price))],
        [
            s.tx(0, MsgSetSubnetHyperparams(1, names, (6, 1, 6, 4, 3, 2, 4))),
            s.tx(
                1,
                MsgSetSubnetHyperparams(2, (*names, "commit_reveal"), (4, 0, 8, 2, 4, 3, 8, 0)),
            ),
        ],
        # validators: registered and staked on both subnets, so an epoch grants them permits
        # (subnet 1 takes two registrations a block)
        [
            s.tx(i, MsgRegisterNeuron(n, price))
            for i in (2, 3, 4)
            for n in (1, 2)
            if (i, n) != (4, 1)
        ],
        [s.tx(4, MsgRegisterNeuron(1, price))],
        [s.tx(i, MsgRegisterNeuron(1, price)) for i in (5, 6, 7)],  # the third: 151, the cap
        [
            s.tx(i, MsgAddSubnetStake(net, addr_of(seeded_key(i)), 10**12))
            for i in (2, 3, 4)
            for net in (1, 2)
        ],
        # the epochs after the stake (block 6) start the stake floors at it (subnet 2 at block
        # 7, subnet 1 at 12), the next ones weigh it and grant the permits (12 and 19)
        *([] for _ in range(6)),
        [s.tx(i, MsgSetWeights(2, (0, 1, 2), (9, 8, 7))) for i in (2, 3, 4)],  # uids 0..2
    ]
    pending: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    blocks = setup
    for _ in range(n_blocks):
        txs = []
        for _ in range(rng.randrange(0, 8)):
            i, net = rng.randrange(N), rng.choice([1, 2])
            uids = tuple(sorted(rng.sample(range(8), rng.randrange(1, 5))))
            weights = tuple(rng.randrange(0, 65536) for _ in uids)
            kind = rng.randrange(8)
            if kind == 0:
                msg: object = MsgRegisterNeuron(net, price)
            elif kind == 1:
                hk = addr_of(seeded_key(rng.randrange(N)))
                msg = MsgAddSubnetStake(net, hk, rng.randrange(1, 10**12))
            elif kind == 2:
                hk = addr_of(seeded_key(rng.randrange(N)))
                msg = MsgRemoveSubnetStake(net, hk, rng.randrange(1, 10**11))
            elif kind == 3:
                i = rng.choice([i, 2, 3, 4])  # mostly the validators (they hold permits)
                msg = MsgSetWeights(net, uids, weights)
            elif kind == 4:
                pending[i] = (uids, weights)
                msg = MsgCommitWeights(
                    1, commit_hash(addr_of(seeded_key(i)), 1, uids, weights, SALT, 0)
                )
            elif kind == 5 and i in pending:
                msg = MsgRevealWeights(1, *pending[i], SALT)
            elif kind == 6:
                msg = MsgServeAxon(net, f"10.0.0.{i}", 8000 + i, 4, 1)
            else:
                msg = MsgSetWeights(net, (99,), (1,))  # unknown uid
            txs.append(s.tx(i, msg))  # type: ignore[arg-type]
        blocks.append(txs)
    return blocks


def test_two_instances_agree_on_a_subnet_chain(tmp_path: Path) -> None:
    a = Driver.open(tmp_path / "a.sqlite")
    b = Driver.open(tmp_path / "b.sqlite")
    state = genesis_app_state(N)
    state["subnets"] = {"params": {"min_lock_cost": 10**9}}
    assert a.init_chain(state) == b.init_chain(state)
    seen: set[int] = set()
    epochs = 0
    for txs in subnet_blocks(seed=3, n_blocks=45):
        ha, codes_a = a.block(txs)
        hb, codes_b = b.block(txs)
        assert ha == hb
        assert codes_a == codes_b
        seen.update(codes_a)
        epochs += sum(e.type == "subnet_epoch" for e in a.last_response().events)
    assert epochs >= 8, epochs  # both subnets ran several epochs
    assert {0, 134, 137, 147, 151, 152}.issubset(seen), seen  # caps, pending commits, permits
    meta = json.loads(a.query("/subnet/2/metagraph").value)["neurons"]
    assert any(n["incentive"] > 0 for n in meta) and any(n["dividends"] > 0 for n in meta)
    a.close()
    b.close()


def test_metrics_do_not_change_the_app_hash(tmp_path: Path) -> None:
    """An app exporting metrics (wall-clock probes around epochs) computes the same hashes."""
    from abci_app.app import Application
    from abci_app.metrics import AppMetrics
    from abci_app.state.db import StateDB

    plain = Driver.open(tmp_path / "plain.sqlite")
    metered = Driver(Application(StateDB(tmp_path / "m.sqlite"), True, metrics=AppMetrics()))
    state = genesis_app_state(N)
    state["subnets"] = {"params": {"min_lock_cost": 10**9}}
    assert plain.init_chain(state) == metered.init_chain(state)
    for txs in subnet_blocks(seed=5, n_blocks=25):
        assert plain.block(txs) == metered.block(txs)
    m = metered.app.metrics
    assert m is not None
    assert m.registry.get_sample_value("moderntensor_block_height") == metered.height
    epochs = m.registry.get_sample_value("moderntensor_subnet_epoch_seconds", {"netuid": "2"})
    assert epochs is not None and epochs > 0
    plain.close()
    metered.close()
