"""Past one machine: the reward service as a Ray Serve deployment (replicas, each with its own
engine, checker pool and judgment cache; judges are API models or vLLM replicas behind an
OpenAI-compatible endpoint, named like any Inspect model).

Trainers already on Ray (verl, OpenRLHF) call the deployment handle in-cluster::

    from ray import serve
    from harness.serving.build import EngineSettings
    from harness.serving.ray_serve import RewardDeployment

    app = RewardDeployment.options(num_replicas=4).bind("specs.jsonl", EngineSettings(grader="vllm/Qwen/Qwen3-32B"))
    handle = serve.run(app, name="reward", route_prefix="/reward")
    rewards = handle.score.remote({"items": [{"response": ..., "spec_id": ...}], "step": 3}).result()

and anything else POSTs the same JSON to ``http://<head>:8000/reward`` (Ray Serve's proxy).
"""

from __future__ import annotations

from typing import Any

from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from harness.serving.build import EngineSettings, build_service
from harness.serving.server import ScoreIn
from harness.serving.service import DEFAULT_DEADLINE_S, UnknownSpecError


@serve.deployment(max_ongoing_requests=256)
class RewardDeployment:
    """One replica: a ``RewardService`` over the spec store ``specs`` (a path every replica can
    read, e.g. on shared storage)."""

    def __init__(
        self,
        specs: str,
        settings: EngineSettings | None = None,
        deadline_s: float | None = DEFAULT_DEADLINE_S,
    ) -> None:
        self.service = build_service(specs, settings or EngineSettings(), deadline_s=deadline_s)

    async def score(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``{"items": [{"response", "spec_id" | "prompt_hash" | "prompt"}], "step"}`` →
        ``{"rewards": [{"reward", "rubric", "global", "code", "reason"}]}``: ``POST /score``'s
        request and reply."""
        body = ScoreIn.model_validate(payload)  # a bad body: ValidationError, a ValueError
        rewards = await self.service.score(body.reward_items(), step=body.step)
        return {"rewards": [r.to_json(body.detail) for r in rewards]}

    def metrics(self) -> dict[str, Any]:
        return self.service.snapshot()

    async def __call__(self, request: Request) -> JSONResponse:
        try:
            return JSONResponse(await self.score(await request.json()))
        except UnknownSpecError as ex:
            return JSONResponse({"detail": str(ex)}, status_code=404)
        except (ValueError, TypeError) as ex:
            return JSONResponse({"detail": f"bad request: {ex}"}, status_code=400)
