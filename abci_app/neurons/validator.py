"""The validator loop: each round, challenge every miner's axon, score the answers, keep a
moving average per uid and get weights onto the chain (:mod:`.weights`).

It survives what miners and nodes do: a miner that hangs is cut at the dendrite's timeout and
scores 0, one that answers garbage scores 0, a node that restarts makes a round fail (counted,
logged) and the next one try again, with the metagraph's event stream reconnecting by itself.
Its moving averages (``scores.json``) and pending commits (``commits/``, the SDK's commit store)
are in its state folder, so a restarted validator carries on where it stopped; what it reads
back is checked entry by entry (:meth:`.MovingScores.from_json`, :class:`.WeightSetter`). Its
two background tasks (metagraph, weights) end only by a bug; the loop then stops with that
error rather than score on without setting weights.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..client.aio import AsyncChain
from ..client.commits import CommitStore
from ..client.keyring import Key
from ..client.rpc import TxTimeout
from .dendrite import AxonAnswer, Dendrite
from .metagraph import MetagraphSync
from .metrics import ValidatorMetrics
from .node_reads import MAX_NODE_ANSWER_BYTES, SYNC_ERRORS, hyperparams, latest_height
from .scoring import MovingScores, round_score, weights_from_scores
from .tasks.base import Task
from .weights import WeightSetter

log = logging.getLogger("moderntensor.neurons.validator")

ROUND_ERRORS = (*SYNC_ERRORS, TxTimeout)


@dataclass(frozen=True)
class ValidatorConfig:
    """Knobs of the loop (CLI options of ``neuron validator``)."""

    netuid: int
    state_dir: Path
    sample_size: int = 16
    """Inputs per challenge."""
    timeout: float = 5.0
    """Seconds a miner has to answer; later is 0."""
    round_seconds: float = 6.0
    """Shortest time between the starts of two rounds."""
    latency_weight: float = 0.2
    ema_alpha: float = 0.3
    version_key: int = 0
    full_sync_every: int = 20
    """Blocks after which the metagraph is fetched whole even if the subnet record is the same."""
    rpc_timeout: float = 10.0
    max_concurrency: int = 32
    weights_poll: float = 0.3
    """Seconds between two looks at the chain's height by the weights task."""
    warmup_rounds: int = 5
    """Rounds scored after a start before new weights are committed (reveals are not held):
    averages of miners seen only once or twice would be sent otherwise."""


@dataclass(frozen=True)
class RoundReport:
    """What one round saw: the answers, the averages after it, the weights they make."""

    height: int
    answers: list[AxonAnswer]
    scores: dict[int, float]
    uids: tuple[int, ...]
    weights: tuple[int, ...]


