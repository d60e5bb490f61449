"""config.toml patching from templates: every template key exists in CometBFT's own file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from abci_app.node.cometbft import CometBFTError, load_template, parse_override, patch_config

FILL = {"abci_port": 1, "rpc_port": 2, "p2p_port": 3, "prometheus_port": 4, "moniker": "m"}


@pytest.fixture(scope="module")
def stock_config(tmp_path_factory: pytest.TempPathFactory, cometbft_bin: Path) -> str:
    home = tmp_path_factory.mktemp("cfg")
    subprocess.run(
        [str(cometbft_bin), "init", "--home", str(home)], check=True, capture_output=True
    )
    return (home / "config" / "config.toml").read_text()


def test_single_node_template_applies(stock_config: str) -> None:
    import tomllib

    out = tomllib.loads(patch_config(stock_config, load_template("single-node", FILL)))
    assert out["proxy_app"] == "tcp://127.0.0.1:1"
    assert out["rpc"]["laddr"] == "tcp://127.0.0.1:2"
    assert out["instrumentation"]["prometheus_listen_addr"] == "127.0.0.1:4"
    assert out["consensus"]["timeout_commit"] == "1s"


def test_overrides_are_typed_and_unknown_keys_fail(stock_config: str) -> None:
    import tomllib

    settings = [
        parse_override("mempool.size=123"),
        parse_override("consensus.timeout_commit=250ms"),
    ]
    out = tomllib.loads(patch_config(stock_config, settings))
    assert out["mempool"]["size"] == 123
    assert out["consensus"]["timeout_commit"] == "250ms"
    with pytest.raises(CometBFTError):
        patch_config(stock_config, [parse_override("consensus.no_such_key=1")])
    with pytest.raises(CometBFTError):
        parse_override("no-equals-sign")


ALL_FILL = {
    **FILL,
    "proxy_app": "tcp://127.0.0.1:1",
    "rpc_host": "127.0.0.1",
    "p2p_host": "127.0.0.1",
    "prom_host": "127.0.0.1",
    "persistent_peers": "",
    "seeds": "",
    "max_inbound": 40,
    "max_outbound": 10,
    "timeout_commit": "1s",
    "timeout_propose": "3s",
}


@pytest.mark.parametrize(
    "template",
    sorted(
        p.stem for p in (Path(__file__).resolve().parents[2] / "cometbft-config").glob("*.toml")
    ),
)
def test_every_template_applies_to_a_stock_config(stock_config: str, template: str) -> None:
    import tomllib

    settings = load_template(template, ALL_FILL)
    assert settings, template
    out = tomllib.loads(patch_config(stock_config, settings))
    for section, key, value in settings:
        table = out
        for part in filter(None, section.split(".")):
            table = table[part]
        assert table[key] == value, (template, section, key)
