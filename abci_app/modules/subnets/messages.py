"""Subnet messages with their stateless checks (``validate``); handlers do the stateful ones.

Field names match the protobuf messages in proto/moderntensor/tx/v1/tx.proto one to one (tx.py
converts by name). Weights are u16 (65535 = the largest weight); a row is normalised on chain.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from ...address import ADDRESS_LEN
from ...codec import U64_MAX, encode_u64
from ...errors import InvalidAddress, InvalidAmount, InvalidAxon, InvalidMessage, InvalidWeights
from .epoch import U16_MAX
from .params import MAX_UIDS_LIMIT, Hyperparams

MIN_SALT = 16
"""Shortest salt a reveal may carry: with fewer random bytes anyone could search the committed
weights from the hash before the reveal (the CLI and the neuron loop use 16-32 random bytes)."""
MAX_SALT = 64
COMMIT_DOMAIN = b"moderntensor/weights-commit/v1"


def _netuid(netuid: int) -> None:
    if not 1 <= netuid <= U16_MAX:
        raise InvalidMessage("netuid must be in [1, 65535]")


def _weights(uids: tuple[int, ...], weights: tuple[int, ...]) -> None:
    if len(uids) != len(weights):
        raise InvalidWeights(f"{len(uids)} uids but {len(weights)} weights")
    if len(uids) > MAX_UIDS_LIMIT:
        raise InvalidWeights(f"more than {MAX_UIDS_LIMIT} weights")
    if len(set(uids)) != len(uids):
        raise InvalidWeights("a uid appears twice")
    if any(u > U16_MAX for u in uids):
        raise InvalidWeights("uids are at most 65535")
    if any(w > U16_MAX for w in weights):
        raise InvalidWeights("weights are u16: at most 65535")


def commit_hash(
    hotkey: bytes,
    netuid: int,
    uids: tuple[int, ...] | list[int],
    weights: tuple[int, ...] | list[int],
    salt: bytes,
    version_key: int,
) -> bytes:
    """What commit_weights carries: sha256 over a domain tag, the hotkey, netuid, the uids and
    weights (u16 big-endian each, count first), the salt (length first) and the version key.
    Binding the hotkey means a validator cannot replay another's commit as its own."""
    parts = [
        COMMIT_DOMAIN,
        hotkey,
        netuid.to_bytes(2, "big"),
        len(uids).to_bytes(2, "big"),
        b"".join(u.to_bytes(2, "big") for u in uids),
        b"".join(w.to_bytes(2, "big") for w in weights),
        len(salt).to_bytes(1, "big"),
        salt,
        encode_u64(version_key),
    ]
    return hashlib.sha256(b"".join(parts)).digest()


def _max_cost(max_cost: int) -> None:
    if not 0 < max_cost <= U64_MAX:
        raise InvalidMessage(
            "max_cost must be set: the most you agree to burn, in base units (the CLI shows "
            "the current price)"
        )


@dataclass(frozen=True)
class MsgRegisterSubnet:
    """Register a subnet, burning the lock cost if it is at most ``max_cost`` (subtensor
    ``register_limit``'s ``limit_price``: the price can rise between signing and the block)."""

    max_cost: int = 0

    def validate(self) -> None:
        _max_cost(self.max_cost)


@dataclass(frozen=True)
class MsgSetSubnetHyperparams:
    """Set ``names[i]`` to ``values[i]`` on subnet ``netuid`` (its owner only)."""

    netuid: int
    names: tuple[str, ...]
    values: tuple[int, ...]

    def validate(self) -> None:
        """Raises:
        InvalidMessage: a netuid outside [1, 65535], no name, names and values of different
            lengths, a name twice, or an unknown name.
        """
        _netuid(self.netuid)
        if not self.names or len(self.names) != len(self.values):
            raise InvalidMessage("give one value per hyperparameter name, at least one")
        if len(set(self.names)) != len(self.names):
            raise InvalidMessage("a hyperparameter is named twice")
        unknown = sorted(set(self.names) - set(Hyperparams.names()))
        if unknown:
            raise InvalidMessage(
                f"unknown hyperparameter(s) {', '.join(unknown)}; "
                f"known: {', '.join(Hyperparams.names())}"
            )


