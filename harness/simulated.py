"""A judge with a chosen latency and failure rates, as an Inspect model: ``simulated/<name>``.

For sizing a reward service or benchmarking the scoring core before paying for a judge::

    --model-role 'grader={model: simulated/judge, model_args: {latency: 0.1, jitter: 0.02}}'
    get_model("simulated/judge", latency=0.1, error_rate=0.01, malformed_rate=0.02)

Each call sleeps ``latency`` seconds (± uniform ``jitter``) without using the CPU, then answers
the project's judge prompts validly: every criterion of a rubric prompt (single call or one
criterion), the 0-10 global score, anything else with a short text. The criteria are read from
the structured-output schema when the call has one, else from the prompt's rubric
sections. Verdicts are a deterministic function of the prompt (the same prompt gets the same
answer, different responses different ones), so scores are reproducible and non-trivial.

``error_rate``: the fraction of calls that raise an error (as a failing provider would: the
caller's retries see it); ``malformed_rate``: the fraction answered with text no judge parser
accepts. Both are decided from the prompt and a per-model call counter with ``seed``, so a run is
reproducible and a retry of a failed call may succeed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from harness.judges.rubric import criterion_ids_in
from harness.replay import OfflineModelAPI

PROVIDER = "simulated"


class SimulatedJudgeError(RuntimeError):
    """The error a simulated call raises (``error_rate``)."""


def _fraction(value: Any, name: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError(f"{PROVIDER}: {name} must be in [0, 1], got {value!r}")
    return number


def _digest(text: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    )


class SimulatedJudgeAPI(OfflineModelAPI):
    """Sleeps, then answers the judge prompt validly (see the module doc)."""

    provider = PROVIDER

    def setup(  # type: ignore[override]
        self,
        latency: float = 0.1,
        jitter: float = 0.0,
        error_rate: float = 0.0,
        malformed_rate: float = 0.0,
        seed: int = 0,
        **model_args: Any,
    ) -> None:
        super().setup(**model_args)
        self.latency, self.jitter = float(latency), float(jitter)
        if self.latency < 0 or self.jitter < 0 or self.jitter > self.latency:
            raise ValueError(f"{PROVIDER}: need 0 <= jitter <= latency, got {latency}, {jitter}")
        self.error_rate = _fraction(error_rate, "error_rate")
        self.malformed_rate = _fraction(malformed_rate, "malformed_rate")
        self.seed = int(seed)
        self.calls = 0

    def max_connections(self) -> int:
        return 10_000  # a simulated server: the caller's --max-connections is the only limit

    def connection_key(self) -> str:
        # each simulated/<name> is its own server (Inspect shares one limit per key)
        return self.model_name

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        text = "\n".join(m.text for m in input)
        self.calls += 1
        key = _digest(text)
        chance = random.Random(f"{self.seed}:{key}:{self.calls}")
        delay = self.latency + chance.uniform(-self.jitter, self.jitter)
        await asyncio.sleep(delay)
        if chance.random() < self.error_rate:
            raise SimulatedJudgeError(f"{PROVIDER}: simulated provider error")
        if chance.random() < self.malformed_rate:
            content = "I cannot grade this."  # no JSON object: every judge parser refuses it
        else:
            content = answer(text, config, random.Random(f"{self.seed}:{key}"))
        words = len(text.split())
        output = ModelOutput.from_content(model=self.model_name, content=content)
        output.usage = ModelUsage(
            input_tokens=words,
            output_tokens=len(content.split()),
            total_tokens=words + len(content.split()),
        )
        return output


def _schema_name(config: GenerateConfig) -> str | None:
    schema = config.response_schema
    return schema.name if schema is not None else None


def _verdicts_from_schema(config: GenerateConfig) -> tuple[list[str] | None, list[Any] | None]:
    """(criterion ids, verdict options) of a rubric schema, where it names them."""
    schema = config.response_schema
    if schema is None:
        return None, None
    root = schema.json_schema
    props = root.properties or {}
    entry = props["criteria"].items if "criteria" in props else root
    entry_props = (entry.properties or {}) if entry is not None else {}
    ids = entry_props["id"].enum if "id" in entry_props else None
    verdict = entry_props.get("verdict")
    options = verdict.enum if verdict is not None else None
    if verdict is not None and verdict.type == "integer":
        options = list(range(1, 11))
    return ids, options


def answer(text: str, config: GenerateConfig, rng: random.Random) -> str:
    """A valid reply to one of the project's judge prompts (deterministic given ``rng``)."""
    name = _schema_name(config)
    if name == "global_score" or (name is None and "on a 0-10 scale" in text):
        return json.dumps({"rationale": "simulated", "score": rng.randint(0, 10)})
    ids, options = _verdicts_from_schema(config)
    if options is None:  # no schema: the scale the prompt asks for
        options = (
            list(range(1, 11))
            if "<integer 1-10>" in text
            else ["yes", "partial", "no"]
            if "yes|partial|no" in text
            else ["yes", "no"]
        )
    if name == "criterion_verdict" or (
        name is None and "Grade the response on the criterion by" in text
    ):
        return json.dumps({"verdict": rng.choice(options), "reason": "simulated"})
    ids = ids or criterion_ids_in(text)
    if not ids:
        return "simulated reply"
    return json.dumps(
        {
            "criteria": [
                {"id": i, "verdict": rng.choice(options), "reason": "simulated"} for i in ids
            ]
        }
    )


@modelapi(name=PROVIDER)
def simulated() -> type[ModelAPI]:
    """The ``simulated/<name>`` model provider (a judge with a chosen latency)."""
    return SimulatedJudgeAPI
