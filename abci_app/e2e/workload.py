"""The e2e workload: each new block, transfers between funded accounts, and (if asked) a staking
account cycling delegate / redelegate / undelegate and a subnet with an owner, a validator
neuron setting weights and two miners.

Every tx goes through a *submitter* (a validator whose processes the manifest never perturbs,
so no accepted tx is lost with a killed mempool); a sender always uses the same submitter, so
its nonces arrive in order. Every tx accepted by CheckTx (code 0) is recorded; the invariants
check each is committed exactly once. A broadcast whose answer was lost (node unreachable) is
recorded as uncertain (it may be committed at most once). Bounded: one round per block, stops
when told or at its deadline.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from nacl.signing import SigningKey

from ..address import address_from_pubkey, from_bech32, to_bech32
from ..client.rpc import NodeUnreachable, RPCClient, RPCError
from ..errors import UnknownQueryPath
from ..modules.bank.messages import MsgTransfer
from ..modules.staking.messages import MsgDelegate, MsgRedelegate, MsgUndelegate
from ..modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
)
from ..params import BASE_UNITS_PER_MDT
from ..tx import Message, build_tx
from ..weights import exact_fee
from .network import Node

log = logging.getLogger("moderntensor.e2e.workload")


def _quote(rpc: RPCClient, raw: bytes) -> int:
    """The node's exact fee for the signed tx ``raw`` (``/fee``), or FEE from a version that
    has no such query (the upgrade e2e's previous version).

    Raises:
        RPCError: the node refused the quote for another reason.
    """
    res = rpc.abci_query("/fee", data=raw)
    if res.code == UnknownQueryPath.code:
        return FEE
    if res.code != 0:
        raise RPCError(f"the fee quote was refused: code {res.code}: {res.log}")
    return int(res.json()["fee"])


FEE = 1_000
"""min_fee: what a tx pays when the node quotes no fee (a version before issue 13, in the
upgrade e2e); otherwise each tx pays the node's quote (weights.exact_fee)."""
MDT = BASE_UNITS_PER_MDT
MAX_LOCK = 10_000 * MDT
"""The most the subnet owner agrees to burn to register (the lock cost starts at 1,000 MDT)."""
MAX_BURN = 100 * MDT
"""The most a neuron agrees to burn to register."""
SUBNET_HYPERPARAMS = (("tempo", 9), ("weights_rate_limit", 2), ("commit_reveal", 0))


@dataclass
class Account:
    index: int
    key: SigningKey
    submitter: Node
    nonce: int | None = None
    in_flight: set[str] = field(default_factory=set)
    resync: bool = True
    steps_done: int = 0

    @property
    def address(self) -> bytes:
        return address_from_pubkey(bytes(self.key.verify_key))


@dataclass
class Stats:
    accepted: dict[str, str] = field(default_factory=dict)
    """tx hash -> kind (transfer, delegate, …) of every tx CheckTx accepted."""
    uncertain: set[str] = field(default_factory=set)
    refused: dict[int, int] = field(default_factory=dict)
    """CheckTx refusals by code (a nonce race after a resync is normal; none is lost)."""
    committed: set[str] = field(default_factory=set)
    rounds: int = 0
    skipped_rounds: int = 0
    last_error: str = ""


class Workload:
    def __init__(
        self,
        keys: list[SigningKey],
        submitters: list[Node],
        chain_id: str,
        transfers_per_block: int,
        staking: bool,
        subnets: bool,
        seed: int,
    ) -> None:
        self.chain_id = chain_id
        self.rng = random.Random(seed)
        self.transfers_per_block = transfers_per_block
        self.accounts = [Account(i, k, submitters[i % len(submitters)]) for i, k in enumerate(keys)]
        n_transfer = len(keys) - 5
        self.senders = self.accounts[:n_transfer]
        self.staker = self.accounts[n_transfer] if staking else None
        self.subnet = self.accounts[n_transfer + 1 :] if subnets else []
        self.stats = Stats()
        self._hold = threading.Event()
        self._round_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-workload", daemon=True)
        self._next_sender = 0
        self._clients: dict[str, RPCClient] = {}
        self.operators: list[bytes] = []
        self.uids: dict[bytes, int] = {}
        self.last_height = 0
        self.max_seconds = 3600.0

    # --- control --------------------------------------------------------------------------------
    def start(self, max_seconds: float) -> None:
        self.max_seconds = max_seconds
        self._thread.start()

    def hold(self) -> None:
        """Stop submitting (before every submitter goes down, e.g. an upgrade halt); returns
        once no round is in progress, so nothing is sent after it."""
        self._hold.set()
        with self._round_lock:
            pass

    def release(self) -> None:
        for a in self.accounts:
            a.resync = True
        self._hold.clear()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)
        for client in self._clients.values():
            client.close()

    # --- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            with self._round_lock:
                if not self._hold.is_set():
                    try:
                        self._round()
                        self.stats.rounds += 1
                    except (NodeUnreachable, RPCError, ValueError, KeyError) as e:
                        # a node restarting answers with errors or half answers: next round
                        self.stats.skipped_rounds += 1
                        self.stats.last_error = f"{type(e).__name__}: {e}"
                        log.info("workload round skipped: %s", e)
            time.sleep(0.2)

    def _round(self) -> None:
        ref = self.accounts[0].submitter
        rpc = self._client(ref)
        height = rpc.latest_height()
        if height <= self.last_height:
            return
        for h in range(max(self.last_height + 1, 1), height + 1):
            self._note_block(rpc, h)
        self.last_height = height
        for _ in range(self.transfers_per_block):
            sender = self.senders[self._next_sender % len(self.senders)]
            self._next_sender += 1
            to = self.rng.choice(self.accounts).address
            self._send(sender, [MsgTransfer(to, self.rng.randrange(1, 10**6))], "transfer")
        if self.staker is not None:
            self._staking_step(self.staker)
        if self.subnet:
            self._subnet_steps(height)

    def _note_block(self, rpc: RPCClient, height: int) -> None:
        txs = rpc.call("block", height=str(height))["block"]["data"]["txs"] or []
        for tx in txs:
            h = hashlib.sha256(base64.b64decode(tx)).hexdigest().upper()
            self.stats.committed.add(h)
            for a in self.accounts:
                a.in_flight.discard(h)

    def _send(self, acct: Account, msgs: list[Message], kind: str) -> bool:
        """Sign and broadcast one tx from ``acct``; True if CheckTx accepted it."""
        rpc = self._client(acct.submitter)
        try:
            if acct.resync or acct.nonce is None:
                if acct.in_flight:
                    return False  # wait until its pending txs are in blocks
                info = rpc.abci_query(f"/account/{_bech32(acct.address)}").json()
                acct.nonce = int(info["nonce"])
                acct.resync = False
            nonce = acct.nonce
            raw = exact_fee(  # the fee the node quotes for this very tx
                lambda fee: build_tx(acct.key, self.chain_id, nonce, fee, msgs),
                lambda signed: _quote(rpc, signed),
                FEE,
            )
            tx_hash = hashlib.sha256(raw).hexdigest().upper()
            try:
                res = rpc.broadcast_tx_sync(raw)
            except NodeUnreachable:
                self.stats.uncertain.add(tx_hash)
                acct.in_flight.add(tx_hash)
                acct.resync = True
                return False
        except (NodeUnreachable, RPCError):
            return False
        if res.code != 0:
            self.stats.refused[res.code] = self.stats.refused.get(res.code, 0) + 1
            acct.resync = True
            return False
        self.stats.accepted[tx_hash] = kind
        acct.in_flight.add(tx_hash)
        acct.nonce += 1
        return True

    def _idle(self, acct: Account) -> bool:
        return (not acct.in_flight and not acct.resync) or (acct.resync and not acct.in_flight)

    def _staking_step(self, acct: Account) -> None:
        if acct.in_flight:
            return
        if not self.operators:
            self.operators = [from_bech32(v["operator"]) for v in self._validators()]
        ops = self.operators
        i = acct.steps_done
        # delegate to v, move part of it to w, undelegate part of that; sources and
        # destinations never overlap (redelegating stake that is still arriving by
        # redelegation is refused, code 119), so every step is valid
        cycle = i // 3
        sources, dests = ops[0::2], ops[1::2] or ops[:1]
        v, w = sources[cycle % len(sources)], dests[cycle % len(dests)]
        if v == w:  # a single validator: nothing to redelegate between
            return
        steps: list[tuple[str, Message]] = [
            ("delegate", MsgDelegate(v, 5 * MDT)),
            ("redelegate", MsgRedelegate(v, w, 2 * MDT)),
            ("undelegate", MsgUndelegate(w, 1 * MDT)),
        ]
        kind, msg = steps[i % 3]
        if self._send(acct, [msg], kind):
            acct.steps_done += 1

    def _subnet_steps(self, height: int) -> None:
        owner, validator, *miners = self.subnet
        steps: list[tuple[Account, Callable[[], tuple[str, Message] | None]]] = []
        if owner.steps_done == 0:
            steps.append((owner, lambda: ("register_subnet", MsgRegisterSubnet(MAX_LOCK))))
        elif owner.steps_done == 1:
            names = tuple(n for n, _ in SUBNET_HYPERPARAMS)
            values = tuple(v for _, v in SUBNET_HYPERPARAMS)
            steps.append(
                (owner, lambda: ("set_hyperparams", MsgSetSubnetHyperparams(1, names, values)))
            )
        elif not owner.in_flight:  # the subnet exists with its hyperparams
            for n in [validator, *miners]:
                if n.steps_done == 0:
                    steps.append((n, lambda: ("register_neuron", MsgRegisterNeuron(1, MAX_BURN))))
            if validator.steps_done == 1:
                v = validator.address
                steps.append(
                    (validator, lambda: ("add_subnet_stake", MsgAddSubnetStake(1, v, 1000 * MDT)))
                )
            elif validator.steps_done >= 2 and height % 3 == 0:
                steps.append((validator, self._weights))
        for acct, make in steps:
            if acct.in_flight:
                continue
            made = make()
            if made is not None and self._send(acct, [made[1]], made[0]):
                acct.steps_done += 1

    def _weights(self) -> tuple[str, Message] | None:
        meta = self._query("/subnet/1/metagraph")["neurons"]
        own = _bech32(self.subnet[1].address)
        uids = tuple(sorted(int(n["uid"]) for n in meta if n["hotkey"] != own))
        if not uids:
            return None
        weights = tuple(self.rng.randrange(1, 65536) for _ in uids)
        return "set_weights", MsgSetWeights(1, uids, weights)

    def expected_kinds(self) -> list[str]:
        """The tx kinds each enabled actor must have got accepted for the run to count."""
        kinds = ["transfer"] if self.transfers_per_block else []
        if self.staker is not None:
            kinds += ["delegate", "redelegate", "undelegate"]
        if self.subnet:
            kinds += ["register_subnet", "register_neuron", "add_subnet_stake", "set_weights"]
        return kinds

    def _client(self, node: Node) -> RPCClient:
        """One keep-alive client per submitter (a connection per request made a round of a
        few txs take a second or two: fewer rounds than blocks)."""
        client = self._clients.get(node.name)
        if client is None:
            client = self._clients[node.name] = RPCClient(node.rpc_url, timeout=5, retries=0)
        return client

    def _validators(self) -> list[dict]:  # type: ignore[type-arg]
        """The first 1,000 validators (a localnet's all). A node of the previous app version
        (the upgrade perturbation) knows no pagination and answers the plain list."""
        try:
            return self._query("/validators?limit=1000")["validators"]  # type: ignore[no-any-return]
        except RPCError:
            old = self._query("/validators")
            if not isinstance(old, list):
                raise
            return old

    def _query(self, path: str) -> dict:  # type: ignore[type-arg]
        res = self._client(self.accounts[0].submitter).abci_query(path)
        if res.code != 0:
            raise RPCError(f"query {path}: {res.log}")
        return res.json()  # type: ignore[no-any-return]


def _bech32(address: bytes) -> str:
    return to_bech32(address)
