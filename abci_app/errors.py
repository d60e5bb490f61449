"""One exception tree with stable numeric codes.

Every rejection the chain can give (CheckTx, FinalizeBlock tx results, queries, genesis) is one of
these classes. The numeric code is part of the public interface: clients match on it, so a code is
never renumbered or reused. The table in README.md ("Error codes") is checked against
:data:`ALL_ERRORS` by a test, so documentation and code cannot drift apart.

Codes 1-99 are the envelope and ante checks (99: an internal error), 100-109 bank, 110-129
staking, 130-159 subnets, 200-299 queries, 300-399 genesis.
"""

from __future__ import annotations

from typing import ClassVar

CODESPACE = "moderntensor"


class ModernTensorError(Exception):
    """Base of every expected, user-caused error. Anything else is a bug and is not caught.

    Only subclasses are raised; code 1 is reserved for the base and never returned."""

    code: ClassVar[int] = 1
    summary: ClassVar[str] = "internal error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.summary)
        self.message = message or self.summary

    def log(self) -> str:
        """Text placed in the ABCI response's ``log``: the summary then the specific reason."""
        if self.message == self.summary:
            return self.summary
        return f"{self.summary}: {self.message}"


# --- envelope: stateless checks -------------------------------------------------------------
class TxTooLarge(ModernTensorError):
    code = 2
    summary = "tx too large"


class TxDecodeError(ModernTensorError):
    code = 3
    summary = "tx could not be decoded"


class NonCanonicalEncoding(ModernTensorError):
    code = 4
    summary = "tx is not canonically encoded"


class WrongChainId(ModernTensorError):
    code = 5
    summary = "wrong chain id"


class InvalidPubKey(ModernTensorError):
    code = 6
    summary = "invalid public key"


class InvalidSignature(ModernTensorError):
    code = 7
    summary = "invalid signature"


class FeeTooLow(ModernTensorError):
    code = 8
    summary = "fee below the minimum"


class InvalidMessage(ModernTensorError):
    code = 9
    summary = "invalid message"


class MemoTooLong(ModernTensorError):
    code = 10
    summary = "memo too long"


class InternalError(ModernTensorError):
    """An unexpected exception (a bug) while answering a query or CheckTx, or inside one
    message handler (the tx fails: writes reverted, fee and nonce kept): logged with its
    traceback and counted in ``moderntensor_internal_errors_total``; the node keeps running
    (issue 13). Begin/end-block steps and Commit stay fail-stop."""

    code = 99
    summary = "internal error (a bug; the node logged it)"


# --- ante: stateful checks ------------------------------------------------------------------
class UnknownAccount(ModernTensorError):
    code = 20
    summary = "unknown sender account"


class BadNonce(ModernTensorError):
    code = 21
    summary = "wrong nonce"


class InsufficientFee(ModernTensorError):
    code = 22
    summary = "balance does not cover the fee"


# --- bank -----------------------------------------------------------------------------------
class InvalidAddress(ModernTensorError):
    code = 100
    summary = "invalid address"


class InvalidAmount(ModernTensorError):
    code = 101
    summary = "invalid amount"


class InsufficientFunds(ModernTensorError):
    code = 102
    summary = "insufficient funds"


class BalanceOverflow(ModernTensorError):
    code = 103
    summary = "balance overflow"


# --- staking --------------------------------------------------------------------------------
class InvalidCommission(ModernTensorError):
    code = 110
    summary = "invalid commission"


class ValidatorExists(ModernTensorError):
    code = 111
    summary = "validator already exists"


class UnknownValidator(ModernTensorError):
    code = 112
    summary = "unknown validator"


class SelfBondTooLow(ModernTensorError):
    code = 113
    summary = "self-bond below the minimum"


class InsufficientDelegation(ModernTensorError):
    code = 114
    summary = "delegation smaller than the amount"


class ConsensusKeyInUse(ModernTensorError):
    code = 115
    summary = "consensus key already in use"


class NotJailed(ModernTensorError):
    code = 116
    summary = "validator is not jailed"


class StillJailed(ModernTensorError):
    code = 117
    summary = "validator is still jailed"


class Tombstoned(ModernTensorError):
    code = 118
    summary = "validator is tombstoned"


