"""One reward service for every trainer: spec lookup, micro-batching, deadlines and metrics over
one ``RewardEngine``.

Trainer adapters (``harness.serving.adapters``) and the HTTP server (``harness serve``) only
translate their trainer's shapes into ``RewardItem`` and back; scoring is the engine's. What the
service adds for online RL:

- **spec lookup** by spec id, prompt hash or the prompt itself (a chat-format prompt with one
  user turn also finds a spec stored with the plain-text prompt);
- **micro-batching**: items of concurrent requests arriving within ``batch_window_s`` go to the
  engine as one batch, so a GRPO group shares one checker request and identical completions are
  judged once (the engine's in-flight deduplication);
- **deadlines**: an item not scored within ``deadline_s`` comes back unscored with the reason
  and is counted — a slow or hanging judge never holds up a training step;
- **backpressure**: at most ``max_pending`` items are accepted at once; later requests wait for
  room (within their deadline);
- **metrics**: requests, items, queue depth, latency percentiles, cache hit rate, unscored by reason.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.scoring import RewardEngine, RewardResult, ScoreRequest
from harness.spec import Prompt, RewardSpec, prompt_hash

DEFAULT_DEADLINE_S = 120.0


class UnknownSpecError(LookupError):
    """No spec in the store for an item (a configuration error, not an unscored response)."""


class SpecSource(Protocol):
    def get(self, prompt_id: str, version: str | None = None) -> RewardSpec | None: ...

    def get_by_prompt_hash(self, prompt_hash: str) -> RewardSpec | None: ...


@dataclass(frozen=True)
class RewardItem:
    """One response to score and how to find its spec: ``spec_id`` (the spec's prompt id),
    else ``prompt_hash``, else ``prompt`` (text or chat messages)."""

    response: str
    spec_id: str | None = None
    prompt_hash: str | None = None
    prompt: Prompt | str | Sequence[Mapping[str, Any]] | None = None


@dataclass
class ItemReward:
    """The reward of one item: ``reward`` is None when nothing could be scored (``reason`` says
    why); ``components`` has rubric/global/code (NaN when unscored or absent)."""

    reward: float | None
    components: dict[str, float]
    reason: str | None = None
    result: RewardResult | None = None

    def to_json(self, detail: bool = False) -> dict[str, Any]:
        """JSON-safe (NaN components as null); ``detail`` adds the full record as ``result``."""
        data: dict[str, Any] = {
            "reward": self.reward,
            **{k: None if math.isnan(v) else v for k, v in self.components.items()},
            "reason": self.reason,
        }
        if detail:
            data["result"] = (
                None if self.result is None else self.result.model_dump(mode="json", by_alias=True)
            )
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ItemReward:
        """The reward ``to_json`` wrote (null components back to NaN; no full record)."""
        return cls(
            data["reward"],
            {k: math.nan if data[k] is None else data[k] for k in _NO_COMPONENTS},
            data["reason"],
        )


_NO_COMPONENTS = {"rubric": math.nan, "global": math.nan, "code": math.nan}


def unscored(reason: str) -> ItemReward:
    """An item nothing could score, and why."""
    return ItemReward(None, dict(_NO_COMPONENTS), reason)


def _reward_of(result: RewardResult) -> ItemReward:
    values = result.values()
    reward = values.pop("reward")
    return ItemReward(
        None if math.isnan(reward) else reward,
        values,
        None if result.reward is not None else result.reward_reason,
        result,
    )


def _prompt_keys(prompt: Any) -> list[str]:
    """Prompt hashes to try: the prompt as given, and for chat messages with a single user turn
    (what trainers pass for a plain-text prompt) the text of that turn."""
    if isinstance(prompt, str):
        return [prompt_hash(prompt)]
    messages = [m if isinstance(m, Mapping) else m.model_dump() for m in prompt]
    messages = [{"role": m["role"], "content": m["content"]} for m in messages]
    keys = [prompt_hash(messages)]
    users = [m for m in messages if m["role"] == "user"]
    if len(messages) == 1 and users:
        keys.append(prompt_hash(users[0]["content"]))
    return keys


@dataclass
class _Pending:
    request: ScoreRequest
    step: int | None
    future: asyncio.Future[RewardResult | Exception]
    """Holds an exception as its result (not set_exception): an item whose request stopped
    waiting (deadline) must not leave an unretrieved exception behind."""


@dataclass
class ServiceMetrics:
    """Counters since start; ``snapshot()`` is what ``/metrics`` serves."""

    requests: int = 0
    items: int = 0
    scored: int = 0
    unscored: Counter[str] = field(default_factory=Counter)
    """Unscored items by reason (the reason's first clause), deadline misses included."""
    judgments: int = 0
    cached_judgments: int = 0
    batches: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))

    def snapshot(self, pending: int, in_flight: int) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(q: float) -> float | None:
            return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None

        return {
            "requests": self.requests,
            "items": self.items,
            "scored": self.scored,
            "unscored": dict(self.unscored),
            "queue_depth": pending,
            "in_flight": in_flight,
            "batches": self.batches,
            "cache_hit_rate": self.cached_judgments / self.judgments if self.judgments else None,
            "latency_s": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "count": len(lat)},
        }


def _reason_kind(reason: str | None) -> str:
    text = reason or "unknown"
    return text.split(":", 1)[0].split(" (", 1)[0].strip()[:80]


