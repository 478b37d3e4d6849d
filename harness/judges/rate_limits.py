"""Requests- and tokens-per-minute limits on judge calls: a provider's quota, shared by every
role that calls the same model (rubric and global judges on one API key draw from one budget).

Each judge call first takes one request and its estimated input tokens (characters / 4) from
leaky buckets (``aiolimiter``); once the reply is in, the tokens it used beyond the estimate
(its output, and any underestimate) are charged in the background, so later calls wait for
them while this one returns at once. A limit only delays calls: it never fails or drops one.

A bucket lets a burst of a sixth of the budget through at once, then drains at five sixths of
it per minute, so no 60-second window ever goes over the quota.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiolimiter import AsyncLimiter
from inspect_ai.model import ChatMessage, Model, ModelOutput

CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests_per_minute`` calls and ``tokens_per_minute`` tokens (input + output)."""

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")


@dataclass
class _Buckets:
    requests: AsyncLimiter | None
    tokens: AsyncLimiter | None
    charges: set[asyncio.Task[None]] = field(default_factory=set)

    async def take_tokens(self, amount: float) -> None:
        assert self.tokens is not None
        while amount > 0:  # a bucket gives at most its capacity at once
            part = min(amount, self.tokens.max_rate)
            await self.tokens.acquire(part)
            amount -= part


_limits: dict[str, _Buckets] = {}


def set_rate_limit(model: Model | str, limit: RateLimit | None) -> None:
    """Limit calls to ``model`` (by name: every instance of it shares the budget); None lifts it."""
    name = str(model)
    if limit is None or (limit.requests_per_minute is None and limit.tokens_per_minute is None):
        _limits.pop(name, None)
        return
    _limits[name] = _Buckets(
        _bucket(limit.requests_per_minute) if limit.requests_per_minute else None,
        _bucket(limit.tokens_per_minute) if limit.tokens_per_minute else None,
    )


def _bucket(per_minute: float) -> AsyncLimiter:
    burst = max(1.0, per_minute / 6)
    per_second = (per_minute - burst if per_minute > burst else per_minute) / 60
    return AsyncLimiter(burst, time_period=burst / per_second)


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    return sum(len(m.text) for m in messages) // CHARS_PER_TOKEN + 1


async def before_call(model: Model, messages: Sequence[ChatMessage]) -> int:
    """Wait for room for one call; the tokens taken for it (to settle with ``after_call``)."""
    if not _limits:  # no budget set anywhere (the usual case): nothing to look up
        return 0
    buckets = _limits.get(str(model))
    if buckets is None:
        return 0
    if buckets.requests is not None:
        await buckets.requests.acquire()
    if buckets.tokens is None:
        return 0
    estimate = estimate_tokens(messages)
    await buckets.take_tokens(estimate)
    return estimate


def after_call(model: Model, taken: int, output: ModelOutput | None) -> None:
    """Charge the tokens the call used beyond ``taken`` (without holding up its caller)."""
    if not _limits:
        return
    buckets = _limits.get(str(model))
    if buckets is None or buckets.tokens is None or output is None or output.usage is None:
        return
    excess = output.usage.total_tokens - taken
    if excess > 0:
        task = asyncio.get_running_loop().create_task(buckets.take_tokens(excess))
        buckets.charges.add(task)
        task.add_done_callback(buckets.charges.discard)
