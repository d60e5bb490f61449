"""Subnets: registration, neurons and axons, subnet stake, weights with commit-reveal, and the
Yuma consensus epochs that pay each subnet's emission."""

from __future__ import annotations

from ..._proto.moderntensor.tx.v1 import tx_pb2
from ..spec import Module, MsgSpec
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

MODULE = Module(
    name="subnets",
    messages=(
        MsgSpec(
            "register_subnet", MsgRegisterSubnet, tx_pb2.MsgRegisterSubnet, apply_register_subnet
        ),
        MsgSpec(
            "set_subnet_hyperparams",
            MsgSetSubnetHyperparams,
            tx_pb2.MsgSetSubnetHyperparams,
            apply_set_hyperparams,
        ),
        MsgSpec(
            "register_neuron", MsgRegisterNeuron, tx_pb2.MsgRegisterNeuron, apply_register_neuron
        ),
        MsgSpec("serve_axon", MsgServeAxon, tx_pb2.MsgServeAxon, apply_serve_axon),
        MsgSpec("add_subnet_stake", MsgAddSubnetStake, tx_pb2.MsgAddSubnetStake, apply_add_stake),
        MsgSpec(
            "remove_subnet_stake",
            MsgRemoveSubnetStake,
            tx_pb2.MsgRemoveSubnetStake,
            apply_remove_stake,
        ),
        MsgSpec("set_weights", MsgSetWeights, tx_pb2.MsgSetWeights, apply_set_weights),
        MsgSpec("commit_weights", MsgCommitWeights, tx_pb2.MsgCommitWeights, apply_commit_weights),
        MsgSpec("reveal_weights", MsgRevealWeights, tx_pb2.MsgRevealWeights, apply_reveal_weights),
    ),
    params=(SubnetParams, get_params),
    invariants=invariants,
    query=subnets_query,
)
