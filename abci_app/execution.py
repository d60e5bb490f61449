"""Block execution: decode -> ante -> route messages -> end-block steps.

Pure functions over an :class:`Overlay`: they read and write the overlay they are given and
nothing else (no clock, no randomness, no I/O), so two nodes fed the same blocks write the same
bytes and compute the same app hash. The ABCI layer (app.py) decides which overlay to pass:
the block's deliver-state in FinalizeBlock, the check-state in CheckTx.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .address import to_bech32
from .chain_modules import MSG_BY_TYPE, load_module_params
from .codec import decode_u64, encode_u64, encode_uvarint
from .context import ChainContext
from .errors import (
    CODESPACE,
    BadNonce,
    FeeTooLow,
    InsufficientFee,
    InternalError,
    InvalidGenesis,
    ModernTensorError,
    TxTooLarge,
    UnknownAccount,
)
from .genesis import GenesisState, check_genesis_state
from .modules.bank import genesis as bank_genesis
from .modules.bank.module_accounts import FEE_COLLECTOR
from .modules.bank.state import Account, credit, get_account, set_account
from .modules.distribution import genesis as distribution_genesis
from .modules.distribution.hooks import DistributionHooks
from .modules.distribution.params import DistributionParams
from .modules.distribution.rewards import allocate, mint_block_reward, subnet_share
from .modules.distribution.state import DISTRIBUTION_POOL
from .modules.slashing import genesis as slashing_genesis
from .modules.slashing.handlers import handle_downtime, handle_evidence, record_block_time
from .modules.spec import WeightBounds
from .modules.staking import genesis as staking_genesis
from .modules.staking.endblock import complete_unbondings, validator_set_updates
from .modules.staking.params import StakingParams
from .modules.subnets import genesis as subnets_genesis
from .modules.subnets.emission import accrue_emission
from .modules.subnets.endblock import end_block as subnets_end_block
from .modules.subnets.params import SubnetParams
from .params import AppParams
from .state.keys import CHAIN_ID, MAX_GAS, PARAMS
from .state.overlay import KVReader, Overlay
from .tx import DecodedTx, Message, VerifiedTxs, decode_tx
from .types import (
    NO_PROBE,
    BlockHeader,
    Event,
    EventSink,
    Probe,
    TxResult,
    ValidatorUpdate,
)
from .weights import required_fee, tx_weight

log = logging.getLogger("moderntensor.execution")

STAKING_HOOKS = DistributionHooks()
"""Distribution follows staking's records through the hooks staking defines."""


def load_context(
    state: KVReader, height: int, events: EventSink, verified: VerifiedTxs | None = None
) -> ChainContext:
    """Context for executing at ``height`` (CheckTx uses the next height to be committed), with
    every module's params read once; ``events`` receives the tx path's events."""
    raw_params = state.get(PARAMS)
    raw_chain = state.get(CHAIN_ID)
    if raw_params is None or raw_chain is None:
        raise RuntimeError("state has no chain id or params: InitChain has not run")
    module_params = load_module_params(state)
    subnets = module_params[SubnetParams]
    staking = module_params[StakingParams]
    assert isinstance(subnets, SubnetParams) and isinstance(staking, StakingParams)
    raw_gas = state.get(MAX_GAS)
    return ChainContext(
        chain_id=raw_chain.decode(),
        height=height,
        params=AppParams.decode(raw_params),
        module_params=module_params,
        hooks=STAKING_HOOKS,
        events=events,
        verified=verified,
        bounds=WeightBounds(
            max_uids_cap=subnets.max_uids_cap,
            max_subnets=subnets.max_subnets,
            max_delegations=staking.max_delegations,
        ),
        max_gas=0 if raw_gas is None else decode_u64(raw_gas),
    )


