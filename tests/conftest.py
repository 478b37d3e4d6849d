"""Shared fixtures: the local data override and scripted judges.

Scripted judges are ``mockllm/model`` with a callable that reads the judge prompt and answers
as a judge would; they stand in for the LLM only. Each reply carries exact token usage
(words in / words out) so token accounting can be asserted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
os.environ.setdefault("HARNESS_DATA_DIR", str(SHARED_DATA))
os.environ.setdefault(
    "TIKTOKEN_CACHE_DIR", str(Path(os.environ["HARNESS_DATA_DIR"]) / "tiktoken_cache")
)

from inspect_ai import eval  # noqa: E402
from inspect_ai.log import EvalLog, read_eval_log  # noqa: E402
from inspect_ai.model import ChatMessage, GenerateConfig, Model, ModelOutput, ModelUsage, get_model  # noqa: E402

from harness.judges.rubric import criterion_ids_in  # noqa: E402
from harness.spec import Checker, Criterion, Provenance, RewardSpec  # noqa: E402

Reply = str | ModelOutput


def prompt_text(messages: list[ChatMessage]) -> str:
    return "\n".join(m.text for m in messages)


def words(text: str) -> int:
    return len(text.split())


class ScriptedJudge:
    """A mockllm judge. ``script(prompt, call_number) -> str | ModelOutput``."""

    def __init__(self, script: Callable[[str, int], Reply]) -> None:
        self.script = script
        self.prompts: list[str] = []
        self.configs: list[GenerateConfig] = []

    def __call__(
        self, input: list[ChatMessage], tools: Any, tool_choice: Any, config: GenerateConfig
    ) -> ModelOutput:
        text = prompt_text(input)
        self.prompts.append(text)
        self.configs.append(config)
        reply = self.script(text, len(self.prompts))
        if isinstance(reply, str):
            reply = ModelOutput.from_content(model="mockllm/model", content=reply)
        if reply.usage is None:
            reply.usage = ModelUsage(
                input_tokens=words(text),
                output_tokens=words(reply.completion),
                total_tokens=words(text) + words(reply.completion),
            )
        return reply

    @property
    def calls(self) -> int:
        return len(self.prompts)

    def model(self) -> Model:
        return get_model("mockllm/model", custom_outputs=self, memoize=False)


def rubric_ids(prompt: str) -> list[str]:
    """Criterion ids in one of our rubric prompts."""
    return criterion_ids_in(prompt)


def is_global(prompt: str) -> bool:
    return "on a 0-10 scale" in prompt


def standard_judge(
    verdicts: dict[str, Any], global_score: float = 7, reason: str = "because"
) -> ScriptedJudge:
    """Answers our rubric prompts (single-call or per-criterion) with ``verdicts`` and the global prompt with a score."""

    def script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "solid overall", "score": global_score})
        ids = rubric_ids(prompt)
        if "Grade the response on the criterion by" in prompt:  # per-criterion mode
            return json.dumps({"verdict": verdicts[ids[0]], "reason": reason})
        return json.dumps(
            {"criteria": [{"id": i, "verdict": verdicts[i], "reason": reason} for i in ids]}
        )

    return ScriptedJudge(script)


def make_spec(
    criteria: list[tuple[str, str, float]] | None = None,
    checkers: list[tuple[str, str, str]] | None = None,
    prompt: str = "Write a haiku about the sea, in lowercase, with the word 'salt'.",
    **kwargs: Any,
) -> RewardSpec:
    criteria = (
        criteria
        if criteria is not None
        else [
            ("c1", "Is a haiku (three lines, 5-7-5 syllables).", 3.0),
            ("c2", "Is about the sea.", 2.0),
            ("c3", "Uses vivid sensory imagery.", 1.0),
        ]
    )
    return RewardSpec(
        prompt_id=kwargs.pop("prompt_id", "p1"),
        prompt=prompt,
        task_label=kwargs.pop("task_label", "creative_writing"),
        criteria=tuple(Criterion(id=i, text=t, weight=w) for i, t, w in criteria),
        checkers=tuple(Checker(id=i, constraint=c, source=s) for i, c, s in (checkers or [])),
        provenance=Provenance(builder="test", created_at="2026-01-01T00:00:00+00:00"),
        **kwargs,
    )


@pytest.fixture
def spec() -> RewardSpec:
    return make_spec()


def run_eval(task, tmp_path: Path, roles: dict, **kwargs) -> EvalLog:
    """eval() with the mock policy and the given judge roles; the log, read back from disk."""
    [log] = eval(
        task,
        model="mockllm/model",
        model_roles=roles,
        log_dir=str(tmp_path),
        display="none",
        **kwargs,
    )
    assert log.status == "success", log.error
    return read_eval_log(log.location)


def headline_of(log: EvalLog) -> tuple[str, str, float]:
    """(scorer, metric, value) of a log's headline, as ``inspect_ai.analysis.evals_df`` reads it."""
    from inspect_ai.analysis import evals_df

    row = evals_df(log.location, quiet=True).iloc[0]
    return row.score_headline_name, row.score_headline_metric, row.score_headline_value


def inspect_cli(
    *args: str, columns: int = 400, env: dict[str, str] | None = None
) -> tuple[int, list[str]]:
    """Run ``inspect <args>`` from the checkout as a user would — this interpreter's Inspect (an
    ``inspect`` on PATH may be another environment's) —: (exit status, non-blank output lines,
    stdout then stderr). ``columns``: rich wraps its messages at the terminal width."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "inspect_ai", *args],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
        env={**(env or os.environ), "NO_COLOR": "1", "COLUMNS": str(columns)},
    )
    return proc.returncode, [
        line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()
    ]


def metrics_of(log: EvalLog) -> dict[str, float]:
    """All metrics of a log as {"scorer/metric": value}."""
    return {f"{s.name}/{k}": m.value for s in log.results.scores for k, m in s.metrics.items()}
