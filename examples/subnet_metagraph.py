"""List the subnets and print each one's metagraph with the typed SDK results.

.venv/bin/python examples/subnet_metagraph.py
"""

from __future__ import annotations

import argparse

from abci_app.client.chain import Chain


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--node", default="http://127.0.0.1:26657")
    args = ap.parse_args()
    with Chain(args.node, timeout=10) as chain:
        subnets = chain.subnets()
        print(f"{len(subnets)} subnet(s); {len(chain.validators())} consensus validator(s)")
        for s in subnets:
            print(f"subnet {s.netuid}: {s.neurons}/{s.max_allowed_uids} neurons, tempo {s.tempo}")
            for n in chain.metagraph(s.netuid).neurons:
                print(
                    f"  uid {n.uid:>3} {n.hotkey} stake {n.stake} "
                    f"incentive {n.incentive_fraction:.4f} dividends {n.dividends_fraction:.4f}"
                )


if __name__ == "__main__":
    main()