def init_chain(
    state: Overlay,
    chain_id: str,
    genesis: GenesisState,
    initial_height: int = 1,
    max_gas: int = -1,
) -> list[ValidatorUpdate]:
    """Write the genesis state, module by module (bank first: staking bonds gen_txs from the
    accounts, distribution finds validators in staking's records), check what was written
    (:func:`check_genesis_state`: every invariant, entries completing from ``initial_height``
    on) and return the initial validator set. ``genesis`` was validated by
    :func:`parse_app_state`; ``max_gas`` is CometBFT's consensus_params.block.max_gas (-1:
    none), kept so that proposals are checked against it.

    Raises:
        InvalidGenesis: an empty chain id, a total supply past 2^64 - 1, a broken invariant or
            an entry completing before the first block.
    """
    if not chain_id:
        raise InvalidGenesis("chain_id must not be empty")
    state.set(CHAIN_ID, chain_id.encode())
    if max_gas > 0:
        state.set(MAX_GAS, encode_u64(max_gas))
    state.set(PARAMS, genesis.params.encode())
    bank_genesis.init_genesis(state, genesis.bank)
    updates = staking_genesis.init_genesis(state, genesis.staking)
    distribution_genesis.init_genesis(state, genesis.distribution)
    slashing_genesis.init_genesis(state, genesis.slashing)
    subnets_genesis.init_genesis(state, genesis.subnets)
    check_genesis_state(genesis, state, initial_height)
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


def apply_ante(state: Overlay, tx: DecodedTx, events: EventSink) -> None:
    """Stateful envelope checks, then charge the fee and bump the nonce (Cosmos SDK's ante:
    the fee and the nonce stay charged even when a message fails).

    Writes: the sender's account (balance - fee, nonce + 1), the fee collector.
    Events: ``fee(payer, amount)``.

    Raises:
        UnknownAccount: the sender has never received funds.
        BadNonce: the tx's nonce is not the account's nonce.
        InsufficientFee: the balance does not cover the fee.
    """
    acct = get_account(state, tx.sender)
    if acct is None:
        raise UnknownAccount(f"{to_bech32(tx.sender)} has never received funds")
    if tx.nonce != acct.nonce:
        raise BadNonce(f"account nonce is {acct.nonce}, tx has {tx.nonce}")
    if acct.balance < tx.fee:
        raise InsufficientFee(f"balance {acct.balance} < fee {tx.fee}")
    set_account(state, tx.sender, Account(acct.balance - tx.fee, acct.nonce + 1))
    credit(state, FEE_COLLECTOR, tx.fee)
    events.emit("fee", payer=to_bech32(tx.sender), amount=tx.fee)


def route(state: Overlay, sender: bytes, msg: Message, ctx: ChainContext) -> None:
    """Run one message through its module's handler (from the message table), after a
    ``message(action, sender)`` event."""
    spec = MSG_BY_TYPE[type(msg)]
    ctx.events.emit("message", action=spec.name, sender=to_bech32(sender))
    spec.handler(state, sender, msg, ctx)


def error_result(err: ModernTensorError, events: list[Event] | None = None) -> TxResult:
    """The tx result of a refused tx: its code, log and codespace (and the ante's events)."""
    return TxResult(code=err.code, log=err.log(), codespace=CODESPACE, events=events or [])


