"""Grafana dashboards as code (grafanalib): chain overview, validators, subnets.

    .venv/bin/python scripts/make_dashboards.py        # rewrites deploy/grafana/dashboards/*.json

The JSON files are committed so operators can import them into their own Grafana; a test
regenerates them and compares, and runs every query against a real Prometheus scraping a live
localnet (tests/e2e/test_monitoring.py). Every panel uses the datasource provisioned in
deploy/grafana/provisioning/datasources/prometheus.yml (uid ``prometheus``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from grafanalib._gen import DashboardEncoder
from grafanalib.core import Dashboard, GridPos, Target, TimeSeries

OUT = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}


def dashboard(title: str, uid: str, panels: list[TimeSeries]) -> Dashboard:
    """The settings every ModernTensor dashboard shares."""
    return Dashboard(
        title=title,
        uid=uid,
        panels=panels,
        tags=["moderntensor"],
        timezone="browser",
        refresh="10s",
    ).auto_panel_ids()


def series(title: str, exprs: list[tuple[str, str]], unit: str = "", pos: int = 0) -> TimeSeries:
    """A time-series panel; ``exprs`` are (PromQL, legend) pairs. Panels flow two per row."""
    return TimeSeries(
        title=title,
        dataSource=DATASOURCE,
        targets=[
            Target(expr=e, legendFormat=legend, refId=chr(65 + i), datasource=DATASOURCE)
            for i, (e, legend) in enumerate(exprs)
        ],
        unit=unit,
        gridPos=GridPos(h=8, w=12, x=(pos % 2) * 12, y=(pos // 2) * 8),
    )


def chain() -> Dashboard:
    panels = [
        series(
            "Block height",
            [('max by (node) (cometbft_consensus_height{job="cometbft"})', "{{node}}")],
            pos=0,
        ),
        series(
            "Block interval",
            [
                (
                    'rate(cometbft_consensus_block_interval_seconds_sum{job="cometbft"}[1m]) / '
                    'rate(cometbft_consensus_block_interval_seconds_count{job="cometbft"}[1m])',
                    "{{node}}",
                )
            ],
            unit="s",
            pos=1,
        ),
        series(
            "Committed tx/s",
            [('max(rate(cometbft_consensus_total_txs{job="cometbft"}[1m]))', "tx/s")],
            pos=2,
        ),
        series(
            "Txs by type and result code",
            [
                (
                    'sum by (type, code) (rate(moderntensor_txs_total{job="app"}[1m]))',
                    "{{type}} {{code}}",
                )
            ],
            pos=3,
        ),
        series("Mempool size", [('cometbft_mempool_size{job="cometbft"}', "{{node}}")], pos=4),
        series("Peers", [('cometbft_p2p_peers{job="cometbft"}', "{{node}}")], pos=5),
        series(
            "Consensus rounds", [('cometbft_consensus_rounds{job="cometbft"}', "{{node}}")], pos=6
        ),
        series(
            "ABCI latency p95 by method",
            [
                (
                    "histogram_quantile(0.95, sum by (le, method) "
                    '(rate(moderntensor_abci_request_seconds_bucket{job="app"}[5m])))',
                    "{{method}}",
                )
            ],
            unit="s",
            pos=7,
        ),
        series(
            "FinalizeBlock, app hash and Commit p95",
            [
                (
                    f"histogram_quantile(0.95, sum by (le) (rate(moderntensor_{m}_bucket"
                    '{job="app"}[5m])))',
                    m,
                )
                for m in ("finalize_block_seconds", "app_hash_seconds", "commit_seconds")
            ],
            unit="s",
            pos=8,
        ),
        series(
            "State size",
            [('max(moderntensor_state_bytes{job="app"})', "bytes")],
            unit="bytes",
            pos=9,
        ),
    ]
    return dashboard("ModernTensor: chain overview", "mt-chain", panels)


def validators() -> Dashboard:
    panels = [
        series(
            "Validators not signing the last block",
            [('max(cometbft_consensus_missing_validators{job="cometbft"})', "missing")],
            pos=0,
        ),
        series(
            "Blocks since each node's validator last signed",
            [
                (
                    'max by (node) (cometbft_consensus_height{job="cometbft"}) - max by (node) '
                    '(cometbft_consensus_validator_last_signed_height{job="cometbft"})',
                    "{{node}}",
                )
            ],
            pos=1,
        ),
        series(
            "Voting power",
            [
                ('cometbft_consensus_validator_power{job="cometbft"}', "{{node}}"),
                ('max(cometbft_consensus_validators_power{job="cometbft"})', "total"),
            ],
            pos=2,
        ),
        series(
            "Validators and jailed",
            [
                ('max(moderntensor_validators{job="app"})', "active set"),
                ('max(moderntensor_jailed_validators{job="app"})', "jailed"),
            ],
            pos=3,
        ),
        series(
            "Bonded tokens (MDT)",
            [('max(moderntensor_bonded_tokens{job="app"}) / 1e9', "bonded")],
            pos=4,
        ),
        series(
            "Rewards paid to validators (MDT/min)",
            [('max(rate(moderntensor_block_rewards_total{job="app"}[5m])) * 60 / 1e9', "rewards")],
            pos=5,
        ),
    ]
    return dashboard("ModernTensor: validators", "mt-validators", panels)


def subnets() -> Dashboard:
    panels = [
        series(
            "Neurons per subnet",
            [('max by (netuid) (moderntensor_subnet_neurons{job="app"})', "subnet {{netuid}}")],
            pos=0,
        ),
        series(
            "Epoch duration",
            [
                (
                    'max by (netuid) (moderntensor_subnet_epoch_seconds{job="app"})',
                    "subnet {{netuid}}",
                )
            ],
            unit="s",
            pos=1,
        ),
        series(
            "Emission of the last epoch (MDT)",
            [
                (
                    'max by (netuid) (moderntensor_subnet_epoch_emission{job="app"}) / 1e9',
                    "subnet {{netuid}}",
                )
            ],
            pos=2,
        ),
        series(
            "Emission routed to subnets (MDT/min)",
            [
                (
                    "max(rate(moderntensor_subnet_emission_accrued_total"
                    '{job="app"}[5m])) * 60 / 1e9',
                    "subnets",
                )
            ],
            pos=3,
        ),
        series(
            "Incentive by uid",
            [
                (
                    'max by (netuid, uid) (moderntensor_neuron_incentive{job="app"})',
                    "{{netuid}}/{{uid}}",
                )
            ],
            unit="percentunit",
            pos=4,
        ),
        series(
            "Dividends by uid",
            [
                (
                    'max by (netuid, uid) (moderntensor_neuron_dividends{job="app"})',
                    "{{netuid}}/{{uid}}",
                )
            ],
            unit="percentunit",
            pos=5,
        ),
    ]
    return dashboard("ModernTensor: subnets", "mt-subnets", panels)


DASHBOARDS = {"chain.json": chain, "validators.json": validators, "subnets.json": subnets}


def render(make: Any) -> str:
    return json.dumps(make().to_json_data(), cls=DashboardEncoder, indent=2, sort_keys=True) + "\n"


def queries(doc: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard JSON."""
    return [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in DASHBOARDS.items():
        (OUT / name).write_text(render(make))
    print(f"wrote {len(DASHBOARDS)} dashboards to {OUT.relative_to(Path.cwd())}", file=sys.stderr)


if __name__ == "__main__":
    main()
