"""A large rollout dump scored with Ray Data: ``harness score`` at cluster scale.

Each actor of the pool holds its own ``RewardService`` (engine, checker pool, judgment cache)
and scores batches of rows ``{"prompt_id", "response"}``, adding ``reward``, ``rubric``,
``global``, ``code`` (NaN when unscored or absent) and ``reason``::

    import ray
    from harness.serving.build import EngineSettings
    from harness.serving.ray_data import score_dataset

    rows = ray.data.read_json("rollouts/*.jsonl")
    scored = score_dataset(rows, "specs.jsonl", EngineSettings(grader="openai/gpt-4.1-mini"), actors=8)
    scored.write_json("rewards/")
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import ray

from harness.serving.build import EngineSettings, build_service
from harness.serving.configured import LoopThread
from harness.serving.service import RewardItem


class BatchScorer:
    """One Ray Data actor: a service on its own event loop thread (judge clients stay bound to
    one loop across batches)."""

    def __init__(self, specs: str, settings: EngineSettings | None = None) -> None:
        # no deadline: an offline job waits for every judgment (timeouts still end as unscored)
        self.service = build_service(specs, settings or EngineSettings(), deadline_s=None)
        self.loop = LoopThread("harness-batch-scorer")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = [
            RewardItem(response=str(r), spec_id=str(p))
            for p, r in zip(batch["prompt_id"], batch["response"], strict=True)
        ]
        rewards = self.loop.run(self.service.score(items))
        out: dict[str, Any] = dict(batch)
        out["reward"] = np.array([math.nan if r.reward is None else r.reward for r in rewards])
        for name in ("rubric", "global", "code"):
            out[name] = np.array([r.components[name] for r in rewards])
        out["reason"] = np.array([r.reason or "" for r in rewards], dtype=object)
        return out


def score_dataset(
    rows: ray.data.Dataset,
    specs: str,
    settings: EngineSettings | None = None,
    *,
    actors: int = 1,
    batch_size: int = 256,
) -> ray.data.Dataset:
    """``rows`` with their rewards, scored by a pool of ``actors`` scorers (lazy, as Ray Data is)."""
    return rows.map_batches(
        BatchScorer,
        fn_constructor_args=(specs, settings),
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
    )