def _execute(
    state: Overlay, raw: bytes, ctx: ChainContext, run_messages: bool = True
) -> tuple[TxResult, bool]:
    """Execute one tx; the flag says whether it passed the ante (so its fee was charged).
    Without ``run_messages`` only the stateless checks, the fee and the ante run (CheckTx past
    its refused-work budget)."""
    try:
        tx = decode_tx(raw, ctx.params, ctx.chain_id, ctx.verified)
    except ModernTensorError as err:
        return error_result(err), False
    msg_type = MSG_BY_TYPE[type(tx.messages[0])].name
    weight = tx_weight(tx.size, tx.messages, ctx.bounds)
    events = ctx.events
    start = events.mark()
    ante = state.branch()
    try:
        check_fee(tx.fee, weight, ctx)
        apply_ante(ante, tx, events)
    except ModernTensorError as err:
        events.truncate(start)
        refused = error_result(err)
        refused.msg_type = msg_type
        refused.gas_wanted = weight
        return refused, False
    ante.merge_into(state)
    if ctx.verified is not None and tx.hash not in ctx.verified:
        ctx.verified.add(tx)  # only txs whose fee was payable are worth remembering
    paid = events.mark()
    if not run_messages:
        done = TxResult(code=0, events=events.take(start), msg_type=msg_type)
        done.gas_wanted = done.gas_used = weight
        return done, True
    msgs = state.branch()
    try:
        for msg in tx.messages:
            route(msgs, tx.sender, msg, ctx)
    except ModernTensorError as err:
        events.truncate(paid)  # a failed message reverts every message's writes and events
        failed = error_result(err, events.take(start))
    except MemoryError:  # not a function of the tx: other nodes may not fail (fail-stop)
        raise
    except Exception:
        # A deterministic exception (the same code on every node fails the same way): the tx
        # fails like a refused message (its writes dropped with ``msgs``, fee and nonce kept)
        # and the node logs it loudly; the app counts code 99 results in a metric.
        log.exception(
            "a message handler raised unexpectedly (tx %s, %s): the tx fails with code %d",
            tx.hash.hex().upper(),
            ", ".join(MSG_BY_TYPE[type(m)].name for m in tx.messages),
            InternalError.code,
        )
        events.truncate(paid)
        failed = error_result(
            InternalError("a message handler failed unexpectedly"), events.take(start)
        )
    else:
        msgs.merge_into(state)
        done = TxResult(code=0, events=events.take(start), msg_type=msg_type)
        done.gas_wanted = done.gas_used = weight
        return done, True
    failed.msg_type = msg_type
    failed.gas_wanted = failed.gas_used = weight
    return failed, True


def execute_tx(state: Overlay, raw: bytes, ctx: ChainContext) -> TxResult:
    """Execute one tx against ``state``.

    A tx failing stateless or ante checks changes nothing. Once the ante has passed, the fee and
    nonce stay charged even if a message fails; a failing message reverts all message writes.
    """
    return _execute(state, raw, ctx)[0]


def _proto_size(tx: bytes) -> int:
    """Bytes a tx takes in a block's data: field tag, length varint and the tx itself."""
    return 1 + len(encode_uvarint(len(tx))) + len(tx)


MAX_PROPOSAL_TXS = 50_000
"""Most txs a proposal may carry. Our PrepareProposal never proposes more (the mempool of the
config templates holds at most 20,000); a byzantine proposer's 200,000 tiny txs are refused
before any is decoded."""


