"""The ModernTensor SDK: CometBFT RPC client, keyring, tx builder and proof verification."""

from .keyring import Key, Keyring, KeyringError
from .rpc import NodeUnreachable, RPCClient, RPCError, TxTimeout

__all__ = [
    "Key",
    "Keyring",
    "KeyringError",
    "NodeUnreachable",
    "RPCClient",
    "RPCError",
    "TxTimeout",
]
