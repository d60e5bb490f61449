"""One exception tree with stable numeric codes.

Every rejection the chain can give (CheckTx, FinalizeBlock tx results, queries, genesis) is one of
these classes. The numeric code is part of the public interface: clients match on it, so a code is
never renumbered or reused. The tree has one base, :class:`ModernTensorError` (code 1, never
returned), and one category base per part of the chain, each owning ranges of codes:

* :class:`EnvelopeError` 2-99: stateless tx checks (2-19) and the ante (20-29);
* :class:`BankError` 100-109: addresses and amounts (every module's messages use them);
* :class:`StakingError` 110-115 and 119-129;
* :class:`SlashingError` 116-118 (they predate the category) and 160-169;
* :class:`SubnetError` 130-159;
* :class:`QueryError` 200-299;
* :class:`GenesisError` 300-399;
* :class:`NeuronError` 400-449: off-chain, never returned by the chain: the axon's refusals
  and what the dendrite makes of a miner's answer.

A concrete error sets ``code`` and ``summary``; defining its class registers it in
:data:`ERRORS_BY_CODE`, and a class whose code is taken, or outside its category's ranges, fails
when its module is imported (:class:`ErrorCodeConflict`). The README's table ("Error codes") is
checked against :data:`ALL_ERRORS` by a test, so documentation and code cannot drift apart.
Model: ethereum/execution-specs ``exceptions.py`` (a small tree) with Cosmos SDK's stable
per-module codes (``errors.Register(codespace, code, ...)`` panics on a duplicate).
"""

from __future__ import annotations

from typing import ClassVar

CODESPACE = "moderntensor"


class ErrorCodeConflict(TypeError):
    """A class of the tree reuses a code, or takes one outside its category's ranges (raised
    while the class is being defined, so at import)."""


ERRORS_BY_CODE: dict[int, type[ModernTensorError]] = {}
"""Every concrete error class by its code (filled as the classes below are defined)."""
_CATEGORY_RANGES: dict[type[ModernTensorError], tuple[range, ...]] = {}


class ModernTensorError(Exception):
    """Base of every expected, user-caused error. Anything else is a bug and is not caught.

    Only subclasses are raised; code 1 is reserved for the base and never returned."""

    code: ClassVar[int] = 1
    summary: ClassVar[str] = "internal error"
    CODES: ClassVar[tuple[range, ...]] = (range(1, 2),)
    """A category's code ranges (set only on category bases)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "CODES" in cls.__dict__:
            _register_category(cls)
        else:
            _register_code(cls)

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.summary)
        self.message = message or self.summary

    def log(self) -> str:
        """Text placed in the ABCI response's ``log``: the summary then the specific reason."""
        if self.message == self.summary:
            return self.summary
        return f"{self.summary}: {self.message}"


def _register_category(cls: type[ModernTensorError]) -> None:
    if "code" in cls.__dict__:
        raise ErrorCodeConflict(f"category {cls.__name__} sets CODES, so it takes no code")
    for other, ranges in _CATEGORY_RANGES.items():
        for mine in cls.CODES:
            if any(set(mine) & set(r) for r in ranges):
                raise ErrorCodeConflict(
                    f"category {cls.__name__}: codes {mine.start}-{mine.stop - 1} overlap "
                    f"those of {other.__name__}"
                )
    _CATEGORY_RANGES[cls] = cls.CODES


def _register_code(cls: type[ModernTensorError]) -> None:
    if "code" not in cls.__dict__:
        raise ErrorCodeConflict(f"{cls.__name__} must set its own code (or CODES, a category)")
    category = next(c for c in cls.__mro__ if c in _CATEGORY_RANGES)
    if not any(cls.code in r for r in _CATEGORY_RANGES[category]):
        raise ErrorCodeConflict(
            f"{cls.__name__}: code {cls.code} is outside the ranges of {category.__name__}"
        )
    taken = ERRORS_BY_CODE.get(cls.code)
    if taken is not None:
        raise ErrorCodeConflict(
            f"{cls.__name__}: code {cls.code} is already used by {taken.__name__}"
        )
    ERRORS_BY_CODE[cls.code] = cls


_CATEGORY_RANGES[ModernTensorError] = ModernTensorError.CODES
ERRORS_BY_CODE[ModernTensorError.code] = ModernTensorError


# --- categories -------------------------------------------------------------------------------
class EnvelopeError(ModernTensorError):
    """The tx envelope: stateless checks (size, decoding, chain id, fee, signature: 2-19) and
    the ante's stateful ones (sender account, nonce, fee payable: 20-29)."""

    CODES = (range(2, 100),)


class BankError(ModernTensorError):
    """Accounts, addresses and amounts (every module's messages use these)."""

    CODES = (range(100, 110),)


class StakingError(ModernTensorError):
    """Validators, delegations, unbonding and redelegation."""

    CODES = (range(110, 116), range(119, 130))