class TooManyDelegations(ModernTensorError):
    code = 119
    summary = "too many delegations"


# --- subnets --------------------------------------------------------------------------------
class UnknownSubnet(ModernTensorError):
    code = 130
    summary = "no such subnet"


class SubnetLimitReached(ModernTensorError):
    code = 131
    summary = "the maximum number of subnets is registered"


class NotSubnetOwner(ModernTensorError):
    code = 132
    summary = "only the subnet owner may do this"


class InvalidHyperparams(ModernTensorError):
    code = 133
    summary = "invalid subnet hyperparameters"


class AlreadyRegistered(ModernTensorError):
    code = 134
    summary = "hotkey already registered on this subnet"


class SubnetFull(ModernTensorError):
    code = 135
    summary = "subnet is full and every neuron is immune"


class NotRegistered(ModernTensorError):
    code = 136
    summary = "hotkey is not registered on this subnet"


class InvalidWeights(ModernTensorError):
    code = 137
    summary = "invalid weights"


class WeightsRateLimited(ModernTensorError):
    code = 138
    summary = "weights set too recently"


class CommitRevealMismatch(ModernTensorError):
    code = 139
    summary = "commit-reveal setting forbids this message"


class NoWeightsCommit(ModernTensorError):
    code = 140
    summary = "no weights commit to reveal"


class RevealOutOfWindow(ModernTensorError):
    code = 141
    summary = "reveal outside its epoch"


class RevealMismatch(ModernTensorError):
    code = 142
    summary = "reveal does not match the commit"


class InsufficientSubnetStake(ModernTensorError):
    code = 143
    summary = "not enough subnet stake"


class WeightsVersionTooLow(ModernTensorError):
    code = 144
    summary = "weights version key below the subnet's"


class InvalidAxon(ModernTensorError):
    code = 145
    summary = "invalid axon"


class InvalidEpochInput(ModernTensorError):
    code = 146
    summary = "invalid epoch input"


class NoValidatorPermit(ModernTensorError):
    """Weights (set, commit or reveal) from a neuron without a validator permit: permits go to
    the top max_allowed_validators by active stake at each epoch (subtensor's rule; issue 13)."""

    code = 147
    summary = "no validator permit"


# --- queries --------------------------------------------------------------------------------
class UnknownQueryPath(ModernTensorError):
    code = 200
    summary = "unknown query path"


class InvalidQuery(ModernTensorError):
    code = 201
    summary = "invalid query"


class HeightNotAvailable(ModernTensorError):
    code = 203
    summary = "only the latest committed height can be queried"


# --- genesis --------------------------------------------------------------------------------
class InvalidGenesis(ModernTensorError):
    code = 300
    summary = "invalid genesis"


ALL_ERRORS: tuple[type[ModernTensorError], ...] = (
    ModernTensorError,
    TxTooLarge,
    TxDecodeError,
    NonCanonicalEncoding,
    WrongChainId,
    InvalidPubKey,
    InvalidSignature,
    FeeTooLow,
    InvalidMessage,
    MemoTooLong,
    InternalError,
    UnknownAccount,
    BadNonce,
    InsufficientFee,
    InvalidAddress,
    InvalidAmount,
    InsufficientFunds,
    BalanceOverflow,
    InvalidCommission,
    ValidatorExists,
    UnknownValidator,
    SelfBondTooLow,
    InsufficientDelegation,
    ConsensusKeyInUse,
    NotJailed,
    StillJailed,
    Tombstoned,
    TooManyDelegations,
    UnknownSubnet,
    SubnetLimitReached,
    NotSubnetOwner,
    InvalidHyperparams,
    AlreadyRegistered,
    SubnetFull,
    NotRegistered,
    InvalidWeights,
    WeightsRateLimited,
    CommitRevealMismatch,
    NoWeightsCommit,
    RevealOutOfWindow,
    RevealMismatch,
    InsufficientSubnetStake,
    WeightsVersionTooLow,
    InvalidAxon,
    InvalidEpochInput,
    NoValidatorPermit,
    UnknownQueryPath,
    InvalidQuery,
    HeightNotAvailable,
    InvalidGenesis,
)

ERRORS_BY_CODE: dict[int, type[ModernTensorError]] = {e.code: e for e in ALL_ERRORS}
