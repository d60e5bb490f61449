"""Prometheus metrics of a validator neuron (namespace ``moderntensor_validator``), served on
its own port (``neuron validator --metrics-port``; Prometheus job ``neuron``).

The alert ``ValidatorNotSettingWeights`` (``abci_app/node/monitoring.py``) compares
``blocks_since_weights`` with ``weights_interval_blocks``, the longest gap the validator
expects between two weight updates given the subnet's tempo and rate limit.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

NAMESPACE = "moderntensor_validator"
SCORE_BUCKETS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


class ValidatorMetrics:
    """Every validator metric in one registry (tests read it directly)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry or CollectorRegistry()
        ns = NAMESPACE
        self.blocks_since_weights = Gauge(
            "blocks_since_weights",
            "Blocks since this validator's weights last landed (the chain's last_update: a "
            "reveal or set_weights, or the registration).",
            ["netuid"],
            namespace=ns,
            registry=r,
        )
        self.weights_interval = Gauge(
            "weights_interval_blocks",
            "Longest expected gap between two weight updates: max(rate limit, tempo + 1) "
            "plus two windows when commit-reveal is on.",
            ["netuid"],
            namespace=ns,
            registry=r,
        )
        self.miners_queried = Gauge(
            "miners_queried",
            "Axons queried in the last round.",
            ["netuid"],
            namespace=ns,
            registry=r,
        )
        self.miners_reachable = Gauge(
            "miners_reachable",
            "Axons that gave a valid signed answer in the last round.",
            ["netuid"],
            namespace=ns,
            registry=r,
        )
        self.round_scores = Histogram(
            "round_score",
            "Distribution of per-miner round scores (quality with the latency penalty).",
            ["netuid"],
            namespace=ns,
            registry=r,
            buckets=SCORE_BUCKETS,
        )
        self.miner_score = Gauge(
            "miner_score",
            "Moving average score per uid (what weights are made from).",
            ["netuid", "uid"],
            namespace=ns,
            registry=r,
        )
        self.permit = Gauge(
            "permit",
            "1 when the metagraph shows this validator's permit on the subnet (weights need it).",
            ["netuid"],
            namespace=ns,
            registry=r,
        )
        self.commits_pending = Gauge(
            "commits_pending",
            "Weight commits in a block and not revealed yet.",
            ["netuid"],
            namespace=ns,
            registry=r,
        )
        self.weights_txs = Counter(
            "weights_txs_total",
            "Weight txs by kind (commit, reveal, set) and outcome (ok or the error's name).",
            ["netuid", "kind", "outcome"],
            namespace=ns,
            registry=r,
        )
        self.rounds = Counter(
            "rounds_total",
            "Rounds by outcome (ok, or failed when the node was unreachable).",
            ["netuid", "outcome"],
            namespace=ns,
            registry=r,
        )
        self.answer_seconds = Histogram(
            "answer_seconds",
            "Latency of valid miner answers.",
            ["netuid"],
            namespace=ns,
            registry=r,
        )
        self._uids: set[str] = set()

    def set_scores(self, netuid: int, scores: dict[int, float]) -> None:
        """Publish the moving averages; labels of uids no longer scored are removed (the
        label set stays bounded by the subnet's size)."""
        n = str(netuid)
        now = {str(u) for u in scores}
        for gone in sorted(self._uids - now):
            self.miner_score.remove(n, gone)
        for uid, score in scores.items():
            self.miner_score.labels(n, str(uid)).set(score)
        self._uids = now