@dataclass(frozen=True)
class MsgRegisterNeuron:
    """Register the sender as a hotkey on ``netuid``, burning the registration burn if it is at
    most ``max_cost``."""

    netuid: int
    max_cost: int = 0

    def validate(self) -> None:
        """Raises:
        InvalidMessage: a netuid outside [1, 65535].
        """
        _netuid(self.netuid)
        _max_cost(self.max_cost)


@dataclass(frozen=True)
class MsgServeAxon:
    """Publish the sender's axon endpoint on subnet ``netuid``."""

    netuid: int
    ip: str
    port: int
    protocol: int
    version: int

    def validate(self) -> None:
        """Raises:
        InvalidMessage: a netuid outside [1, 65535].
        InvalidAxon: not an IP address, a port outside [1, 65535], a protocol above 255.
        """
        _netuid(self.netuid)
        try:
            ipaddress.ip_address(self.ip)
        except ValueError:
            raise InvalidAxon(f"{self.ip!r} is not an IPv4 or IPv6 address") from None
        if not 1 <= self.port <= 65_535:
            raise InvalidAxon("port must be in [1, 65535]")
        if self.protocol > 255:
            raise InvalidAxon("protocol must be in [0, 255]")


@dataclass(frozen=True)
class _StakeMsg:
    netuid: int
    hotkey: bytes
    amount: int

    def validate(self) -> None:
        _netuid(self.netuid)
        if len(self.hotkey) != ADDRESS_LEN:
            raise InvalidAddress(f"hotkey must be a {ADDRESS_LEN}-byte address")
        if not 0 < self.amount <= U64_MAX:
            raise InvalidAmount("amount must be positive")


@dataclass(frozen=True)
class MsgAddSubnetStake(_StakeMsg):
    """Stake ``amount`` base units of the sender's (the coldkey's) tokens on ``hotkey``, a
    registered neuron of subnet ``netuid``."""


@dataclass(frozen=True)
class MsgRemoveSubnetStake(_StakeMsg):
    """Take ``amount`` base units of the sender's stake off ``hotkey`` on subnet ``netuid``."""


@dataclass(frozen=True)
class MsgSetWeights:
    """The sender's weights on subnet ``netuid``: ``uids[i]`` gets u16 ``weights[i]``."""

    netuid: int
    uids: tuple[int, ...]
    weights: tuple[int, ...]
    version_key: int = 0

    def validate(self) -> None:
        """Raises:
        InvalidMessage: a netuid outside [1, 65535].
        InvalidWeights: lengths differ, more than 4,096 entries, a uid twice, a value past 65535.
        """
        _netuid(self.netuid)
        _weights(self.uids, self.weights)


@dataclass(frozen=True)
class MsgCommitWeights:
    """Commit ``commit_hash`` (see :func:`commit_hash`) of the sender's next weights."""

    netuid: int
    commit_hash: bytes

    def validate(self) -> None:
        """Raises:
        InvalidMessage: a netuid outside [1, 65535], or a hash that is not 32 bytes.
        """
        _netuid(self.netuid)
        if len(self.commit_hash) != 32:
            raise InvalidMessage("commit_hash must be a 32-byte sha256 digest")


@dataclass(frozen=True)
class MsgRevealWeights:
    """Reveal the weights (and salt, version key) committed in the previous window."""

    netuid: int
    uids: tuple[int, ...]
    weights: tuple[int, ...]
    salt: bytes
    version_key: int = 0

    def validate(self) -> None:
        """Raises:
        InvalidMessage: a netuid outside [1, 65535], or a salt over 64 bytes.
        InvalidWeights: as for :class:`MsgSetWeights`.
        """
        _netuid(self.netuid)
        _weights(self.uids, self.weights)
        if not MIN_SALT <= len(self.salt) <= MAX_SALT:
            raise InvalidMessage(f"salt must be {MIN_SALT} to {MAX_SALT} bytes")
