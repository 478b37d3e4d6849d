"""Rubric judges: grade every criterion of a spec against one response.

Two protocols of our own:
- ``SingleCallRubric`` grades all criteria in one call (the default; the shared part of the
  prompt comes first and the response last, so rollouts of one prompt share a cacheable prefix);
- ``PerCriterionRubric`` makes one call per criterion (HealthBench's reference style), for
  ablations and comparison.
Benchmarks with an official judging protocol subclass these (see ``harness.benchmarks``). A
protocol's ``id`` (name@version) is part of the judgment cache key: change a template, bump its
version. A protocol declares in ``reply_template`` the placeholders and example replies its
prompt shows: a reply that copies them is malformed (retried, then unscored), never a verdict.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Sequence
from typing import Any

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

from harness.judges.calling import (
    DEFAULT_MAX_ATTEMPTS,
    JudgeReply,
    JudgeReplyError,
    TokenUsage,
    ask_judge,
)
from harness.judges.parsing import ReplyTemplate, extract_json, normalise_verdict, one_line
from harness.spec import Criterion, RewardSpec, VerdictScale


class CriterionJudgment(BaseModel):
    id: str
    verdict: str
    """'yes' / 'partial' / 'no', or the integer score on a 1-10 scale."""
    value: float
    """The verdict mapped to [0, 1]."""
    reason: str


class RubricGrades(BaseModel):
    judgments: list[CriterionJudgment]
    notes: list[str] = []


# Prompts are kept near the token floor (conversation + rubric + response, each once): every
# word here is paid on every judged rollout. The response comes last, so everything before it
# is one cacheable prefix for all rollouts of a prompt.
_SCALE_RULES: dict[VerdictScale, str] = {
    "yes_partial_no": "yes = fully met, partial = clearly but only partly met, no = not met",
    "yes_no": "yes = fully met, no = not met",
    "one_to_ten": "an integer from 1 (fails it) to 10 (meets it perfectly), using its bands when given",
}
_PITFALLS = "Pitfalls (yes = the response commits it)"


def render_conversation(spec: RewardSpec) -> str:
    if isinstance(spec.prompt, str):
        return f"user: {spec.prompt}"
    return "\n\n".join(f"{m.role}: {m.content}" for m in spec.prompt)


def render_criterion(c: Criterion, scale: VerdictScale) -> str:
    # continuation lines are indented, so every line at the margin starts a criterion
    lines = [f"{c.id}: " + c.text.replace("\n", "\n    ")]
    if scale == "one_to_ten":
        lines += [f"    {band}: {text}" for band, text in c.anchors.items()]
    return "\n".join(lines)


def render_rubric(criteria: Sequence[Criterion], scale: VerdictScale) -> str:
    """Criteria to meet, then pitfalls (negative weight) to avoid, each under its own heading;
    weights are not shown (they matter to the reward, not to the verdict)."""
    sections = []
    for heading, group in (
        ("Criteria", [c for c in criteria if c.weight > 0]),
        (_PITFALLS, [c for c in criteria if c.weight < 0]),
    ):
        if group:
            body = "\n".join(render_criterion(c, scale) for c in group)
            sections.append(f"{heading}:\n{body}")
    return "\n\n".join(sections)


def criterion_ids_in(prompt: str) -> list[str]:
    """The criterion ids listed in one of our rubric prompts, in prompt order (for simulated
    and scripted judges that see only the prompt)."""
    rubric = prompt.split("\n\n<response>\n", 1)[0]
    blocks = re.findall(r"^(?:Criteria|Pitfalls)[^\n]*:\n(.*?)(?:\n\n|\Z)", rubric, re.M | re.S)
    return [i for block in blocks for i in re.findall(r"^(\S+): ", block, re.M)]


_VERDICT_HINTS: dict[VerdictScale, str] = {
    "yes_partial_no": "yes|partial|no",
    "yes_no": "yes|no",
    "one_to_ten": "<integer 1-10>",
}
_REASON_HINT = "<one line>"


def _verdict_hint(scale: VerdictScale) -> str:
    return _VERDICT_HINTS[scale]


def _verdict_schema(scale: VerdictScale) -> JSONSchema:
    if scale == "one_to_ten":
        return JSONSchema(type="integer")
    options = ["yes", "partial", "no"] if scale == "yes_partial_no" else ["yes", "no"]
    return JSONSchema(type="string", enum=options)


# Schemas are built once per rubric shape and shared (read-only) by every call: building one
# per call, and copying it, cost more CPU than the rest of a judge call.
@functools.lru_cache(maxsize=4096)
def _rubric_schema(ids: tuple[str, ...], scale: VerdictScale) -> ResponseSchema:
    entry = JSONSchema(
        type="object",
        properties={
            "id": JSONSchema(type="string", enum=list(ids)),
            "verdict": _verdict_schema(scale),
            "reason": JSONSchema(type="string"),
        },
        required=["id", "verdict", "reason"],
        additionalProperties=False,
    )
    schema = JSONSchema(
        type="object",
        properties={"criteria": JSONSchema(type="array", items=entry)},
        required=["criteria"],
        additionalProperties=False,
    )
    return ResponseSchema(name="rubric_verdicts", json_schema=schema, strict=True)


@functools.lru_cache(maxsize=8)
def _criterion_schema(scale: VerdictScale) -> ResponseSchema:
    schema = JSONSchema(
        type="object",
        properties={"verdict": _verdict_schema(scale), "reason": JSONSchema(type="string")},
        required=["verdict", "reason"],
        additionalProperties=False,
    )
    return ResponseSchema(name="criterion_verdict", json_schema=schema, strict=True)


_WITH_SCHEMA: dict[tuple[int, int], tuple[GenerateConfig, ResponseSchema, GenerateConfig]] = {}


def with_schema(config: GenerateConfig | None, schema: ResponseSchema | None) -> GenerateConfig:
    """The judge config, plus a structured-output schema when the protocol has one."""
    config = config or GenerateConfig()
    if schema is None:
        return config
    # one copy per (config, schema) pair, shared read-only by every call that passes them
    known = _WITH_SCHEMA.get((id(config), id(schema)))  # holds its objects: ids stay theirs
    if known is not None:
        return known[2]
    # shallow: the schema is shared, never changed (Inspect copies what it keeps)
    combined = config.model_copy(update={"response_schema": schema})
    if len(_WITH_SCHEMA) >= 4096:
        _WITH_SCHEMA.clear()
    _WITH_SCHEMA[(id(config), id(schema))] = (config, schema, combined)
    return combined


class RubricProtocol:
    """A way of asking a judge for per-criterion verdicts."""

    name: str = "rubric"
    version: str = "1"
    reply_template: ReplyTemplate = ReplyTemplate()
    """Placeholders and example replies the prompt shows (a reply copying them is malformed).
    A protocol with its own prompt declares its own; by default it inherits its parent's."""

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def template_for(self, spec: RewardSpec, response: str) -> ReplyTemplate:
        """``reply_template`` less what the judged material (conversation, rubric, response)
        contains: a judge may quote it."""
        # the spec's part once per spec (every rollout of a prompt shares it)
        known: dict[tuple, ReplyTemplate] = self.__dict__.setdefault("_spec_templates", {})
        key = (spec.version, tuple(c.id for c in spec.criteria))
        template = known.get(key)
        if template is None:
            rubric = [t for c in spec.criteria for t in (c.text, *c.anchors.values())]
            template = self.reply_template.without(render_conversation(spec), *rubric)
            if len(known) >= 4096:
                known.clear()
            known[key] = template
        return template.without(response)

    async def grade(
        self,
        model: Model,
        spec: RewardSpec,
        response: str,
        *,
        config: GenerateConfig | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        structured: bool = True,
    ) -> JudgeReply[RubricGrades]:
        """Per-criterion verdicts for one response; ``structured`` asks for schema-constrained JSON."""
        raise NotImplementedError


