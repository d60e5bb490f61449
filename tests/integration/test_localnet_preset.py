"""`localnet --preset fast` genesis params, and `localnet add-node` reaching the Prometheus
config (no node is started)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from harness import free_base

from abci_app.node.localnet import PRESETS, add_full_node, init_localnet
from abci_app.node.plan import LocalnetError, LocalnetPlan

pytestmark = pytest.mark.integration


def test_fast_preset_and_added_node_in_prometheus(tmp_path: Path, cometbft_bin: Path) -> None:
    root = tmp_path / "net"
    init_localnet(root, LocalnetPlan(1, True, free_base(4), "mt-fast-1"), preset="fast")
    app_state = json.loads((root / "genesis.json").read_text())["app_state"]
    assert app_state["staking"]["params"]["unbonding_blocks"] == 100
    assert app_state["slashing"]["params"] == PRESETS["fast"]["slashing"]
    add_full_node(root, "node9")
    prom = yaml.safe_load((root / "prometheus.yml").read_text())
    for job in prom["scrape_configs"]:
        if job["job_name"] == "neuron":  # validator neurons: from neurons/*.json files
            assert job["file_sd_configs"] == [{"files": ["neurons/*.json"]}]
            continue
        names = [c["labels"]["node"] for c in job["static_configs"]]
        assert names == ["node0", "seed", "node9"], names
    with pytest.raises(LocalnetError, match="unknown preset"):
        init_localnet(tmp_path / "other", LocalnetPlan(1, False, free_base(2), "x"), preset="x")
