"""A subnet owner, through a real node's RPC: the issue's configuration (4,096 uids and
validators, tempo 1, a burn of 1 base unit) and each of its parts, and registration caps past
the chain's (4,096 a block, a target of 65,535 an interval), are refused with code 133 and
change nothing; values at the chain's caps are accepted. On main they were accepted: an epoch
at 1,024 uids took ~8 s every other block, and one block could replace a whole subnet."""

from __future__ import annotations

import pytest
from adversary import node_is_live
from harness import CHAIN_ID, LocalNode, addr_of, seeded_key

from abci_app.address import to_bech32
from abci_app.client.rpc import RPCClient
from abci_app.errors import InvalidHyperparams
from abci_app.modules.subnets.messages import MsgRegisterSubnet, MsgSetSubnetHyperparams
from abci_app.modules.subnets.params import SubnetParams
from abci_app.tx import Message, build_tx

pytestmark = pytest.mark.adversarial

OWNER = 3


def send(rpc: RPCClient, msgs: list[Message]) -> tuple[int, str]:
    """Send a tx from the owner with its next nonce; return (code, log) once committed."""
    key = seeded_key(OWNER)
    nonce = int(rpc.abci_query(f"/account/{to_bech32(addr_of(key))}").json()["nonce"])
    sent = rpc.broadcast_tx_sync(build_tx(key, CHAIN_ID, nonce, 10**6, msgs))
    if sent.code != 0:
        return sent.code, sent.log
    done = rpc.wait_for_tx(sent.hash, timeout=30)
    return done.code, done.log


def hyper(netuid: int, **values: int) -> MsgSetSubnetHyperparams:
    names = tuple(sorted(values))
    return MsgSetSubnetHyperparams(netuid, names, tuple(values[k] for k in names))


def test_an_owner_cannot_configure_past_the_chain_bounds(
    hostile_node: LocalNode, rpc: RPCClient
) -> None:
    code, log = send(rpc, [MsgRegisterSubnet(max_cost=10**15)])
    assert code == 0, log
    owner = to_bech32(addr_of(seeded_key(OWNER)))
    netuid = max(s["netuid"] for s in rpc.abci_query("/subnets").json() if s["owner"] == owner)
    before = rpc.abci_query(f"/subnet/{netuid}/hyperparams").json()
    issue = {"max_allowed_uids": 4096, "max_allowed_validators": 4096, "tempo": 1, "min_burn": 1}
    churn = {"max_registrations_per_block": 4096, "target_registrations_per_interval": 65_535}
    for values in (issue, *({k: v} for k, v in (issue | churn).items())):
        code, log = send(rpc, [hyper(netuid, **values)])
        assert code == InvalidHyperparams.code, (values, code, log)
    assert rpc.abci_query(f"/subnet/{netuid}/hyperparams").json() == before
    caps = SubnetParams()
    at_caps = {
        "max_allowed_uids": caps.max_uids_cap,
        "max_allowed_validators": caps.max_weights_per_epoch // caps.max_uids_cap,
        "tempo": caps.min_tempo,
        "min_burn": caps.min_burn_floor,
        "max_registrations_per_block": caps.max_registrations_per_block_cap,
        "target_registrations_per_interval": caps.max_target_registrations_cap,
    }
    code, log = send(rpc, [hyper(netuid, **at_caps)])
    assert code == 0, log
    node_is_live(hostile_node, rpc)
