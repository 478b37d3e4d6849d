"""The scorer that module-level trainer adapters use, and the event loop their synchronous forms
run on.

This state lives apart from ``harness.serving.adapters`` because trainers load that file by
path (verl's ``custom_reward_function.path``, OpenRLHF's ``--reward.remote_url file.py``), which
makes a second copy of the module; every copy imports this one, so ``configure`` holds for all.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, Protocol, TypeVar

from harness.serving.service import ItemReward, RewardItem

T = TypeVar("T")


class Scorer(Protocol):
    """A ``RewardService``, or a client of ``harness serve`` (``RemoteRewardService``)."""

    async def score(
        self, items: Sequence[RewardItem], *, step: int | None = None
    ) -> list[ItemReward]: ...


class LoopThread:
    """An event loop on a daemon thread. Synchronous callers on many threads (verl's executor,
    OpenRLHF's ``asyncio.to_thread``, a Ray actor) share one loop, so their items micro-batch
    together and loop-bound clients (judges, HTTP) stay on one loop."""

    def __init__(self, name: str = "harness-reward-loop") -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name=name, daemon=True).start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if _running_loop() is self.loop:
            coro.close()
            raise RuntimeError("a synchronous adapter was called from the reward loop itself")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_configured: Scorer | None = None
_loop_thread: LoopThread | None = None
_lock = threading.Lock()


def configure(scorer: Scorer | None) -> None:
    """The scorer the module-level adapters use (None: build one from the environment)."""
    global _configured
    with _lock:
        _configured = scorer


def configured_scorer() -> Scorer:
    global _configured
    with _lock:
        if _configured is None:
            _configured = _scorer_from_environment()
        return _configured


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine for a synchronous adapter on the shared reward loop."""
    global _loop_thread
    with _lock:
        if _loop_thread is None:
            _loop_thread = LoopThread()
    return _loop_thread.run(coro)


def _scorer_from_environment() -> Scorer:
    url = os.environ.get("HARNESS_REWARD_URL")
    if url:
        from harness.serving.client import RemoteRewardService

        return RemoteRewardService(url)
    specs = os.environ.get("HARNESS_SPECS")
    if not specs:
        raise RuntimeError(
            "no reward service configured: set HARNESS_REWARD_URL (a running `harness serve`) "
            "or HARNESS_SPECS (a spec store) with HARNESS_GRADER (a judge model; unset: "
            "checkers only), or call harness.serving.adapters.configure(service)"
        )
    from harness.serving.build import build_service

    return build_service(
        specs,
        grader=os.environ.get("HARNESS_GRADER"),
        checker_runtime=os.environ.get("HARNESS_CHECKER_RUNTIME", "auto"),
    )
