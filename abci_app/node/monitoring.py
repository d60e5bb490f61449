"""Prometheus alert rules for a ModernTensor network, as data.

``localnet init`` writes them next to the localnet's prometheus.yml and ``localnet compose``
to deploy/alerts.yml. Each rule keeps its query (``expr``) apart from its condition so that a
test can check that every query returns data on a live network, whether or not it fires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    """The query; the rule fires when ``expr condition`` has a result for ``for_``."""
    condition: str
    for_: str
    severity: str
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": f"{self.expr} {self.condition}",
            "for": self.for_,
            "labels": {"severity": self.severity},
            "annotations": {"summary": self.summary},
        }


ALERT_RULES = (
    AlertRule(
        "ChainHalted",
        'max(increase(cometbft_consensus_height{job="cometbft"}[1m]))',
        "== 0",
        "0s",
        "critical",
        "No node has seen a new block for 1 minute.",
    ),
    AlertRule(
        "NodeStalled",
        'increase(cometbft_consensus_height{job="cometbft"}[1m])',
        "== 0",
        "1m",
        "warning",
        "{{ $labels.node }} has not seen a new block for 2 minutes (crashed, or halted on "
        "an app-hash mismatch: see its cometbft log).",
    ),
    AlertRule(
        "ValidatorMissingBlocks",
        'cometbft_consensus_missing_validators{job="cometbft"}',
        "> 0",
        "5m",
        "warning",
        "{{ $value }} validator(s) have not signed the last blocks for 5 minutes.",
    ),
    AlertRule(
        "OwnValidatorNotSigning",
        # (cometbft's missed-blocks counter only appears after a first miss; the last signed
        # height is always there, so this query has data on a healthy network too)
        'max by (node) (cometbft_consensus_height{job="cometbft"}) - max by (node) '
        '(cometbft_consensus_validator_last_signed_height{job="cometbft"})',
        "> 10",
        "1m",
        "warning",
        "The validator on {{ $labels.node }} last signed more than 10 blocks ago.",
    ),
    AlertRule(
        "FewPeers",
        'cometbft_p2p_peers{job="cometbft"}',
        "< 2",
        "1m",
        "warning",
        "{{ $labels.node }} has fewer than 2 peers.",
    ),
    AlertRule(
        "AppHashMismatch",
        'count by (height) (count_values by (height) ("hash", '
        'moderntensor_app_hash_checkpoint{job="app"}))',
        "> 1",
        "0s",
        "critical",
        "Nodes computed different app hashes at height {{ $labels.height }}: the state has "
        "diverged (non-determinism or a different binary).",
    ),
    AlertRule(
        "JailedValidators",
        'max(moderntensor_jailed_validators{job="app"})',
        "> 0",
        "0s",
        "info",
        "{{ $value }} validator(s) are jailed.",
    ),
    AlertRule(
        "ValidatorNotSettingWeights",
        # scraped from `neuron validator --metrics-port` (job "neuron"): blocks since its
        # weights last landed, over the longest gap its subnet's tempo and rate limit explain
        'max by (instance, netuid) (moderntensor_validator_blocks_since_weights{job="neuron"}) '
        "/ max by (instance, netuid) "
        '(moderntensor_validator_weights_interval_blocks{job="neuron"})',
        "> 1",
        "2m",
        "warning",
        "Subnet validator {{ $labels.instance }} stopped setting weights on subnet "
        "{{ $labels.netuid }} (no permit, refused txs or node unreachable: see its log).",
    ),
)
"""Rules on the ``neuron`` job need a validator neuron's metrics; the others the chain's."""


def alerts_config() -> dict[str, Any]:
    return {"groups": [{"name": "moderntensor", "rules": [r.to_dict() for r in ALERT_RULES]}]}
