"""``abci_query`` routes answered from the check-state: the state the mempool has accepted txs
into, ahead of the last committed block.

  /pending/account/<mt1… address>   JSON {address, balance, nonce, exists}: the next nonce a new
                                    tx from this account must carry (committed nonce plus the
                                    txs of this sender the node's mempool holds)

Clients take the next nonce from here (the CLI and the SDK do), so two txs sent from one key
before a block do not both carry the committed nonce (the second one was refused with code 21).
Like the committed routes, these are answered at the latest committed height; they have no
proof (the check-state is no block's state). The answer is this node's view: another node's
mempool may differ.
"""

from __future__ import annotations

import json

from .address import from_bech32, to_bech32
from .errors import InvalidQuery, UnknownQueryPath
from .modules.bank.state import Account, get_account
from .state.overlay import KVReader

PENDING_PREFIX = "/pending/"
MAX_PATH_CHARS = 256


def pending_query(check_state: KVReader, path: str) -> bytes:
    """Answer a ``/pending/…`` route from ``check_state``; raise InvalidQuery (too long),
    InvalidAddress or UnknownQueryPath."""
    if len(path) > MAX_PATH_CHARS:
        raise InvalidQuery(f"path longer than {MAX_PATH_CHARS} characters")
    if path.startswith("/pending/account/"):
        address = from_bech32(path[len("/pending/account/") :])
        acct = get_account(check_state, address)
        body = {
            "address": to_bech32(address),
            "balance": str((acct or Account()).balance),
            "nonce": (acct or Account()).nonce,
            "exists": acct is not None,
        }
        return json.dumps(body, sort_keys=True).encode()
    raise UnknownQueryPath(f"{path[:64]!r}; known pending routes: /pending/account/<addr>")
