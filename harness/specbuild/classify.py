"""Task classification: a coarse label per prompt, which selects the rubric-generation module.

One cheap LLM call per prompt with structured output (``{"label": ..., "reason": ...}``), retried
on malformed output like every judge call. A label can also be supplied (``labels=``), skipping
the call. A prompt the model cannot label is not guessed: the result says so, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspect_ai.model import (
    ChatMessage,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ResponseSchema,
)
from inspect_ai.util import JSONSchema

from harness.judges.calling import DEFAULT_MAX_ATTEMPTS, JudgeReplyError, TokenUsage, ask_judge
from harness.judges.parsing import extract_json, one_line
from harness.judges.rubric import with_schema

TEMPLATE_VERSION = "classify@1"

TASK_LABELS: dict[str, str] = {
    "instruction_following": "the prompt states explicit, checkable constraints on the answer's form (length, format, keywords, case, structure, language)",
    "creative_writing": "fiction, poetry, scripts, role-play or other imaginative writing",
    "practical_writing": "professional or practical documents: emails, reports, proposals, summaries, marketing copy",
    "advice": "advice or decision support for the user's own situation (personal, medical, legal, financial, career)",
    "knowledge": "explaining, teaching or answering a factual or conceptual question",
    "coding": "writing, fixing, explaining or reviewing code",
    "safety_sensitive": "requests where the main question is whether and how to help safely (harmful, dangerous or deceptive intent)",
}


@dataclass(frozen=True)
class Classification:
    label: str | None
    """One of TASK_LABELS, or None when no label could be had (see ``failure``)."""
    reason: str
    source: str
    """'supplied' or the classifier model's name."""
    usage: TokenUsage
    failure: str | None = None


def messages(prompt: str) -> list[ChatMessage]:
    labels = "\n".join(f"- {name}: {meaning}" for name, meaning in TASK_LABELS.items())
    system = (
        "You sort user prompts into coarse task types, so that each can be graded with the right "
        f"kind of rubric. The types:\n{labels}\n\n"
        "Pick the single type that best describes what a good answer must mainly get right; prefer "
        "instruction_following when explicit, checkable constraints dominate.\n"
        'Reply with one JSON object and nothing else: {"label": "<type>", "reason": "<one line>"}'
    )
    return [
        ChatMessageSystem(content=system),
        ChatMessageUser(content=f"<prompt>\n{prompt}\n</prompt>"),
    ]


def response_schema() -> ResponseSchema:
    schema = JSONSchema(
        type="object",
        properties={
            "label": JSONSchema(type="string", enum=list(TASK_LABELS)),
            "reason": JSONSchema(type="string"),
        },
        required=["label", "reason"],
        additionalProperties=False,
    )
    return ResponseSchema(name="task_label", json_schema=schema, strict=True)


def parse(text: str) -> tuple[str, str]:
    data = extract_json(text)
    if not isinstance(data, dict):
        raise JudgeReplyError('expected {"label": ..., "reason": ...}')
    label = str(data.get("label", "")).strip().lower()
    if label not in TASK_LABELS:
        raise JudgeReplyError(
            f"label must be one of {sorted(TASK_LABELS)}, got {data.get('label')!r}"
        )
    return label, one_line(data.get("reason"))


async def classify(
    prompt: str,
    model: Model | None = None,
    *,
    supplied: str | None = None,
    config: GenerateConfig | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    structured: bool = True,
) -> Classification:
    """The task label of a prompt: the supplied one if given (validated), else the model's."""
    if supplied is not None:
        if supplied not in TASK_LABELS:
            raise ValueError(
                f"unknown task label {supplied!r}; expected one of {sorted(TASK_LABELS)}"
            )
        return Classification(supplied, "supplied", "supplied", TokenUsage())
    if model is None:
        raise ValueError("classifying a prompt needs a model (or a supplied label)")
    reply = await ask_judge(
        model,
        messages(prompt),
        parse,
        config=with_schema(
            config or GenerateConfig(temperature=0.0), response_schema() if structured else None
        ),
        max_attempts=max_attempts,
    )
    if not reply.ok or reply.value is None:
        return Classification(None, "", str(model), reply.usage, failure=reply.failure)
    label, reason = reply.value
    return Classification(label, reason, str(model), reply.usage)
