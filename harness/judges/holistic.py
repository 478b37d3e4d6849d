"""The global judge: an independent holistic 0-10 judgment that never sees the rubric."""

from __future__ import annotations

from inspect_ai.model import (
    ChatMessage,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ResponseSchema,
)
from inspect_ai.util import JSONSchema
from pydantic import BaseModel

from harness.judges.calling import DEFAULT_MAX_ATTEMPTS, JudgeReply, JudgeReplyError, ask_judge
from harness.judges.parsing import ReplyTemplate, extract_json, one_line, parse_number
from harness.judges.rubric import render_conversation, with_schema
from harness.spec import RewardSpec


class GlobalGrade(BaseModel):
    score: float
    """The judge's 0-10 score; the global component is clip(score / 10, 0, 1)."""
    rationale: str


_RATIONALE_HINT = "<two or three sentences>"
_SCORE_HINT = "<number from 0 to 10>"


_GLOBAL_SCHEMA = ResponseSchema(
    name="global_score",
    json_schema=JSONSchema(
        type="object",
        properties={"rationale": JSONSchema(type="string"), "score": JSONSchema(type="number")},
        required=["rationale", "score"],
        additionalProperties=False,
    ),
    strict=True,
)
"""Shared by every call (read-only)."""


class GlobalJudge:
    name = "global"
    version = "1"
    reply_template: ReplyTemplate = ReplyTemplate(placeholders=(_RATIONALE_HINT, _SCORE_HINT))
    """Placeholders and example replies the prompt shows (a reply copying them is malformed)."""

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def messages(self, spec: RewardSpec, response: str) -> list[ChatMessage]:
        system = (
            "You are an expert evaluator of AI assistant responses. Rate the overall quality of the "
            "candidate response to the last user turn of the conversation on a 0-10 scale: how well it "
            "serves the user's actual need, its correctness, completeness, adherence to every explicit "
            "instruction, clarity, and safety. 0 = useless or harmful, 5 = adequate with clear flaws, "
            "10 = excellent with nothing meaningful to improve. Do not reward length for its own sake.\n\n"
            "Reply with one JSON object and nothing else:\n"
            f'{{"rationale": "{_RATIONALE_HINT}", "score": {_SCORE_HINT}}}'
        )
        user = (
            f"# Conversation\n<conversation>\n{render_conversation(spec)}\n</conversation>\n\n"
            f"# Candidate response\n<response>\n{response}\n</response>"
        )
        return [ChatMessageSystem(content=system), ChatMessageUser(content=user)]

    def response_schema(self) -> ResponseSchema:
        return _GLOBAL_SCHEMA

    def parse(self, text: str) -> GlobalGrade:
        data = extract_json(text)
        if not isinstance(data, dict) or "score" not in data:
            raise JudgeReplyError('expected {"rationale": ..., "score": ...}')
        score = parse_number(data["score"], "score")
        if not 0 <= score <= 10:
            raise JudgeReplyError(f"score must be between 0 and 10, got {data['score']!r}")
        return GlobalGrade(
            score=score, rationale=one_line(data.get("rationale", data.get("reason")))
        )

    async def grade(
        self,
        model: Model,
        spec: RewardSpec,
        response: str,
        *,
        config: GenerateConfig | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        structured: bool = True,
    ) -> JudgeReply[GlobalGrade]:
        return await ask_judge(
            model,
            self.messages(spec, response),
            self.parse,
            config=with_schema(config, self.response_schema() if structured else None),
            max_attempts=max_attempts,
            template=self.reply_template.without(render_conversation(spec), response),
        )
