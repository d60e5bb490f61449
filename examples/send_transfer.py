"""Send MDT from a keyring key and wait for the block (against `make run`: the `dev` key in
.data/keyring is funded in genesis).

    .venv/bin/python examples/send_transfer.py --amount 1.5
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

from abci_app.address import from_bech32
from abci_app.client.chain import Chain
from abci_app.client.keyring import Keyring
from abci_app.errors import ModernTensorError
from abci_app.modules.bank.messages import MsgTransfer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--node", default="http://127.0.0.1:26657")
    ap.add_argument("--home", type=Path, default=Path(".data"), help="where the keyring is")
    ap.add_argument("--from", dest="sender", default="dev")
    ap.add_argument("--to", default=None, help="address (default: a key 'alice', made if new)")
    ap.add_argument("--amount", default="1", help="MDT")
    args = ap.parse_args()
    keys = Keyring(args.home / "keyring")
    sender = keys.get(args.sender)
    if args.to is None:
        names = {k.name for k in keys.list()}
        args.to = (keys.get("alice") if "alice" in names else keys.add("alice")).address
    amount = int(Decimal(args.amount) * 10**9)
    with Chain(args.node, timeout=10) as chain:
        before = chain.account(args.to).balance
        try:
            done = chain.send(sender, [MsgTransfer(from_bech32(args.to), amount)])
        except ModernTensorError as e:
            raise SystemExit(f"refused: {e.log()}") from None
        after = chain.account(args.to).balance
    print(f"tx {done.hash} in block {done.height}: {args.to} {before} -> {after} base units")


if __name__ == "__main__":
    main()