class SingleCallRubric(RubricProtocol):
    """All criteria of a response graded in one judge call, with structured JSON output."""

    name = "rubric_single"
    version = "2"
    reply_template = ReplyTemplate(placeholders=("<id>", _REASON_HINT, *_VERDICT_HINTS.values()))

    def messages(self, spec: RewardSpec, response: str) -> list[ChatMessage]:
        scale = spec.verdict_scale
        system = (
            "Grade the response on each criterion by substance, not length or style: "
            f"{_SCALE_RULES[scale]}. Reply in JSON: "
            f'{{"criteria":[{{"id":"<id>","verdict":"{_verdict_hint(scale)}","reason":"{_REASON_HINT}"}}]}}'
        )
        user = (
            f"{render_conversation(spec)}\n\n{render_rubric(spec.criteria, scale)}\n\n"
            f"<response>\n{response}\n</response>"
        )
        return [ChatMessageSystem(content=system), ChatMessageUser(content=user)]

    def response_schema(self, spec: RewardSpec) -> ResponseSchema:
        return _rubric_schema(tuple(c.id for c in spec.criteria), spec.verdict_scale)

    def parse(self, text: str, spec: RewardSpec) -> RubricGrades:
        data = extract_json(text)
        entries: Any = data.get("criteria") if isinstance(data, dict) else data
        if isinstance(entries, dict):  # {"c1": {"verdict": ...}} or {"c1": "yes"}
            entries = [
                {"id": k, **v} if isinstance(v, dict) else {"id": k, "verdict": v}
                for k, v in entries.items()
            ]
        if not isinstance(entries, list):
            raise JudgeReplyError('expected {"criteria": [...]} with one entry per criterion')
        wanted = {c.id for c in spec.criteria}
        found: dict[str, CriterionJudgment] = {}
        extra: list[str] = []
        for entry in entries:
            if not isinstance(entry, dict) or "id" not in entry:
                raise JudgeReplyError(f"criterion entry without an id: {str(entry)[:80]!r}")
            cid = str(entry["id"]).strip().strip("[]")
            if cid not in wanted:
                extra.append(cid)
                continue
            raw_verdict = entry.get("verdict", entry.get("score"))
            verdict, value = normalise_verdict(raw_verdict, spec.verdict_scale)
            judgment = CriterionJudgment(
                id=cid, verdict=verdict, value=value, reason=one_line(entry.get("reason"))
            )
            if cid in found and found[cid].verdict != verdict:
                raise JudgeReplyError(f"conflicting verdicts for criterion {cid}")
            found[cid] = judgment
        missing = [c.id for c in spec.criteria if c.id not in found]
        if missing:
            raise JudgeReplyError(f"no verdict for criteria {missing}")
        notes = [f"ignored verdicts for unknown criteria {extra}"] if extra else []
        return RubricGrades(judgments=[found[c.id] for c in spec.criteria], notes=notes)

    async def grade(
        self,
        model: Model,
        spec: RewardSpec,
        response: str,
        *,
        config: GenerateConfig | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        structured: bool = True,
    ) -> JudgeReply[RubricGrades]:
        return await ask_judge(
            model,
            self.messages(spec, response),
            lambda text: self.parse(text, spec),
            config=with_schema(config, self.response_schema(spec) if structured else None),
            max_attempts=max_attempts,
            template=self.template_for(spec, response),
        )


