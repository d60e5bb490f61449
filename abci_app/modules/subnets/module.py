"""Subnets: registration, neurons and axons, subnet stake, weights with commit-reveal, and the
Yuma consensus epochs that pay each subnet's emission."""

from __future__ import annotations

from ..._proto.moderntensor.tx.v1 import tx_pb2
from ..spec import Module, MsgSpec, WeightBounds, flat
from .handlers import (
    apply_add_stake,
    apply_commit_weights,
    apply_register_neuron,
    apply_register_subnet,
    apply_remove_stake,
    apply_reveal_weights,
    apply_serve_axon,
    apply_set_hyperparams,
    apply_set_weights,
)
from .invariants import invariants
from .messages import (
    MsgAddSubnetStake,
    MsgCommitWeights,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgRemoveSubnetStake,
    MsgRevealWeights,
    MsgServeAxon,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
)
from .params import SubnetParams
from .queries import subnets_query
from .state import get_params


def register_subnet_weight(msg: MsgRegisterSubnet, bounds: WeightBounds) -> int:
    """40 + 8 per subnet that may exist: registering scans them for the lowest free netuid."""
    return 40 + 8 * bounds.max_subnets


def register_neuron_weight(msg: MsgRegisterNeuron, bounds: WeightBounds) -> int:
    """50 + 10 per uid a subnet may have: a registration into a full subnet scans every neuron
    for the one to prune."""
    return 50 + 10 * bounds.max_uids_cap


def set_weights_weight(msg: MsgSetWeights, bounds: WeightBounds) -> int:
    """30 + 1 per 2 entries (the row is checked, sorted and packed)."""
    return 30 + len(msg.uids) // 2


NEURON_READ = 11
"""Units of reading and decoding one neuron record (~11 us: bench/weights_bench.py's
reveal_weights case, 1,024 entries in 11.5 ms)."""


def reveal_weights_weight(msg: MsgRevealWeights, bounds: WeightBounds) -> int:
    """40 + 1 per 2 entries (set_weights' work on the row) + NEURON_READ per entry: each
    revealed uid's neuron is read to drop a uid registered since the commit (subtensor PR
    1789). Was 40 + 5 per 8 entries, which left the neuron reads out: 14 us per unit, 16x the
    fastest type, a block of reveals at block.max_gas 14 s."""
    return 40 + len(msg.uids) // 2 + NEURON_READ * len(msg.uids)


MODULE = Module(
    name="subnets",
    messages=(
        MsgSpec(
            "register_subnet",
            MsgRegisterSubnet,
            tx_pb2.MsgRegisterSubnet,
            apply_register_subnet,
            weight=register_subnet_weight,
        ),
        MsgSpec(
            "set_subnet_hyperparams",
            MsgSetSubnetHyperparams,
            tx_pb2.MsgSetSubnetHyperparams,
            apply_set_hyperparams,
            weight=flat(70),
        ),
        MsgSpec(
            "register_neuron",
            MsgRegisterNeuron,
            tx_pb2.MsgRegisterNeuron,
            apply_register_neuron,
            weight=register_neuron_weight,
        ),
        MsgSpec("serve_axon", MsgServeAxon, tx_pb2.MsgServeAxon, apply_serve_axon, weight=flat(70)),
        MsgSpec(
            "add_subnet_stake",
            MsgAddSubnetStake,
            tx_pb2.MsgAddSubnetStake,
            apply_add_stake,
            weight=flat(65),
        ),
        MsgSpec(
            "remove_subnet_stake",
            MsgRemoveSubnetStake,
            tx_pb2.MsgRemoveSubnetStake,
            apply_remove_stake,
            weight=flat(50),
        ),
        MsgSpec(
            "set_weights",
            MsgSetWeights,
            tx_pb2.MsgSetWeights,
            apply_set_weights,
            weight=set_weights_weight,
        ),
        MsgSpec(
            "commit_weights",
            MsgCommitWeights,
            tx_pb2.MsgCommitWeights,
            apply_commit_weights,
            weight=flat(55),
        ),
        MsgSpec(
            "reveal_weights",
            MsgRevealWeights,
            tx_pb2.MsgRevealWeights,
            apply_reveal_weights,
            weight=reveal_weights_weight,
        ),
    ),
    params=(SubnetParams, get_params),
    invariants=invariants,
    query=subnets_query,
)