class SlashingError(ModernTensorError):
    """Jail, unjail and tombstone (116-118 were staking's before the category existed)."""

    CODES = (range(116, 119), range(160, 170))


class SubnetError(ModernTensorError):
    """Subnets, neurons, weights, subnet stake and the epoch simulator."""

    CODES = (range(130, 160),)


class QueryError(ModernTensorError):
    """``abci_query`` paths and arguments."""

    CODES = (range(200, 300),)


class GenesisError(ModernTensorError):
    """Genesis files and InitChain."""

    CODES = (range(300, 400),)


class NeuronError(ModernTensorError):
    """Off-chain, never returned by the chain: the axon's refusals of a request and what the
    dendrite makes of a miner's answer (``abci_app.neurons``)."""

    CODES = (range(400, 450),)


# --- envelope: stateless checks -------------------------------------------------------------
class TxTooLarge(EnvelopeError):
    code = 2
    summary = "tx too large"


class TxDecodeError(EnvelopeError):
    code = 3
    summary = "tx could not be decoded"


class NonCanonicalEncoding(EnvelopeError):
    code = 4
    summary = "tx is not canonically encoded"


class WrongChainId(EnvelopeError):
    code = 5
    summary = "wrong chain id"


class InvalidPubKey(EnvelopeError):
    code = 6
    summary = "invalid public key"


class InvalidSignature(EnvelopeError):
    code = 7
    summary = "invalid signature"


class FeeTooLow(EnvelopeError):
    code = 8
    summary = "fee below the minimum"


class InvalidMessage(EnvelopeError):
    code = 9
    summary = "invalid message"


class MemoTooLong(EnvelopeError):
    code = 10
    summary = "memo too long"


class InternalError(EnvelopeError):
    """An unexpected exception (a bug) while answering a query or CheckTx, or inside one
    message handler (the tx fails: writes reverted, fee and nonce kept): logged with its
    traceback and counted in ``moderntensor_internal_errors_total``; the node keeps running
    (issue 13). Begin/end-block steps and Commit stay fail-stop."""

    code = 99
    summary = "internal error (a bug; the node logged it)"


# --- ante: stateful checks ------------------------------------------------------------------
class UnknownAccount(EnvelopeError):
    code = 20
    summary = "unknown sender account"


class BadNonce(EnvelopeError):
    code = 21
    summary = "wrong nonce"


class InsufficientFee(EnvelopeError):
    code = 22
    summary = "balance does not cover the fee"


class NoStateYet(EnvelopeError):
    """CheckTx before the node has any state (InitChain not run, or a state sync under way):
    there is nothing to check a tx against. A stranger's tx then is no bug (code 99 logged a
    traceback for each one: issue 13 review)."""

    code = 23
    summary = "the node has no state yet (genesis or state sync not done): retry later"


# --- bank -----------------------------------------------------------------------------------
class InvalidAddress(BankError):
    code = 100
    summary = "invalid address"


class InvalidAmount(BankError):
    code = 101
    summary = "invalid amount"


class InsufficientFunds(BankError):
    code = 102
    summary = "insufficient funds"


class BalanceOverflow(BankError):
    code = 103
    summary = "balance overflow"


class ModuleAccountRecipient(BankError):
    """Module accounts hold tokens for their module only (Cosmos x/bank ``BlockedAddrs``)."""

    code = 104
    summary = "recipient is a module account"


# --- staking --------------------------------------------------------------------------------
class InvalidCommission(StakingError):
    code = 110
    summary = "invalid commission"


class ValidatorExists(StakingError):
    code = 111
    summary = "validator already exists"


class UnknownValidator(StakingError):
    code = 112
    summary = "unknown validator"


class SelfBondTooLow(StakingError):
    code = 113
    summary = "self-bond below the minimum"


class InsufficientDelegation(StakingError):
    code = 114
    summary = "delegation smaller than the amount"


class ConsensusKeyInUse(StakingError):
    code = 115
    summary = "consensus key already in use"


class TransitiveRedelegation(StakingError):
    """Cosmos x/staking ``ErrTransitiveRedelegation``: stake still arriving by redelegation
    cannot be redelegated again until that redelegation completes."""

    code = 119
    summary = "redelegation from a validator the stake is still redelegating into"


class CommissionChangeTooSoon(StakingError):
    """Cosmos x/staking ``ErrCommissionUpdateTime``: one commission change per
    ``commission_change_blocks``."""

    code = 120
    summary = "commission changed too recently"


class ValidatorHasNoTokens(StakingError):
    """Cosmos x/staking ``ErrDelegatorShareExRateInvalid``: a validator with shares but no
    tokens (slashed to zero) sells no shares."""

    code = 121
    summary = "validator has no tokens left for its shares"


class MaxEntriesReached(StakingError):
    """Cosmos x/staking ``ErrMaxUnbondingDelegationEntries`` /
    ``ErrMaxRedelegationEntries``."""

    code = 122
    summary = "too many unbonding or redelegation entries for this pair"


