"""Block execution: decode -> ante -> route messages -> end-block steps.

Pure functions over an :class:`Overlay`: they read and write the overlay they are given and
nothing else (no clock, no randomness, no I/O), so two nodes fed the same blocks write the same
bytes and compute the same app hash. The ABCI layer (app.py) decides which overlay to pass:
the block's deliver-state in FinalizeBlock, the check-state in CheckTx.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .address import module_address, to_bech32
from .codec import U64_MAX, decode_u64, encode_u64, encode_uvarint
from .errors import (
    CODESPACE,
    BadNonce,
    FeeTooLow,
    InsufficientFee,
    InternalError,
    InvalidGenesis,
    ModernTensorError,
    UnknownAccount,
)
from .genesis import GenesisState
from .modules.bank.handlers import apply_transfer
from .modules.bank.messages import MsgTransfer
from .modules.bank.state import Account, credit, get_account, set_account, set_supply
from .modules.distribution.genesis import init_distribution
from .modules.distribution.messages import MsgWithdrawRewards
from .modules.distribution.rewards import allocate, apply_withdraw_rewards
from .modules.slashing.genesis import init_slashing
from .modules.slashing.handlers import apply_unjail, handle_evidence, handle_votes
from .modules.slashing.messages import MsgUnjail
from .modules.staking import handlers as staking
from .modules.staking.endblock import end_block as staking_end_block
from .modules.staking.genesis import init_staking
from .modules.staking.messages import (
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from .modules.staking.params import StakingParams
from .modules.staking.state import consensus_address
from .modules.staking.state import get_params as get_staking_params
from .modules.subnets import handlers as subnets
from .modules.subnets.endblock import end_block as subnets_end_block
from .modules.subnets.genesis import init_subnets
from .modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgCommitWeights,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgRemoveSubnetStake,
    MsgRevealWeights,
    MsgServeAxon,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
)
from .modules.subnets.state import get_params as get_subnet_params
from .params import AppParams
from .state.keys import CHAIN_ID, MAX_GAS, PARAMS
from .state.overlay import KVReader, Overlay
from .tx import DecodedTx, Message, VerifiedTxs, decode_tx
from .types import NO_PROBE, BlockHeader, Event, Probe, TxResult, ValidatorUpdate
from .weights import WeightBounds, required_fee, tx_weight

log = logging.getLogger("moderntensor.execution")

NO_BOUNDS = WeightBounds(max_uids_cap=1, max_subnets=1, max_delegations=1)
"""Placeholder bounds of a context built by hand (load_context reads the chain's)."""

FEE_COLLECTOR = module_address("fee_collector")
"""Fees accrue here; the staking module pays them out with block rewards."""


@dataclass(frozen=True)
class ChainContext:
    """What every tx needs from state and the block; loaded once per block, not per tx."""

    chain_id: str
    params: AppParams
    staking: StakingParams
    height: int
    verified: VerifiedTxs | None = None
    """This node's cache of verified signatures (not state; None: verify every time)."""
    bounds: WeightBounds = NO_BOUNDS
    """The params bounding handlers' loops, for tx weights (weights.py)."""
    max_gas: int = 0
    """CometBFT's block.max_gas (genesis): a block's total weight bound; 0 for none."""


def load_context(state: KVReader, height: int, verified: VerifiedTxs | None = None) -> ChainContext:
    """Context for executing at ``height`` (CheckTx uses the next height to be committed)."""
    raw_params = state.get(PARAMS)
    raw_chain = state.get(CHAIN_ID)
    if raw_params is None or raw_chain is None:
        raise RuntimeError("state has no chain id or params: InitChain has not run")
    staking = get_staking_params(state)
    subnet_params = get_subnet_params(state)
    raw_gas = state.get(MAX_GAS)
    return ChainContext(
        chain_id=raw_chain.decode(),
        params=AppParams.decode(raw_params),
        staking=staking,
        height=height,
        verified=verified,
        bounds=WeightBounds(
            max_uids_cap=subnet_params.max_uids_cap,
            max_subnets=subnet_params.max_subnets,
            max_delegations=staking.max_delegations,
        ),
        max_gas=0 if raw_gas is None else decode_u64(raw_gas),
    )


def init_chain(
    state: Overlay, chain_id: str, genesis: GenesisState, max_gas: int = -1
) -> list[ValidatorUpdate]:
    """Write the genesis state; return the initial validator set (empty: CometBFT's own).

    ``genesis`` was validated by :func:`parse_app_state`; ``max_gas`` is CometBFT's
    consensus_params.block.max_gas (-1: none), kept so proposals are checked against it.
    """
    if not chain_id:
        raise InvalidGenesis("chain_id must not be empty")
    state.set(CHAIN_ID, chain_id.encode())
    if max_gas > 0:
        state.set(MAX_GAS, encode_u64(max_gas))
    state.set(PARAMS, genesis.params.encode())
    for acct in genesis.accounts:
        set_account(state, acct.address, Account(balance=acct.balance, nonce=acct.nonce))
    if genesis.total_supply > U64_MAX:
        raise InvalidGenesis("total supply overflows 64 bits")
    set_supply(state, genesis.total_supply)
    updates = init_staking(
        state,
        genesis.staking_params,
        list(genesis.validators),
        list(genesis.gen_txs),
        list(genesis.delegations),
        list(genesis.unbondings),
        list(genesis.redelegations),
    )
    cons_of = {v.operator: v.cons_address for v in genesis.validators}
    cons_of.update({g.operator: consensus_address(g.pub_key) for g in genesis.gen_txs})
    init_distribution(state, genesis.distribution, cons_of)
    init_slashing(state, genesis.slashing)
    init_subnets(state, genesis.subnets)
    return updates


def check_fee(fee: int, weight: int, ctx: ChainContext) -> None:
    """The tx's fee must pay for its weight (weights.py): fee >= max(min_fee, weight x
    gas_price). Checked before the ante, so a tx paying too little changes nothing.

    Raises:
        FeeTooLow: naming the weight, the gas price and the fee required.
    """
    need = required_fee(weight, ctx.params)
    if fee < need:
        raise FeeTooLow(
            f"fee {fee} < {need} required (weight {weight} x gas_price {ctx.params.gas_price}, "
            f"min_fee {ctx.params.min_fee}); ask the node for the exact fee (abci_query /fee)"
        )


def apply_ante(state: Overlay, tx: DecodedTx) -> list[Event]:
    """Stateful envelope checks, then charge the fee and bump the nonce."""
    acct = get_account(state, tx.sender)
    if acct is None:
        raise UnknownAccount(f"{to_bech32(tx.sender)} has never received funds")
    if tx.nonce != acct.nonce:
        raise BadNonce(f"account nonce is {acct.nonce}, tx has {tx.nonce}")
    if acct.balance < tx.fee:
        raise InsufficientFee(f"balance {acct.balance} < fee {tx.fee}")
    set_account(state, tx.sender, Account(acct.balance - tx.fee, acct.nonce + 1))
    credit(state, FEE_COLLECTOR, tx.fee)
    sender = to_bech32(tx.sender)
    return [Event.of("fee", payer=sender, amount=tx.fee)]


def route(state: Overlay, sender: bytes, msg: Message, ctx: ChainContext) -> list[Event]:
    """Dispatch one message to its module's handler."""
    if isinstance(msg, MsgTransfer):
        events = apply_transfer(state, sender, msg)
    elif isinstance(msg, MsgCreateValidator):
        events = staking.apply_create_validator(state, sender, msg, ctx.staking)
    elif isinstance(msg, MsgEditValidator):
        events = staking.apply_edit_validator(state, sender, msg)
    elif isinstance(msg, MsgDelegate):
        events = staking.apply_delegate(state, sender, msg)
    elif isinstance(msg, MsgUndelegate):
        events = staking.apply_undelegate(state, sender, msg, ctx.staking, ctx.height)
    elif isinstance(msg, MsgRedelegate):
        events = staking.apply_redelegate(state, sender, msg, ctx.staking, ctx.height)
    elif isinstance(msg, MsgUnjail):
        events = apply_unjail(state, sender, msg)
    elif isinstance(msg, MsgWithdrawRewards):
        events = apply_withdraw_rewards(state, sender, msg.validator)
    elif isinstance(msg, MsgRegisterSubnet):
        events = subnets.apply_register_subnet(state, sender, msg, ctx.height)
    elif isinstance(msg, MsgSetSubnetHyperparams):
        events = subnets.apply_set_hyperparams(state, sender, msg)
    elif isinstance(msg, MsgRegisterNeuron):
        events = subnets.apply_register_neuron(state, sender, msg, ctx.height)
    elif isinstance(msg, MsgServeAxon):
        events = subnets.apply_serve_axon(state, sender, msg)
    elif isinstance(msg, MsgAddSubnetStake):
        events = subnets.apply_add_stake(state, sender, msg)
    elif isinstance(msg, MsgRemoveSubnetStake):
        events = subnets.apply_remove_stake(state, sender, msg)
    elif isinstance(msg, MsgSetWeights):
        events = subnets.apply_set_weights(state, sender, msg, ctx.height)
    elif isinstance(msg, MsgCommitWeights):
        events = subnets.apply_commit_weights(state, sender, msg, ctx.height)
    elif isinstance(msg, MsgRevealWeights):
        events = subnets.apply_reveal_weights(state, sender, msg, ctx.height)
    else:  # pragma: no cover - decode_tx only yields known message types
        raise TypeError(f"no handler for {type(msg).__name__}")
    return [Event.of("message", action=msg.type_url, sender=to_bech32(sender)), *events]


def error_result(err: ModernTensorError, events: list[Event] | None = None) -> TxResult:
    return TxResult(code=err.code, log=err.log(), codespace=CODESPACE, events=events or [])


def _execute(state: Overlay, raw: bytes, ctx: ChainContext) -> tuple[TxResult, bool]:
    """Execute one tx; the flag says whether it passed the ante (so its fee was charged)."""
    try:
        tx = decode_tx(raw, ctx.params, ctx.chain_id, ctx.verified)
    except ModernTensorError as err:
        return error_result(err), False
    weight = tx_weight(tx.size, tx.messages, ctx.bounds)
    ante = state.branch()
    try:
        check_fee(tx.fee, weight, ctx)
        ante_events = apply_ante(ante, tx)
    except ModernTensorError as err:
        refused = error_result(err)
        refused.msg_type = tx.messages[0].type_url
        refused.gas_wanted = weight
        return refused, False
    ante.merge_into(state)
    if ctx.verified is not None and tx.hash not in ctx.verified:
        ctx.verified.add(tx)  # only txs whose fee was payable are worth remembering
    msgs = state.branch()
    events: list[Event] = []
    try:
        for msg in tx.messages:
            events.extend(route(msgs, tx.sender, msg, ctx))
    except ModernTensorError as err:
        failed = error_result(err, ante_events)
        failed.msg_type = tx.messages[0].type_url
        failed.gas_wanted = failed.gas_used = weight
        return failed, True
    except MemoryError:  # not a function of the tx: other nodes may not fail (fail-stop)
        raise
    except Exception:
        # A deterministic exception (the same code on every node fails the same way): the tx
        # fails like a refused message (its writes dropped with ``msgs``, fee and nonce kept)
        # and the node logs it loudly; the app counts code 99 results in a metric.
        log.exception(
            "a message handler raised unexpectedly (tx %s, %s): the tx fails with code %d",
            tx.hash.hex().upper(),
            ", ".join(m.type_url for m in tx.messages),
            InternalError.code,
        )
        failed = error_result(InternalError("a message handler failed unexpectedly"), ante_events)
        failed.msg_type = tx.messages[0].type_url
        failed.gas_wanted = failed.gas_used = weight
        return failed, True
    msgs.merge_into(state)
    return TxResult(
        code=0,
        events=ante_events + events,
        msg_type=tx.messages[0].type_url,
        gas_wanted=weight,
        gas_used=weight,
    ), True


def execute_tx(state: Overlay, raw: bytes, ctx: ChainContext) -> TxResult:
    """Execute one tx against ``state``.

    A tx failing stateless or ante checks changes nothing. Once the ante has passed, the fee and
    nonce stay charged even if a message fails; a failing message reverts all message writes.
    """
    return _execute(state, raw, ctx)[0]


def _proto_size(tx: bytes) -> int:
    """Bytes a tx takes in a block's data: field tag, length varint and the tx itself."""
    return 1 + len(encode_uvarint(len(tx))) + len(tx)


def select_txs(state: Overlay, txs: list[bytes], ctx: ChainContext, max_bytes: int) -> list[bytes]:
    """PrepareProposal: keep, in mempool order, the txs that would pay their fee, within
    ``max_bytes``. Txs that would fail the stateless or ante checks (bad nonce after a recheck
    race, unpayable fee) are dropped; a tx whose message fails still pays and is kept.
    """
    out: list[bytes] = []
    used = gas = 0
    for raw in txs:
        if len(out) == MAX_PROPOSAL_TXS:
            break
        size = _proto_size(raw)
        if max_bytes >= 0 and used + size > max_bytes:
            break
        if ctx.max_gas:  # weigh it first (decoded once by CheckTx: a cache hit)
            try:
                tx = decode_tx(raw, ctx.params, ctx.chain_id, ctx.verified)
            except ModernTensorError:
                continue
            if gas + tx_weight(tx.size, tx.messages, ctx.bounds) > ctx.max_gas:
                break  # block.max_gas reached (CometBFT's reaping stops there too)
        result, charged = _execute(state, raw, ctx)
        if charged:
            out.append(raw)
            used += size
            gas += result.gas_used
    return out


MAX_PROPOSAL_TXS = 50_000
"""Most txs a proposal may carry. Our PrepareProposal never proposes more (the mempool of the
config templates holds at most 20,000); a byzantine proposer's 200,000 tiny txs are refused
before any is decoded."""


def verify_proposal(state: Overlay, txs: list[bytes], ctx: ChainContext) -> str | None:
    """ProcessProposal (Cosmos SDK v0.50's default rule): None when the proposal may be voted
    for, else the reason to reject it. At most MAX_PROPOSAL_TXS txs weighing at most
    block.max_gas in all; every tx must pass the stateless checks, its fee must pay its
    weight, and the ante (fee payable, nonce in sequence), each executed in order on ``state``
    (a scratch branch of the committed state) exactly as FinalizeBlock would, so whatever
    :func:`select_txs` built from any mempool is accepted (a tx whose message fails still
    pays: it is kept).
    """
    if len(txs) > MAX_PROPOSAL_TXS:
        return f"{len(txs)} txs > {MAX_PROPOSAL_TXS}"
    gas = 0
    for i, raw in enumerate(txs):
        result, charged = _execute(state, raw, ctx)
        if not charged:
            return f"tx {i} fails its checks: code {result.code}: {result.log[:200]}"
        gas += result.gas_used
        if ctx.max_gas and gas > ctx.max_gas:
            return f"the txs up to {i} weigh {gas} > block.max_gas {ctx.max_gas}"
    return None


def check_tx(state: Overlay, raw: bytes, ctx: ChainContext) -> TxResult:
    """Mempool admission: the full execution on the check-state, kept only if it all succeeds.

    Unlike FinalizeBlock, a tx whose message would fail is refused outright (an overspend never
    enters the mempool) and leaves the check-state untouched.
    """
    scratch = state.branch()
    result = execute_tx(scratch, raw, ctx)
    if result.code == 0:
        scratch.merge_into(state)
    return result


@dataclass
class BlockOutcome:
    tx_results: list[TxResult]
    events: list[Event]
    validator_updates: list[ValidatorUpdate]


def execute_block(
    state: Overlay,
    txs: list[bytes],
    ctx: ChainContext,
    header: BlockHeader,
    probe: Probe = NO_PROBE,
) -> BlockOutcome:
    """Execute a decided block. The steps, in order:

    1. distribution: mint the block reward, collect fees, pay the previous block's signers
       and proposer (from ``header.votes``);
    2. slashing: count the votes over the window (downtime), then the evidence (double sign);
    3. every tx, in block order;
    4. subnets: registration-burn adjustments, then the Yuma epochs due at this height;
    5. staking: release matured unbondings, then the validator-set diff for CometBFT.
    """
    events = allocate(state, header.height, header.proposer, header.votes, FEE_COLLECTOR)
    events += handle_votes(state, header)
    events += handle_evidence(state, header)
    results = [execute_tx(state, raw, ctx) for raw in txs]
    events += subnets_end_block(state, ctx.height, probe)
    updates, end_events = staking_end_block(state, ctx.height)
    return BlockOutcome(tx_results=results, events=events + end_events, validator_updates=updates)
