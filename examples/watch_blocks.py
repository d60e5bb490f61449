"""Follow new blocks and txs over CometBFT's WebSocket with the async SDK (reconnects if the node
restarts). Stops after --blocks blocks.

    .venv/bin/python examples/watch_blocks.py --blocks 5
"""

from __future__ import annotations

import argparse
import asyncio

from abci_app.client.aio import AsyncChain


async def watch(node: str, blocks: int) -> None:
    async with AsyncChain(node, timeout=10) as chain:
        seen = 0
        async for event in chain.subscribe("tm.event='NewBlock'"):
            header = event["data"]["value"]["block"]["header"]
            txs = event["data"]["value"]["block"]["data"].get("txs") or []
            print(
                f"block {header['height']}  {len(txs)} txs  proposer {header['proposer_address']}"
            )
            seen += 1
            if seen >= blocks:
                return


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--node", default="http://127.0.0.1:26657")
    ap.add_argument("--blocks", type=int, default=5)
    args = ap.parse_args()
    asyncio.run(watch(args.node, args.blocks))


if __name__ == "__main__":
    main()
