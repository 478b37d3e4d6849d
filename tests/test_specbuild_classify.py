"""Task classification with a scripted classifier (mockllm reading the request)."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import ScriptedJudge

from harness.specbuild.classify import TASK_LABELS, classify


def run(coro):
    return asyncio.run(coro)


def test_label_from_the_model_with_schema_and_usage() -> None:
    judge = ScriptedJudge(
        lambda prompt, n: json.dumps({"label": "coding", "reason": "asks for a function"})
    )
    result = run(classify("Write a Python function that reverses a list.", judge.model()))
    assert (result.label, result.reason, result.failure) == ("coding", "asks for a function", None)
    assert "Write a Python function" in judge.prompts[0]
    assert judge.configs[0].response_schema.json_schema.properties["label"].enum == list(
        TASK_LABELS
    )
    assert result.usage.calls == 1 and result.usage.input_tokens > 0


def test_case_and_fences_are_tolerated() -> None:
    judge = ScriptedJudge(
        lambda prompt, n: '```json\n{"label": "Creative_Writing", "reason": "a poem"}\n```'
    )
    assert run(classify("A poem about rain.", judge.model())).label == "creative_writing"


@pytest.mark.parametrize(
    "reply", ['{"label": "poetry"}', "creative writing", '{"reason": "no label"}']
)
def test_malformed_labels_are_retried_then_left_unlabelled(reply: str) -> None:
    judge = ScriptedJudge(lambda prompt, n: reply)
    result = run(classify("A poem about rain.", judge.model(), max_attempts=2))
    assert result.label is None
    assert "(2 attempts)" in result.failure
    assert judge.calls == 2


def test_retry_recovers() -> None:
    judge = ScriptedJudge(
        lambda prompt, n: "?" if n == 1 else json.dumps({"label": "advice", "reason": "r"})
    )
    assert run(classify("Should I take the job?", judge.model())).label == "advice"
    assert judge.calls == 2


def test_supplied_labels_skip_the_call_and_are_validated() -> None:
    result = run(classify("anything", supplied="knowledge"))
    assert (result.label, result.source, result.usage.calls) == ("knowledge", "supplied", 0)
    with pytest.raises(ValueError, match="unknown task label"):
        run(classify("anything", supplied="poems"))
    with pytest.raises(ValueError, match="needs a model"):
        run(classify("anything"))