class RewardService:
    """Scores ``RewardItem``s with one engine; safe to share across concurrent requests."""

    def __init__(
        self,
        engine: RewardEngine,
        specs: SpecSource,
        *,
        deadline_s: float | None = DEFAULT_DEADLINE_S,
        batch_window_s: float = 0.005,
        max_batch: int = 1024,
        max_pending: int = 16_384,
    ) -> None:
        if deadline_s is not None and deadline_s <= 0:
            raise ValueError("deadline_s must be positive (or None for no deadline)")
        self.engine = engine
        self.specs = specs
        self.deadline_s = deadline_s
        self.batch_window_s = batch_window_s
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.metrics = ServiceMetrics()
        self._queue: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._in_flight = 0
        self._room: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- specs -----------------------------------------------------------------------------

    def spec_for(self, item: RewardItem) -> RewardSpec:
        """The item's spec; ``UnknownSpecError`` naming what was looked up when there is none."""
        tried: list[str] = []
        if item.spec_id is not None:
            spec = self.specs.get(item.spec_id)
            if spec is not None:
                return spec
            tried.append(f"spec id {item.spec_id!r}")
        hashes = [item.prompt_hash] if item.prompt_hash else []
        if item.prompt is not None:
            hashes += _prompt_keys(item.prompt)
        for h in hashes:
            spec = self.specs.get_by_prompt_hash(h)
            if spec is not None:
                return spec
        if item.prompt_hash:
            tried.append(f"prompt hash {item.prompt_hash[:12]}…")
        if item.prompt is not None:
            tried.append("the prompt's hash")
        if not tried:
            raise UnknownSpecError("an item needs spec_id, prompt_hash or prompt to find its spec")
        raise UnknownSpecError(f"no spec in the store for {' or '.join(tried)}")

    # -- scoring ---------------------------------------------------------------------------

    async def score(
        self, items: Sequence[RewardItem], *, step: int | None = None
    ) -> list[ItemReward]:
        """Rewards of ``items`` in order. Specs are resolved first (``UnknownSpecError`` before
        any judge is paid); an item past the deadline is unscored with the reason."""
        started = time.perf_counter()
        if self.engine.hybrid.schedule is not None and step is None:
            raise ValueError("the reward has a global-weight schedule: pass the training step")
        requests = [ScoreRequest(self.spec_for(item), item.response) for item in items]
        self.metrics.requests += 1  # accepted requests: a bad one is the client's 4xx
        self.metrics.items += len(items)
        self._bind_loop()
        assert self._room is not None
        deadline = None if self.deadline_s is None else started + self.deadline_s
        futures: list[asyncio.Future[RewardResult | Exception] | None] = []
        try:
            for request in requests:
                if not await self._admit(deadline):
                    futures.append(None)
                    continue
                future: asyncio.Future[RewardResult | Exception] = self._loop.create_future()  # type: ignore[union-attr]
                self._queue.append(_Pending(request, step, future))
                futures.append(future)
                if len(self._queue) >= self.max_batch:
                    self._flush()
                elif self._flusher is None:
                    self._flusher = self._loop.create_task(self._flush_later())  # type: ignore[union-attr]
            live = [f for f in futures if f is not None]
            if live:
                timeout = None if deadline is None else max(0.0, deadline - time.perf_counter())
                await asyncio.wait(live, timeout=timeout)
        except asyncio.CancelledError:  # the caller went away: its items are not scored here
            self.metrics.unscored["cancelled"] += len(items)
            raise
        rewards = [self._collect(f) for f in futures]
        self.metrics.latencies.append(time.perf_counter() - started)
        return rewards

    def _collect(self, future: asyncio.Future[RewardResult | Exception] | None) -> ItemReward:
        result = None if future is None or not future.done() else future.result()
        if result is None:
            reward = unscored(
                f"deadline exceeded: not scored within {self.deadline_s:g} s "
                "(judge or checkers too slow; raise the deadline or the judge's max connections)"
            )
        elif isinstance(result, Exception):
            reward = unscored(f"scoring failed: {type(result).__name__}: {result}")
        else:
            reward = _reward_of(result)
            for name in ("rubric", "global"):
                usage = result.component(name).usage
                if usage.calls or usage.cached:
                    self.metrics.judgments += 1
                    self.metrics.cached_judgments += usage.cached
        if reward.reward is None:
            self.metrics.unscored[_reason_kind(reward.reason)] += 1
        else:
            self.metrics.scored += 1
        return reward

    async def _admit(self, deadline: float | None) -> bool:
        """Room for one more item (backpressure), or False past the deadline."""
        assert self._room is not None
        timeout = None if deadline is None else deadline - time.perf_counter()
        if timeout is not None and timeout <= 0:
            return False
        try:
            await asyncio.wait_for(self._room.acquire(), timeout)
        except TimeoutError:
            return False
        return True

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a service is used from one loop at a time
            if self._queue or self._in_flight:
                raise RuntimeError("a RewardService is in use on another event loop")
            self._loop, self._room = loop, asyncio.Semaphore(self.max_pending)
            self._flusher = None

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.batch_window_s)
        self._flusher = None
        self._flush()

    def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            by_step: dict[int | None, list[_Pending]] = {}
            for pending in batch:
                by_step.setdefault(pending.step, []).append(pending)
            for step, group in by_step.items():
                task = self._loop.create_task(self._run(group, step))  # type: ignore[union-attr]
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _run(self, group: list[_Pending], step: int | None) -> None:
        self.metrics.batches += 1
        self._in_flight += len(group)
        try:
            results = await self.engine.score_batch([p.request for p in group], step=step)
        except Exception as ex:  # every waiting item learns why
            for p in group:
                if not p.future.done():
                    p.future.set_result(ex)
        else:
            for p, result in zip(group, results, strict=True):
                if not p.future.done():
                    p.future.set_result(result)
        finally:
            self._in_flight -= len(group)
            assert self._room is not None
            for _ in group:
                self._room.release()

    def snapshot(self) -> dict[str, Any]:
        return self.metrics.snapshot(len(self._queue), self._in_flight)
