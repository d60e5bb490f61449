"""Key layout of the consensus store. Every key starts with its module's prefix."""

from __future__ import annotations

ACCOUNT = b"acct/"  # acct/<20-byte address> -> Account (balance u64 || nonce u64)
SUPPLY = b"bank/supply"  # total supply, u64
GENESIS_SUPPLY = b"bank/genesis"  # u64: supply before any mint or burn (see bank.state)
BURNED = b"bank/burned/"  # bank/burned/<reason> -> u64 base units burned for that reason
PARAMS = b"params/app"  # canonical JSON of AppParams
CHAIN_ID = b"app/chain_id"  # UTF-8 chain id, fixed by InitChain
APP_VERSION_KEY = b"app/version"  # u64 app version that wrote the state (absent: version 1)
MAX_GAS = b"app/max_gas"  # u64: CometBFT's consensus_params.block.max_gas from InitChain


def prefix_end(prefix: bytes) -> bytes | None:
    """Smallest key greater than every key starting with ``prefix``; None when there is none
    (an empty prefix, or one of only 0xFF bytes). Bounds every prefix scan."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return None
    p[-1] += 1
    return bytes(p)


def account_key(address: bytes) -> bytes:
    return ACCOUNT + address


STAKING_PARAMS = b"staking/params"  # canonical JSON of StakingParams
VALIDATOR = b"staking/val/"  # staking/val/<20-byte consensus address> -> Validator (canonical JSON)
OPERATOR = b"staking/op/"  # staking/op/<20-byte operator address> -> consensus address


def validator_key(cons_address: bytes) -> bytes:
    return VALIDATOR + cons_address


def operator_key(operator: bytes) -> bytes:
    return OPERATOR + operator


VALIDATOR_RANK = b"staking/rank/"
"""staking/rank/<class u8><U128_MAX - tokens, u128 big-endian><consensus address> -> b"": every
validator record has exactly one entry (written by staking.state.set_validator, its one
writer). In key order: class 0 (the power index: not jailed, tokens > 0, the only validators
that can be in the set; Cosmos ``ValidatorsPowerStoreIterator``) by tokens descending then
consensus address, then class 1 (jailed) and class 2 (no tokens) in the same order."""
RANK_BONDABLE, RANK_JAILED, RANK_EMPTY = 0, 1, 2
POWER_INDEX = VALIDATOR_RANK + bytes([RANK_BONDABLE])
_U128_MAX = 2**128 - 1


def validator_rank_key(rank_class: int, tokens: int, cons_address: bytes) -> bytes:
    """A validator's entry in VALIDATOR_RANK (``tokens`` in base units, 0 <= tokens < 2^128)."""
    if not 0 <= tokens <= _U128_MAX:
        raise ValueError(f"validator tokens out of range: {tokens}")
    return (
        VALIDATOR_RANK
        + bytes([rank_class])
        + (_U128_MAX - tokens).to_bytes(16, "big")
        + cons_address
    )


def rank_key_tokens(key: bytes) -> int:
    """The tokens a VALIDATOR_RANK key orders by."""
    n = len(VALIDATOR_RANK) + 1
    return _U128_MAX - int.from_bytes(key[n : n + 16], "big")


def rank_key_cons_address(key: bytes) -> bytes:
    """The consensus address a VALIDATOR_RANK key names."""
    return key[len(VALIDATOR_RANK) + 17 :]


COUNT = b"staking/n/"
"""Counts of staking's list records, kept by their writers so a paginated list query reports
its ``total`` without reading the list: staking/n/val -> u64 validator records;
staking/n/del/<delegator> and staking/n/ubd/<delegator> -> u64 delegations and unbonding
entries of that delegator (absent: 0)."""
VALIDATOR_COUNT = COUNT + b"val"


def delegation_count_key(delegator: bytes) -> bytes:
    return COUNT + b"del/" + delegator


def unbonding_count_key(delegator: bytes) -> bytes:
    return COUNT + b"ubd/" + delegator


LAST_POWER = b"staking/power/"  # staking/power/<consensus address> -> u64 power CometBFT has now


def last_power_key(cons_address: bytes) -> bytes:
    return LAST_POWER + cons_address


DELEGATION = b"staking/del/"  # staking/del/<delegator 20><consensus address 20> -> shares u128
UNBONDING = b"staking/ubd/"  # staking/ubd/<completion height u64><delegator 20><cons 20> -> u64
REDELEGATION = b"staking/red/"  # staking/red/<completion u64><delegator><src><dst> -> Redelegation
UNBONDING_BY_DELEGATOR = b"staking/ubdd/"  # staking/ubdd/<delegator><height u64><cons> -> u64
UNBONDING_BY_VALIDATOR = b"staking/ubdv/"  # staking/ubdv/<cons><height u64><delegator> -> u64
REDELEGATION_BY_SRC = b"staking/reds/"  # staking/reds/<src><completion><delegator><dst> -> b""
REDELEGATION_TO = b"staking/redt/"  # staking/redt/<delegator><dst><completion><src> -> b""
UNBONDING_BY_PAIR = b"staking/ubdp/"  # staking/ubdp/<delegator><cons><height u64> -> u64
REDELEGATION_BY_PAIR = b"staking/redp/"  # staking/redp/<delegator><src><dst><completion> -> b""


