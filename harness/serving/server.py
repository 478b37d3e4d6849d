"""``harness serve``: the reward service over HTTP (FastAPI), for trainers that call a remote reward.

Endpoints:
- ``POST /score`` — ``{"items": [{"response", "spec_id" | "prompt_hash" | "prompt"}], "step":
  optional, "detail": false}`` → ``{"rewards": [{"reward", "rubric", "global", "code", "reason",
  "result"}]}`` (``result``, the full record, only with ``detail``);
- ``POST /openrlhf`` — OpenRLHF's remote reward protocol: ``{"query", "prompts", "labels"}`` →
  ``{"rewards", "scores", "extra_logs"}`` (labels name the specs);
- ``POST /slime`` — slime's remote reward: ``{"prompt", "response", "label"}`` → ``{"score",
  "rubric", "global", "code", "unscored", "reason"}`` (``--reward-key score``);
- ``GET /health``, ``GET /metrics`` (queue depth, latency percentiles, cache hit rate, unscored
  by reason).

A bad request (malformed JSON, a missing field, an unknown spec, a body over the size limit) gets
a 4xx with one clear message; nothing a client sends stops the server.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.serving.adapters import flat, openrlhf_items, openrlhf_reply, slime_item
from harness.serving.service import RewardItem, RewardService, UnknownSpecError

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    response: str
    spec_id: str | None = None
    prompt_hash: str | None = None
    prompt: str | list[dict[str, Any]] | None = None


class ScoreIn(BaseModel):
    """A ``/score`` request (also what the Ray Serve deployment takes)."""

    model_config = ConfigDict(extra="forbid")
    items: list[ItemIn]
    step: int | None = Field(default=None, ge=0)
    detail: bool = False

    def reward_items(self) -> list[RewardItem]:
        return [RewardItem(**item.model_dump()) for item in self.items]


class OpenRLHFIn(BaseModel):
    query: list[str]
    prompts: list[str]
    labels: list[Any] | None = None


class SlimeIn(BaseModel):
    prompt: str | list[dict[str, Any]] | None = None
    response: str
    label: Any = None


def _first_error(ex: RequestValidationError) -> str:
    errors = ex.errors()
    if not errors:
        return "invalid request"
    err = errors[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'body'}: {err.get('msg', 'invalid')}{more}"


class BodyLimit:
    """Refuses a request body over ``max_bytes`` with a 413: at once when its declared length
    is over, else as it streams in (a chunked body has no length to check up front)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self, size: int | None) -> str:
        got = f" of {size} bytes" if size is not None else ""
        return f"request body{got} is over the {self.max_bytes}-byte limit"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            reply = JSONResponse({"detail": self._too_large(int(length))}, status_code=413)
            await reply(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # FastAPI answers an HTTPException as it is
                    raise HTTPException(413, self._too_large(None))
            return message

        await self.app(scope, limited, send)


def create_app(service: RewardService, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> FastAPI:
    """The HTTP app over ``service`` (one engine: warm checker pool, judgment cache, specs)."""
    app = FastAPI(title="harness reward service")

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, ex: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _first_error(ex)}, status_code=422)

    @app.exception_handler(UnknownSpecError)
    async def unknown_spec(request: Request, ex: UnknownSpecError) -> JSONResponse:
        return JSONResponse({"detail": str(ex)}, status_code=404)

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, ex: ValueError) -> JSONResponse:
        return JSONResponse({"detail": str(ex)}, status_code=400)

    @app.post("/score")
    async def score(body: ScoreIn) -> dict[str, Any]:
        rewards = await service.score(body.reward_items(), step=body.step)
        return {"rewards": [r.to_json(body.detail) for r in rewards]}

    @app.post("/openrlhf")
    async def openrlhf(body: OpenRLHFIn) -> Response:
        # with several servers OpenRLHF sends the others empty lists
        items = openrlhf_items(body.query, body.prompts, body.labels)
        reply = openrlhf_reply(await service.score(items) if items else [])
        # NaN (a component unscored or absent) as Python's json reads it: OpenRLHF makes each
        # extra_logs value a tensor, which null would break
        return Response(json.dumps(reply, allow_nan=True), media_type="application/json")

    @app.post("/slime")
    async def slime(body: SlimeIn) -> dict[str, Any]:
        [reward] = await service.score([slime_item(body.prompt, body.response, body.label)])
        return {
            k: (None if isinstance(v, float) and v != v else v) for k, v in flat(reward).items()
        }

    @app.get("/health")
    async def health() -> dict[str, Any]:
        engine = service.engine
        return {
            "status": "ok",
            "rubric_judge": None if engine.rubric_judge is None else str(engine.rubric_judge),
            "global_judge": None if engine.global_judge is None else str(engine.global_judge),
            "checkers": engine.checker_runtime is not None,
        }

    @app.get("/metrics")
    async def metrics() -> dict[str, Any]:
        return service.snapshot()

    return app