def select_txs(state: Overlay, txs: list[bytes], ctx: ChainContext, max_bytes: int) -> list[bytes]:
    """PrepareProposal: keep, in mempool order, the txs that would pay their fee, within
    ``max_bytes``, MAX_PROPOSAL_TXS txs and block.max_gas of weight. Txs that would fail the
    stateless or ante checks (bad nonce after a recheck race, unpayable fee) are dropped; a tx
    whose message fails still pays and is kept.
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


def verify_proposal(state: Overlay, txs: list[bytes], ctx: ChainContext) -> str | None:
    """ProcessProposal (Cosmos SDK v0.50's default rule): None when the proposal may be voted
    for, else the reason to reject it. At most MAX_PROPOSAL_TXS txs weighing at most
    block.max_gas in all; every tx must pass the stateless checks, its fee must pay its
    weight, and the ante (fee payable, nonce in sequence), each executed in order on ``state``
    (a scratch branch of the committed state) exactly as FinalizeBlock would, so whatever
    :func:`select_txs` built from any mempool is accepted (a tx whose message fails still
    pays: it is kept). The txs of a rejected proposal are charged nothing: the ones it added
    to the verified-tx cache are forgotten again.
    """
    if len(txs) > MAX_PROPOSAL_TXS:
        return f"{len(txs)} txs > {MAX_PROPOSAL_TXS}"
    reason: str | None = None
    if ctx.verified is not None:
        ctx.verified.begin()
    try:
        reason = _verify_txs(state, txs, ctx)
    finally:
        if ctx.verified is not None:
            ctx.verified.end(keep=reason is None)
    return reason


def _verify_txs(state: Overlay, txs: list[bytes], ctx: ChainContext) -> str | None:
    gas = 0
    for i, raw in enumerate(txs):
        result, charged = _execute(state, raw, ctx)
        if not charged:
            return f"tx {i} fails its checks: code {result.code}: {result.log[:200]}"
        gas += result.gas_used
        if ctx.max_gas and gas > ctx.max_gas:
            return f"the txs up to {i} weigh {gas} > block.max_gas {ctx.max_gas}"
    return None


def check_tx(
    state: Overlay, raw: bytes, ctx: ChainContext, run_messages: bool = True
) -> tuple[TxResult, bool]:
    """Mempool admission: the full execution on the check-state, kept only if it all succeeds;
    with the flag True when the tx was refused after its messages ran (work the sender did not
    pay for: the caller bounds it per block, issue 13).

    Unlike FinalizeBlock, a tx whose message would fail is refused outright (an overspend never
    enters the mempool) and leaves the check-state untouched; so is a tx weighing more than a
    whole block (block.max_gas: no proposal could ever carry it). A refused tx is charged
    nothing, so it leaves nothing in the verified-tx cache either (it would fill the cache for
    free: issue 13). Without ``run_messages`` only the ante is checked (the Cosmos SDK's
    CheckTx): a tx whose message fails is then admitted, and pays its fee in the block.
    """
    admitted = False
    if ctx.verified is not None:
        ctx.verified.begin()
    try:
        scratch = state.branch()
        result, charged = _execute(scratch, raw, ctx, run_messages)
        if result.code == 0 and ctx.max_gas and result.gas_wanted > ctx.max_gas:
            err = TxTooLarge(f"weight {result.gas_wanted} > block.max_gas {ctx.max_gas}")
            return error_result(err), False
        if result.code == 0:
            scratch.merge_into(state)
            admitted = True
        return result, charged and not admitted
    finally:
        if ctx.verified is not None:
            ctx.verified.end(keep=admitted)


@dataclass
class BlockOutcome:
    """What executing a block produced, for FinalizeBlock's answer."""

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
    """Execute a decided block: these steps, in this order (each names the module that owns
    its rule):

    begin block
      1. slashing.record_block_time: the header's time, which ``unjail`` compares with;
      2. distribution.mint_block_reward: the emission schedule (halvings, ``max_supply``);
         bank mints it into the distribution pool;
      3. subnets.accrue_emission: the subnets' share of it (all but
         ``consensus_reward_share``), pro rata to their stake, waits for their epochs;
      4. distribution.allocate: collect the fees (burning ``fee_burn_rate``), pay the rest of
         the reward to the previous block's proposer and signers (commission, reward per share);
      5. slashing.handle_downtime: count the votes over the window, punish the validators down;
      6. slashing.handle_evidence: punish double signing (slash, jail, tombstone);
    txs
      7. every tx in block order (decode, ante, messages through the message table);
    end block
      8. subnets.end_block: per subnet, the registration burn adjustment and a due Yuma epoch;
      9. staking.complete_unbondings: release matured unbondings (and redelegation entries);
     10. staking.validator_set_updates: the set's changes for CometBFT (applied at H+2).
    """
    distribution = ctx.params_of(DistributionParams)
    record_block_time(state, header)
    minted = mint_block_reward(state, distribution, header.height)
    to_subnets = accrue_emission(state, subnet_share(distribution, minted), DISTRIBUTION_POOL)
    events = allocate(
        state, distribution, header.height, header.proposer, header.votes, minted, to_subnets
    )
    events += handle_downtime(state, header, ctx)
    events += handle_evidence(state, header, ctx)
    results = [execute_tx(state, raw, ctx) for raw in txs]
    events += subnets_end_block(state, ctx.height, probe)
    events += complete_unbondings(state, ctx.height)
    updates, set_events = validator_set_updates(state)
    return BlockOutcome(tx_results=results, events=events + set_events, validator_updates=updates)