def delegation_key(delegator: bytes, cons_address: bytes) -> bytes:
    return DELEGATION + delegator + cons_address


def unbonding_key(height: int, delegator: bytes, cons_address: bytes) -> bytes:
    return UNBONDING + height.to_bytes(8, "big") + delegator + cons_address


def unbonding_by_delegator_key(delegator: bytes, height: int, cons_address: bytes) -> bytes:
    return UNBONDING_BY_DELEGATOR + delegator + height.to_bytes(8, "big") + cons_address


def unbonding_by_validator_key(cons_address: bytes, height: int, delegator: bytes) -> bytes:
    return UNBONDING_BY_VALIDATOR + cons_address + height.to_bytes(8, "big") + delegator


def unbonding_by_pair_key(delegator: bytes, cons_address: bytes, height: int) -> bytes:
    return UNBONDING_BY_PAIR + delegator + cons_address + height.to_bytes(8, "big")


DIST_PARAMS = b"dist/params"  # canonical JSON of DistributionParams
MINTED = b"dist/minted"  # u64: tokens minted by block rewards so far
PREV_PROPOSER = b"dist/proposer"  # consensus address of the previous block's proposer
REWARD_ACC = b"dist/acc/"  # dist/acc/<cons> -> u256 rewards per share, scaled by ACC_PRECISION
COMMISSION = b"dist/comm/"  # dist/comm/<cons> -> u64 commission not yet withdrawn
REWARD_START = b"dist/start/"  # dist/start/<delegator><cons> -> u256 accumulator at last settle
OUTSTANDING = b"dist/out/"  # dist/out/<cons> -> u64 delegators' rewards credited, not yet paid

SLASH_PARAMS = b"slash/params"  # canonical JSON of SlashingParams
SIGNING_INFO = b"slash/info/"  # slash/info/<cons> -> canonical JSON of SigningInfo
MISSED = b"slash/miss/"  # slash/miss/<cons><window index u64> -> b"" when that block was missed
BLOCK_TIME = b"app/block_time"  # u64 unix seconds of the last finalized block

SUBNET_PARAMS = b"subnet/params"  # canonical JSON of SubnetParams
SUBNET_LOCK = b"subnet/lock"  # canonical JSON {last_lock, last_height}: lock cost memory
SUBNET = b"subnet/net/"  # subnet/net/<netuid u16> -> canonical JSON of Subnet
HYPERPARAMS = b"subnet/hp/"  # subnet/hp/<netuid u16> -> canonical JSON of Hyperparams
NEXT_HYPERPARAMS = b"subnet/hpn/"  # subnet/hpn/<netuid u16> -> Hyperparams from the next block
NEURON = b"subnet/neu/"  # subnet/neu/<netuid u16><uid u16> -> canonical JSON of Neuron
HOTKEY_UID = b"subnet/uid/"  # subnet/uid/<netuid u16><hotkey 20> -> uid u16
WEIGHTS = b"subnet/w/"  # subnet/w/<netuid u16><uid u16> -> packed (uid u16, weight u16) pairs
BONDS = b"subnet/b/"  # subnet/b/<netuid u16><uid u16> -> packed (uid u16, bond u16) pairs
COMMIT = b"subnet/c/"  # subnet/c/<netuid u16><uid u16> -> WeightsCommit (hash 32, 3 heights u64)
HOTKEY_STAKE = b"subnet/hks/"  # subnet/hks/<netuid u16><hotkey 20> -> u64 stake on the hotkey
STAKE_BY = b"subnet/stk/"  # subnet/stk/<coldkey 20><netuid u16><hotkey 20> -> u64 its part
STAKE_COUNT = b"subnet/nstk/"  # subnet/nstk/<coldkey 20> -> u64 its positions (STAKE_BY entries)
STAKE_FLOOR = b"subnet/hkf/"  # subnet/hkf/<netuid u16><hotkey 20> -> u64 lowest stake since epoch
EPOCH_DUE = b"subnet/due/"  # subnet/due/<netuid u16> -> u64 height a deferred epoch is due since


def netuid_bytes(netuid: int) -> bytes:
    return netuid.to_bytes(2, "big")


def uid_key(prefix: bytes, netuid: int, uid: int) -> bytes:
    """Keys of per-uid records (neuron, weights, bonds, commit)."""
    return prefix + netuid_bytes(netuid) + uid.to_bytes(2, "big")