class Validator:
    """``await Validator(...).run(stop)`` until ``stop`` is set."""

    def __init__(
        self,
        node: str,
        key: Key,
        task: Task,
        config: ValidatorConfig,
        metrics: ValidatorMetrics | None = None,
    ) -> None:
        self.node = node
        self.key = key
        self.task = task
        self.cfg = config
        self.metrics = metrics or ValidatorMetrics()
        self.scores_path = config.state_dir / "scores.json"
        self.scores = self._load_scores()
        self.rounds = 0
        self.start_height: int | None = None
        self._txs_seen: dict[tuple[str, str], int] = {}

    def _load_scores(self) -> MovingScores:
        try:
            data = json.loads(self.scores_path.read_text())
            return MovingScores.from_json(data, self.cfg.ema_alpha)
        except FileNotFoundError:
            return MovingScores(alpha=self.cfg.ema_alpha)
        except (ValueError, TypeError, AttributeError) as e:
            log.warning("ignoring unreadable %s: %s", self.scores_path, e)
            return MovingScores(alpha=self.cfg.ema_alpha)

    async def run(self, stop: asyncio.Event) -> None:
        """Score in rounds and, in a task of its own, follow the chain's height to reveal and
        commit on time (a round slowed by hanging miners never makes a reveal miss its
        window). Returns when ``stop`` is set."""
        chain = AsyncChain(
            self.node, self.cfg.rpc_timeout, retries=1, max_response_bytes=MAX_NODE_ANSWER_BYTES
        )
        dendrite = Dendrite(
            self.key, timeout=self.cfg.timeout, max_concurrency=self.cfg.max_concurrency
        )
        self.metagraph = MetagraphSync(
            chain, self.cfg.netuid, self.cfg.rpc_timeout, self.cfg.full_sync_every
        )
        self.setter = WeightSetter(
            chain,
            self.key,
            self.cfg.netuid,
            CommitStore(self.cfg.state_dir / "commits"),
            self.cfg.version_key,
            query_timeout=self.cfg.rpc_timeout,
        )
        tasks = [
            asyncio.create_task(self.metagraph.run(), name="metagraph"),
            asyncio.create_task(self._weights_loop(chain, stop), name="weights"),
        ]
        try:
            while not stop.is_set():
                for t in tasks:  # neither ends while the validator runs, except by a bug:
                    if t.done() and not stop.is_set():  # stop loudly, not score on silently
                        raise RuntimeError(f"the {t.get_name()} task stopped") from t.exception()
                started = time.monotonic()
                try:
                    await self.round(chain, dendrite)
                    self.metrics.rounds.labels(str(self.cfg.netuid), "ok").inc()
                except ROUND_ERRORS as e:
                    self.metrics.rounds.labels(str(self.cfg.netuid), "failed").inc()
                    log.warning("round failed (retrying): %s: %s", type(e).__name__, e)
                wait = max(0.5, self.cfg.round_seconds - (time.monotonic() - started))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await dendrite.aclose()
            await chain.aclose()

    async def _height(self, chain: AsyncChain) -> int:
        return await latest_height(chain, self.cfg.rpc_timeout)

    def _quality(self, challenge: Any, answer: AxonAnswer) -> float:
        """The task's score of a valid answer; a task plug-in that raises on a miner's
        outputs (it should not) costs that miner the round, never the validator its loop."""
        try:
            return float(self.task.score(challenge, answer.outputs))
        except Exception:  # a plug-in's bug: logged with its traceback, the answer scores 0
            log.exception("task %r failed to score uid %d", self.task.name, answer.uid)
            return 0.0

    def _score(self, answers: list[AxonAnswer], challenge: Any) -> dict[int, float]:
        netuid = str(self.cfg.netuid)
        out = {}
        for a in answers:
            if a.ok:
                quality = self._quality(challenge, a)
                self.metrics.answer_seconds.labels(netuid).observe(a.latency)
            else:
                quality = 0.0
                log.info("uid %d: %s", a.uid, a.error.log() if a.error else "no answer")
            s = round_score(quality, a.latency, self.cfg.timeout, self.cfg.latency_weight)
            self.metrics.round_scores.labels(netuid).observe(s)
            out[a.uid] = s
        return out

    async def round(self, chain: AsyncChain, dendrite: Dendrite) -> RoundReport:
        """One scoring round: sync if needed, query every axon, score, fold into the moving
        averages (saved to ``scores.json``), publish metrics."""
        netuid = self.cfg.netuid
        height = await self._height(chain)
        if self.start_height is None:
            self.start_height = height
        await self.metagraph.refresh(height)
        mg = self.metagraph.current
        assert mg is not None  # refresh() synced or raised
        axons = self.metagraph.axons(exclude=self.key.address)
        rng = random.Random(secrets.randbits(64))
        challenge = self.task.challenge(rng, self.cfg.sample_size)
        answers = await dendrite.forward_all(axons, netuid, self.task.name, challenge.inputs)
        round_scores = self._score(answers, challenge)
        for neuron in mg.neurons:
            if neuron.hotkey != self.key.address:
                score = round_scores.get(neuron.uid, 0.0)
                self.scores.update(neuron.uid, neuron.hotkey, score)
        self.scores.keep_only({x.uid: x.hotkey for x in mg.neurons if x.hotkey != self.key.address})
        self.scores.save(self.scores_path)
        self.rounds += 1
        self._publish_round(answers)
        uids, weights = weights_from_scores(self.scores.scores)
        return RoundReport(height, answers, dict(self.scores.scores), uids, weights)

    async def weights_step(self, chain: AsyncChain) -> int:
        """Reveal what is due and commit (or set) the current averages when allowed; the
        height it acted at."""
        netuid = self.cfg.netuid
        height = await self._height(chain)
        if self.start_height is None:
            self.start_height = height
        hp = await hyperparams(chain, netuid, self.cfg.rpc_timeout)
        me = self.metagraph.neuron(self.key.address)
        if me is None:
            if self.metagraph.current is not None:
                log.warning("%s has no uid on subnet %d: no weights", self.key.address, netuid)
        else:
            uids, weights = weights_from_scores(self.scores.scores)
            if self.rounds < self.cfg.warmup_rounds:
                uids, weights = (), ()  # reveal what is due, commit nothing new yet
            await self.setter.step(height, hp, me.validator_permit, uids, weights, me.uid)
        self._publish_weights(height, hp)
        return height

    async def _weights_loop(self, chain: AsyncChain, stop: asyncio.Event) -> None:
        """Run :meth:`weights_step` on every new block (polled every ``weights_poll``
        seconds), whatever the scoring rounds are doing."""
        last = -1
        while not stop.is_set():
            try:
                height = await self._height(chain)
                if height != last:
                    last = await self.weights_step(chain)
            except ROUND_ERRORS as e:
                log.warning("weights step failed (retrying): %s: %s", type(e).__name__, e)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.cfg.weights_poll)

    def _publish_round(self, answers: list[AxonAnswer]) -> None:
        m, n = self.metrics, str(self.cfg.netuid)
        m.miners_queried.labels(n).set(len(answers))
        m.miners_reachable.labels(n).set(sum(a.ok for a in answers))
        m.set_scores(self.cfg.netuid, self.scores.scores)

    def _publish_weights(self, height: int, hp: dict[str, Any]) -> None:
        m, n = self.metrics, str(self.cfg.netuid)
        me = self.metagraph.neuron(self.key.address)
        # the chain's last_update (set by a reveal or set_weights, and at registration) holds
        # across restarts, so a validator in a crash loop still shows its real gap
        last = max(me.last_update if me else 0, self.setter.status.last_weights_height or 0)
        m.blocks_since_weights.labels(n).set(max(0, height - (last or self.start_height or height)))
        m.permit.labels(n).set(1 if me is not None and me.validator_permit else 0)
        window = int(hp["tempo"]) + 1
        interval = max(int(hp["weights_rate_limit"]), window)
        if int(hp["commit_reveal"]):
            interval += 2 * window
        m.weights_interval.labels(n).set(interval)
        m.commits_pending.labels(n).set(len(self.setter.pending))
        for (kind, outcome), count in self.setter.txs.items():
            seen = self._txs_seen.get((kind, outcome), 0)
            if count > seen:
                m.weights_txs.labels(n, kind, outcome).inc(count - seen)
                self._txs_seen[(kind, outcome)] = count
