"""`localnet --preset fast` genesis params (its evidence window below its 100-block unbonding),
and `localnet add-node` reaching the Prometheus config (no node is started)."""

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
    genesis = json.loads((root / "genesis.json").read_text())
    app_state = genesis["app_state"]
    assert app_state["staking"]["params"]["unbonding_blocks"] == 100
    # evidence expires before the stake that signed can have unbonded: 99 blocks, and 99 of
    # the nodes' 1 s timeout_commit (CometBFT's defaults, 100,000 blocks and 48 h, were kept)
    evidence = genesis["consensus_params"]["evidence"]
    assert evidence["max_age_num_blocks"] == "99"
    assert evidence["max_age_duration"] == str(99 * 10**9)
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
