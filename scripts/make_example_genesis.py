"""Write the example genesis files in genesis/ (deterministic: fixed keys and time).

The keys are derived from public strings, so these files are EXAMPLES of the format and of a
sensible allocation, not a network anyone should run: `moderntensor localnet start` and the
genesis commands make real ones with fresh keys.

Usage: python scripts/make_example_genesis.py
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from nacl.signing import SigningKey

from abci_app.address import address_from_pubkey, to_bech32
from abci_app.modules.staking.genesis import make_gentx
from abci_app.node import genesis_file
from abci_app.params import BASE_UNITS_PER_MDT as MDT

OUT = Path(__file__).resolve().parent.parent / "genesis"


def key(label: str) -> SigningKey:
    return SigningKey(hashlib.sha256(f"moderntensor-example/{label}".encode()).digest())


def build(
    chain_id: str,
    n_validators: int,
    app_params: dict[str, int],
    staking: dict[str, int],
    faucet: int,
    bond: int,
) -> dict[str, object]:
    g = genesis_file.new_genesis(chain_id, app_params, staking)
    g["genesis_time"] = "2026-11-24T00:00:00Z"
    genesis_file.add_account(
        g, to_bech32(address_from_pubkey(bytes(key("faucet").verify_key))), faucet
    )
    for i in range(n_validators):
        op = key(f"{chain_id}/operator/{i}")
        cons = key(f"{chain_id}/consensus/{i}")
        genesis_file.add_account(g, to_bech32(address_from_pubkey(bytes(op.verify_key))), 10 * bond)
        gtx = make_gentx(op, bytes(cons.verify_key), bond, f"validator-{i}", chain_id)
        genesis_file.add_validator(g, gtx.to_dict())
    genesis_file.validate(g)
    return g


def main() -> None:
    genesis_file.save(
        OUT / "localnet.json",
        build(
            "moderntensor-localnet-1",
            4,
            {},
            {"max_validators": 100},
            faucet=10_000_000 * MDT,
            bond=10_000 * MDT,
        ),
    )
    genesis_file.save(
        OUT / "testnet.json",
        build(
            "moderntensor-testnet-1",
            7,
            {"min_fee": 10_000, "max_tx_bytes": 65_536},
            {"max_validators": 100, "min_self_bond": 1_000 * MDT},
            faucet=2_000_000 * MDT,
            bond=50_000 * MDT,
        ),
    )
    print(f"wrote {OUT.name}/localnet.json and {OUT.name}/testnet.json")


if __name__ == "__main__":
    main()