class PerCriterionRubric(RubricProtocol):
    """One judge call per criterion. Subclasses override ``messages`` and ``parse``."""

    name = "rubric_per_criterion"
    version = "2"
    reply_template = ReplyTemplate(placeholders=(_REASON_HINT, *_VERDICT_HINTS.values()))

    def messages(self, spec: RewardSpec, criterion: Criterion, response: str) -> list[ChatMessage]:
        scale = spec.verdict_scale
        system = (
            "Grade the response on the criterion by substance, not length or style: "
            f"{_SCALE_RULES[scale]}. Reply in JSON: "
            f'{{"verdict":"{_verdict_hint(scale)}","reason":"{_REASON_HINT}"}}'
        )
        user = (
            f"{render_conversation(spec)}\n\n{render_rubric([criterion], scale)}\n\n"
            f"<response>\n{response}\n</response>"
        )
        return [ChatMessageSystem(content=system), ChatMessageUser(content=user)]

    def response_schema(self, spec: RewardSpec) -> ResponseSchema | None:
        """Structured-output schema of one reply (None: the protocol asks for free text JSON)."""
        return _criterion_schema(spec.verdict_scale)

    def parse(self, text: str, spec: RewardSpec, criterion: Criterion) -> CriterionJudgment:
        data = extract_json(text)
        if not isinstance(data, dict):
            raise JudgeReplyError("expected a JSON object")
        verdict, value = normalise_verdict(
            data.get("verdict", data.get("score")), spec.verdict_scale
        )
        return CriterionJudgment(
            id=criterion.id, verdict=verdict, value=value, reason=one_line(data.get("reason"))
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
    ) -> JudgeReply[RubricGrades]:
        config = with_schema(config, self.response_schema(spec) if structured else None)
        template = self.template_for(spec, response)

        async def one(c: Criterion) -> JudgeReply[CriterionJudgment]:
            return await ask_judge(
                model,
                self.messages(spec, c, response),
                lambda text: self.parse(text, spec, c),
                config=config,
                max_attempts=max_attempts,
                template=template,
            )

        replies = await asyncio.gather(*(one(c) for c in spec.criteria))
        usage = TokenUsage()
        for r in replies:
            usage.add(r.usage)
        attempts = max((r.attempts for r in replies), default=0)
        failed = [
            (c.id, r.failure) for c, r in zip(spec.criteria, replies, strict=True) if not r.ok
        ]
        raw = json.dumps(
            {c.id: r.raw for c, r in zip(spec.criteria, replies, strict=True)}, ensure_ascii=False
        )
        if failed:
            by_reason: dict[str, list[str]] = {}
            for cid, why in failed:
                by_reason.setdefault(why or "", []).append(cid)
            reason = "; ".join(
                f"criteria {', '.join(ids)}: {why}" for why, ids in by_reason.items()
            )
            return JudgeReply(None, usage, attempts, raw, reason)
        grades = RubricGrades(judgments=[r.value for r in replies if r.value is not None])
        return JudgeReply(grades, usage, attempts, raw)
