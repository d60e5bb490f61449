"""Block execution: decode -> ante -> route messages -> end-block steps.

Pure functions over an :class:`Overlay`: they read and write the overlay they are given and
nothing else (no clock, no randomness, no I/O), so two nodes fed the same blocks write the same
bytes and compute the same app hash. The ABCI layer (app.py) decides which overlay to pass:
the block's deliver-state in FinalizeBlock, the check-state in CheckTx.
"""

from __future__ import annotations

from dataclasses import dataclass

from .address import to_bech32
from .chain_modules import MSG_BY_TYPE, load_module_params
from .codec import encode_uvarint
from .context import ChainContext
from .errors import (
    CODESPACE,
    BadNonce,
    InsufficientFee,
    InvalidGenesis,
    ModernTensorError,
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
from .modules.staking import genesis as staking_genesis
from .modules.staking.endblock import complete_unbondings, validator_set_updates
from .modules.subnets import genesis as subnets_genesis
from .modules.subnets.emission import accrue_emission
from .modules.subnets.endblock import end_block as subnets_end_block
from .params import AppParams
from .state.keys import CHAIN_ID, PARAMS
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
    return ChainContext(
        chain_id=raw_chain.decode(),
        height=height,
        params=AppParams.decode(raw_params),
        module_params=load_module_params(state),
        hooks=STAKING_HOOKS,
        events=events,
        verified=verified,
    )


def init_chain(
    state: Overlay, chain_id: str, genesis: GenesisState, initial_height: int = 1
) -> list[ValidatorUpdate]:
    """Write the genesis state, module by module (bank first: staking bonds gen_txs from the
    accounts, distribution finds validators in staking's records), check what was written
    (:func:`check_genesis_state`: every invariant, entries completing from ``initial_height``
    on) and return the initial validator set. ``genesis`` was validated by
    :func:`parse_app_state`.

    Raises:
        InvalidGenesis: an empty chain id, a total supply past 2^64 - 1, a broken invariant or
            an entry completing before the first block.
    """
    if not chain_id:
        raise InvalidGenesis("chain_id must not be empty")
    state.set(CHAIN_ID, chain_id.encode())
    state.set(PARAMS, genesis.params.encode())
    bank_genesis.init_genesis(state, genesis.bank)
    updates = staking_genesis.init_genesis(state, genesis.staking)
    distribution_genesis.init_genesis(state, genesis.distribution)
    slashing_genesis.init_genesis(state, genesis.slashing)
    subnets_genesis.init_genesis(state, genesis.subnets)
    check_genesis_state(genesis, state, initial_height)
    return updates


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


def _execute(state: Overlay, raw: bytes, ctx: ChainContext) -> tuple[TxResult, bool]:
    """Execute one tx; the flag says whether it passed the ante (so its fee was charged)."""
    try:
        tx = decode_tx(raw, ctx.params, ctx.chain_id, ctx.verified)
    except ModernTensorError as err:
        return error_result(err), False
    msg_type = MSG_BY_TYPE[type(tx.messages[0])].name
    events = ctx.events
    start = events.mark()
    ante = state.branch()
    try:
        apply_ante(ante, tx, events)
    except ModernTensorError as err:
        events.truncate(start)
        refused = error_result(err)
        refused.msg_type = msg_type
        return refused, False
    ante.merge_into(state)
    paid = events.mark()
    msgs = state.branch()
    try:
        for msg in tx.messages:
            route(msgs, tx.sender, msg, ctx)
    except ModernTensorError as err:
        events.truncate(paid)  # a failed message reverts every message's writes and events
        failed = error_result(err, events.take(start))
        failed.msg_type = msg_type
        return failed, True
    msgs.merge_into(state)
    return TxResult(code=0, events=events.take(start), msg_type=msg_type), True


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
    used = 0
    for raw in txs:
        size = _proto_size(raw)
        if max_bytes >= 0 and used + size > max_bytes:
            break
        if _execute(state, raw, ctx)[1]:
            out.append(raw)
            used += size
    return out


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