class TooManyDelegations(StakingError):
    """A new delegation past ``max_delegations`` validators per account (withdraw_rewards
    settles each one, so its weight covers that many; issue 13)."""

    code = 123
    summary = "too many delegations"


# --- slashing -------------------------------------------------------------------------------
class NotJailed(SlashingError):
    code = 116
    summary = "validator is not jailed"


class StillJailed(SlashingError):
    code = 117
    summary = "validator is still jailed"


class Tombstoned(SlashingError):
    code = 118
    summary = "validator is tombstoned"


# --- subnets --------------------------------------------------------------------------------
class UnknownSubnet(SubnetError):
    code = 130
    summary = "no such subnet"


class SubnetLimitReached(SubnetError):
    code = 131
    summary = "the maximum number of subnets is registered"


class NotSubnetOwner(SubnetError):
    code = 132
    summary = "only the subnet owner may do this"


class InvalidHyperparams(SubnetError):
    code = 133
    summary = "invalid subnet hyperparameters"


class AlreadyRegistered(SubnetError):
    code = 134
    summary = "hotkey already registered on this subnet"


class SubnetFull(SubnetError):
    code = 135
    summary = "subnet is full and every neuron is immune"


class NotRegistered(SubnetError):
    code = 136
    summary = "hotkey is not registered on this subnet"


class InvalidWeights(SubnetError):
    code = 137
    summary = "invalid weights"


class WeightsRateLimited(SubnetError):
    code = 138
    summary = "weights set too recently"


class CommitRevealMismatch(SubnetError):
    code = 139
    summary = "commit-reveal setting forbids this message"


class NoWeightsCommit(SubnetError):
    code = 140
    summary = "no weights commit to reveal"


class RevealOutOfWindow(SubnetError):
    code = 141
    summary = "reveal outside its epoch"


class RevealMismatch(SubnetError):
    code = 142
    summary = "reveal does not match the commit"


class InsufficientSubnetStake(SubnetError):
    code = 143
    summary = "not enough subnet stake"


class WeightsVersionTooLow(SubnetError):
    code = 144
    summary = "weights version key below the subnet's"


class InvalidAxon(SubnetError):
    code = 145
    summary = "invalid axon"


class InvalidEpochInput(SubnetError):
    code = 146
    summary = "invalid epoch input"


class PriceAboveMax(SubnetError):
    """subtensor ``register_limit``: a registration costs at most the ``max_cost`` its sender
    signed."""

    code = 150
    summary = "registration costs more than max_cost"


class RegistrationLimitReached(SubnetError):
    """subtensor ``TooManyRegistrationsThisBlock`` / ``TooManyRegistrationsThisInterval``."""

    code = 151
    summary = "too many registrations on this subnet"


class CommitPending(SubnetError):
    """A validator's unrevealed commit is neither replaced nor stacked: reveal it first."""

    code = 152
    summary = "an unrevealed weights commit is pending"


class NoValidatorPermit(SubnetError):
    """Weights (set, commit or reveal) from a neuron without a validator permit: permits go to
    the top max_allowed_validators by active stake at each epoch (subtensor's rule; issue 13)."""

    code = 147
    summary = "no validator permit"


# --- queries --------------------------------------------------------------------------------
class UnknownQueryPath(QueryError):
    code = 200
    summary = "unknown query path"


class InvalidQuery(QueryError):
    code = 201
    summary = "invalid query"


class HeightNotAvailable(QueryError):
    code = 203
    summary = "only the latest committed height can be queried"


# --- genesis --------------------------------------------------------------------------------
class InvalidGenesis(GenesisError):
    code = 300
    summary = "invalid genesis"


# --- neurons (off-chain: axon refusals, dendrite verdicts) -----------------------------------
class UnsignedRequest(NeuronError):
    code = 400
    summary = "request is not signed"


class BadRequestSignature(NeuronError):
    code = 401
    summary = "request signature does not verify"


class StaleRequest(NeuronError):
    code = 402
    summary = "request timestamp outside the accepted window"


class ReplayedNonce(NeuronError):
    code = 403
    summary = "request nonce was already used"


class NotAValidator(NeuronError):
    code = 404
    summary = "caller has no validator permit on this subnet"


class RequestTooLarge(NeuronError):
    code = 405
    summary = "request body too large"


class AxonBusy(NeuronError):
    code = 406
    summary = "axon is at its concurrency limit"


class BadForwardRequest(NeuronError):
    code = 407
    summary = "invalid forward request"


class BadAxonResponse(NeuronError):
    code = 408
    summary = "invalid axon response"


class MinerUnreachable(NeuronError):
    code = 409
    summary = "miner did not answer in time"


ALL_ERRORS: tuple[type[ModernTensorError], ...] = tuple(
    ERRORS_BY_CODE[code] for code in sorted(ERRORS_BY_CODE)
)
"""Every concrete error class (and the base, code 1), by ascending code."""
