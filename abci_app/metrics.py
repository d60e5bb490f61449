"""Prometheus metrics of the app process, namespace ``moderntensor``, on their own port
(default 26661, next to CometBFT's 26660).

Observation only: nothing here feeds back into consensus. Durations are wall-clock times taken
around ABCI calls by the app layer; consensus code only calls ``types.Probe`` hooks, which
cannot change what it computes. Gauges of chain state are read from committed state after
Commit; the state size (a full scan of the store) is refreshed at most every
``STATE_SIZE_EVERY`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from .errors import InternalError
from .execution import BlockOutcome
from .modules.bank.state import Account, get_account
from .modules.staking.state import BONDED_POOL, last_powers
from .modules.subnets.state import all_subnets, neurons
from .state.db import StateDB
from .state.keys import RANK_JAILED, VALIDATOR_RANK
from .types import Probe

NAMESPACE = "moderntensor"
STATE_SIZE_EVERY = 30.0
CHECKPOINT_EVERY = 10
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class AppMetrics:
    """Every app metric, registered in one registry (tests read it directly)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r, ns = self.registry, NAMESPACE
        self.abci_seconds = Histogram(
            "abci_request_seconds",
            "Time to answer an ABCI request, by method.",
            ["method"],
            namespace=ns,
            registry=r,
            buckets=_FAST,
        )
        self.txs = Counter(
            "txs_total",
            "Txs executed in finalized blocks, by first message type and result code.",
            ["type", "code"],
            namespace=ns,
            registry=r,
        )
        self.check_txs = Counter(
            "check_txs_total", "CheckTx answers by result code.", ["code"], namespace=ns, registry=r
        )
        self.internal_errors = Counter(
            "internal_errors_total",
            "Unexpected exceptions (bugs) answered with code 99 instead of stopping the node, "
            "by where: query, check_tx, msg_handler (a tx of a finalized block).",
            ["method"],
            namespace=ns,
            registry=r,
        )
        self.rejected_proposals = Counter(
            "rejected_proposals_total",
            "Proposals ProcessProposal rejected (a tx failing its checks or the ante, too many).",
            namespace=ns,
            registry=r,
        )
        self.height = Gauge(
            "block_height", "Height of the last committed block.", namespace=ns, registry=r
        )
        self.block_txs = Histogram(
            "block_txs",
            "Txs per finalized block.",
            namespace=ns,
            registry=r,
            buckets=(0, 1, 5, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000),
        )
        self.finalize_seconds = Histogram(
            "finalize_block_seconds",
            "FinalizeBlock: executing the block and staging its writes.",
            namespace=ns,
            registry=r,
            buckets=_FAST,
        )
        self.app_hash_seconds = Histogram(
            "app_hash_seconds",
            "Computing the app hash of a finalized block (part of FinalizeBlock).",
            namespace=ns,
            registry=r,
            buckets=_FAST,
        )
        self.commit_seconds = Histogram(
            "commit_seconds",
            "Commit: writing the block's state to SQLite.",
            namespace=ns,
            registry=r,
            buckets=_FAST,
        )
        self.state_keys = Gauge("state_keys", "Keys in the state store.", namespace=ns, registry=r)
        self.state_bytes = Gauge(
            "state_bytes", "Bytes of keys and values in the state store.", namespace=ns, registry=r
        )
        self.validators = Gauge(
            "validators", "Validators in CometBFT's active set.", namespace=ns, registry=r
        )
        self.bonded = Gauge(
            "bonded_tokens", "Tokens bonded to validators, base units.", namespace=ns, registry=r
        )
        self.jailed = Gauge("jailed_validators", "Jailed validators.", namespace=ns, registry=r)
        self.subnet_neurons = Gauge(
            "subnet_neurons", "Registered neurons per subnet.", ["netuid"], namespace=ns, registry=r
        )
        self.subnet_epoch_seconds = Gauge(
            "subnet_epoch_seconds",
            "Duration of the subnet's last Yuma epoch.",
            ["netuid"],
            namespace=ns,
            registry=r,
        )
        self.subnet_epoch_emission = Gauge(
            "subnet_epoch_emission",
            "Emission paid by the subnet's last epoch, base units.",
            ["netuid"],
            namespace=ns,
            registry=r,
        )
        self.rewards = Counter(
            "block_rewards_total",
            "Block rewards and fees paid to consensus validators, base units.",
            namespace=ns,
            registry=r,
        )
        self.subnet_accrued = Counter(
            "subnet_emission_accrued_total",
            "Minted tokens routed to subnets, base units.",
            namespace=ns,
            registry=r,
        )
        self.neuron_incentive = Gauge(
            "neuron_incentive",
            "A neuron's incentive in its subnet's last epoch (1.0 = all of it).",
            ["netuid", "uid"],
            namespace=ns,
            registry=r,
        )
        self.neuron_dividends = Gauge(
            "neuron_dividends",
            "A neuron's dividends in its subnet's last epoch (1.0 = all of it).",
            ["netuid", "uid"],
            namespace=ns,
            registry=r,
        )
        self.app_hash_checkpoint = Gauge(
            "app_hash_checkpoint",
            "First 6 bytes of the app hash at the last height divisible by "
            f"{CHECKPOINT_EVERY}, as a number: nodes disagreeing at one height have diverged.",
            ["height"],
            namespace=ns,
            registry=r,
        )
        self._checkpoint: str | None = None
        self.epochs_pending: set[int] = set()
        self._state_size_at = -STATE_SIZE_EVERY

    def state_size_due(self) -> bool:
        now = time.monotonic()
        if now - self._state_size_at < STATE_SIZE_EVERY:
            return False
        self._state_size_at = now
        return True

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve /metrics from a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)


