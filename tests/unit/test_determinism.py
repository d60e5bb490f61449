"""The same blocks on two app instances give the same app hash after every block."""

from __future__ import annotations

import random
from pathlib import Path

from chain_driver import Driver, genesis_app_state, transfer

N = 12


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