class MetricsProbe(Probe):
    """Records subnet epoch durations into :class:`AppMetrics`."""

    def __init__(self, metrics: AppMetrics) -> None:
        self.metrics = metrics

    @contextmanager
    def timed(self, name: str, label: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            if name == "subnet_epoch":
                elapsed = time.perf_counter() - start
                self.metrics.subnet_epoch_seconds.labels(label).set(elapsed)


def record_block(
    m: AppMetrics, outcome: BlockOutcome, finalize_s: float, app_hash_s: float
) -> None:
    """After FinalizeBlock: durations, txs by type and code, subnet epoch emissions."""
    m.finalize_seconds.observe(finalize_s)
    m.app_hash_seconds.observe(app_hash_s)
    m.block_txs.observe(len(outcome.tx_results))
    for r in outcome.tx_results:
        m.txs.labels(r.msg_type or "undecodable", str(r.code)).inc()
        if r.code == InternalError.code:
            m.internal_errors.labels("msg_handler").inc()
    for ev in outcome.events:
        attrs = {a.key: a.value for a in ev.attributes}
        if ev.type == "subnet_epoch":
            m.subnet_epoch_emission.labels(attrs["netuid"]).set(int(attrs["emission"]))
            m.epochs_pending.add(int(attrs["netuid"]))
        elif ev.type == "rewards":
            m.rewards.inc(int(attrs["paid"]))
            m.subnet_accrued.inc(int(attrs.get("subnets", 0)))


def record_chain_state(m: AppMetrics, db: StateDB) -> None:
    """After Commit: gauges read from committed state."""
    m.height.set(db.height)
    powers = last_powers(db)
    m.validators.set(len(powers))
    # bounded reads only (every Commit): the bonded pool's balance is the sum of validator
    # tokens (a staking invariant); the jailed count is one SQL COUNT, with the state size
    m.bonded.set((get_account(db, BONDED_POOL) or Account()).balance)
    for subnet in all_subnets(db):
        m.subnet_neurons.labels(str(subnet.netuid)).set(subnet.n)
    for netuid in sorted(m.epochs_pending):
        for n in neurons(db, netuid):
            m.neuron_incentive.labels(str(netuid), str(n.uid)).set(n.incentive / 65535)
            m.neuron_dividends.labels(str(netuid), str(n.uid)).set(n.dividends / 65535)
    m.epochs_pending.clear()
    if db.height % CHECKPOINT_EVERY == 0:
        if m._checkpoint is not None:
            m.app_hash_checkpoint.remove(m._checkpoint)
        m._checkpoint = str(db.height)
        m.app_hash_checkpoint.labels(m._checkpoint).set(int.from_bytes(db.app_hash[:6], "big"))
    if m.state_size_due():
        keys, size = db.stats()
        m.jailed.set(db.store.count_prefix(VALIDATOR_RANK + bytes([RANK_JAILED])))
        m.state_keys.set(keys)
        m.state_bytes.set(size)
