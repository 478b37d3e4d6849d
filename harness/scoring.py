"""The scoring core: (spec, response) -> RewardResult, without needing an Inspect eval.

Rubric judge, global judge and checkers run concurrently. A component is ``scored``,
``unscored`` (it should have a value but could not get one: the reason says why) or
``absent`` (the spec has nothing for it, or it was not requested). The hybrid reward is
combined over the scored components only, and says so.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from inspect_ai.model import GenerateConfig, Model
from pydantic import BaseModel, ConfigDict, Field

from harness.cache import JudgmentCache, judgment_key
from harness.checkers import CheckerRuntime, CheckerVerdict, CheckItem
from harness.judges.calling import DEFAULT_MAX_ATTEMPTS, JudgeReply, TokenUsage, effective_config
from harness.judges.holistic import GlobalGrade, GlobalJudge
from harness.judges.rubric import RubricGrades, RubricProtocol, SingleCallRubric
from harness.reward import COMPONENTS, HybridConfig, combine, rubric_score
from harness.spec import Prompt, RewardSpec, prompt_hash
from harness.spec import response_hash as _utf8_response_hash

Status = Literal["scored", "unscored", "absent"]
METADATA_KEY = "reward_result"
DEFAULT_JUDGE_CONFIG = GenerateConfig(temperature=0.0)
"""Our judge settings where neither the task nor the judge's role sets its own."""

# How a call is made, not what it answers: left out of the judgment cache key.
_OPERATIONAL = {
    "max_retries",
    "timeout",
    "attempt_timeout",
    "stream_idle_timeout",
    "max_connections",
    "adaptive_connections",
    "cache",
    "batch",
    "extra_headers",
    "fail_on_refusal",
}


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def response_hash(response: str) -> str:
    """``harness.spec.response_hash`` for any Python str: a lone surrogate (it arrives from model
    output and JSON) is hashed with ``surrogatepass`` instead of raising; well-formed text hashes
    exactly as before (plain UTF-8), so cache keys and stored results keep their values."""
    try:
        return _utf8_response_hash(response)
    except UnicodeEncodeError:
        return hashlib.sha256(response.encode("utf-8", "surrogatepass")).hexdigest()


class ComponentResult(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    status: Status
    value: float | None = None
    reason: str | None = None
    judge: str | None = None
    protocol: str | None = None
    usage: TokenUsage = Field(default_factory=TokenUsage)
    attempts: int = 0
    raw_output: str | None = None
    """The judge's last reply when the component is unscored (to see what went wrong)."""


class CriterionRecord(BaseModel):
    id: str
    text: str
    weight: float
    verdict: str
    value: float
    reason: str
    covered_by: str | None = None
    """The checker that verifies this criterion: judged for audit only (``audit_covered``),
    not part of the rubric score."""
    category: str | None = None
    """The spec's category of the criterion (e.g. explicit / implicit / pitfall)."""


class RubricResult(ComponentResult):
    criteria: list[CriterionRecord] = []
    unclipped: float | None = None
    """Score before clipping to [0, 1] (can be negative with pitfalls; HealthBench averages it)."""
    notes: list[str] = []


class GlobalResult(ComponentResult):
    score: float | None = None
    """The judge's raw 0-10 score."""
    rationale: str | None = None


class CheckRecord(BaseModel):
    id: str
    constraint: str
    status: Literal["pass", "fail", "error"]
    error_kind: str | None = None
    message: str | None = None
    duration_s: float | None = None


class CodeResult(ComponentResult):
    checks: list[CheckRecord] = []


class RewardResult(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    prompt_id: str
    spec_version: str
    response_hash: str
    reward: float | None
    reward_reason: str | None = None
    rubric: RubricResult
    global_: GlobalResult = Field(alias="global")
    code: CodeResult
    weights: dict[str, float]
    formula: str
    step: int | None = None

    @classmethod
    def from_metadata(cls, metadata: dict | None) -> RewardResult | None:
        """The result a reward scorer stored in Score.metadata (None if there is none)."""
        data = (metadata or {}).get(METADATA_KEY)
        return None if data is None else cls.model_validate(data)

    def to_metadata(self) -> dict:
        return {METADATA_KEY: self.model_dump(mode="json", by_alias=True)}

    def component(self, name: str) -> ComponentResult:
        return {"rubric": self.rubric, "global": self.global_, "code": self.code}[name]

    def values(self) -> dict[str, float]:
        """reward/rubric/global/code with NaN for anything absent or unscored (Inspect's convention)."""
        out = {"reward": math.nan if self.reward is None else self.reward}
        for name in COMPONENTS:
            v = self.component(name).value
            out[name] = math.nan if v is None else v
        return out

    @property
    def unscored(self) -> dict[str, str]:
        return {
            n: self.component(n).reason or ""
            for n in COMPONENTS
            if self.component(n).status == "unscored"
        }

    @property
    def usage(self) -> TokenUsage:
        total = TokenUsage()
        for name in COMPONENTS:
            total.add(self.component(name).usage)
        return total


@dataclass(frozen=True)
class ScoreRequest:
    spec: RewardSpec
    response: str
    prompt: Prompt | str | None = None
    """The prompt the response answered; checked against the spec's prompt when given."""


def _check_prompt(spec: RewardSpec, prompt: Prompt | str | list | None) -> None:
    if prompt is None:
        return
    if isinstance(prompt, str) and prompt == spec.prompt_text:
        return
    try:
        if prompt_hash(prompt) == spec.prompt_hash:
            return
    except UnicodeEncodeError:  # a lone surrogate: no spec hash matches (text compared above)
        pass
    raise ValueError(
        f"spec {spec.prompt_id} (prompt hash {spec.prompt_hash[:12]}…) was built for a different prompt"
    )


class RewardEngine:
    """Scores responses against reward specs with judge models and a checker runtime."""

    def __init__(
        self,
        *,
        rubric_judge: Model | None = None,
        global_judge: Model | None = None,
        checker_runtime: CheckerRuntime | None = None,
        rubric_protocol: RubricProtocol | None = None,
        global_protocol: GlobalJudge | None = None,
        hybrid: HybridConfig | None = None,
        cache: JudgmentCache | None = None,
        judge_config: GenerateConfig | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        components: Sequence[str] = COMPONENTS,
        structured_output: bool = True,
        audit_covered: bool = False,
    ) -> None:
        unknown = set(components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.rubric_judge = rubric_judge
        self.global_judge = global_judge
        self.checker_runtime = checker_runtime
        self.rubric_protocol = rubric_protocol or SingleCallRubric()
        self.global_protocol = global_protocol or GlobalJudge()
        self.hybrid = hybrid or HybridConfig()
        self.cache = cache if cache is not None else JudgmentCache()
        # Defaults only: a judge role's own settings (--model-role 'grader={model: ...,
        # temperature: ...}') win over these, per call (see harness.judges.calling).
        self.judge_config = DEFAULT_JUDGE_CONFIG.merge(judge_config or GenerateConfig())
        self.max_attempts = max_attempts
        self.components = tuple(components)
        # Schema-constrained JSON where the provider supports it (OpenAI, vLLM, Anthropic, ...);
        # turn off for servers that reject response schemas. Replies are parsed the same way.
        self.structured_output = structured_output
        # The judge also grades criteria a checker verifies, recorded apart from the score,
        # so checker-judge disagreement can be read (harness compare); costs judge tokens.
        self.audit_covered = audit_covered
        self._key_settings: dict[int, tuple[GenerateConfig, dict[str, Any]]] = {}

    # -- public API -----------------------------------------------------------------------

    async def score(
        self,
        spec: RewardSpec,
        prompt: Prompt | str | None,
        response: str,
        *,
        step: int | None = None,
    ) -> RewardResult:
        return (await self.score_batch([ScoreRequest(spec, response, prompt)], step=step))[0]

    async def score_batch(
        self, requests: Sequence[ScoreRequest], *, step: int | None = None
    ) -> list[RewardResult]:
        """Score many responses; checkers of the whole batch go to the runtime in one request."""
        if self.hybrid.schedule is not None and step is None:
            raise ValueError("the hybrid config has a global-weight schedule: pass step=")
        for r in requests:
            _check_prompt(r.spec, r.prompt)
        code_task = asyncio.ensure_future(self._code_batch(requests))
        judged = await asyncio.gather(
            *(
                asyncio.gather(self._rubric(r.spec, r.response), self._global(r.spec, r.response))
                for r in requests
            )
        )
        codes = await code_task
        results = []
        for r, (rubric, glob), code in zip(requests, judged, codes, strict=True):
            results.append(self._assemble(r, rubric, glob, code, step))
        return results

    # -- components -----------------------------------------------------------------------

    def _key(
        self, component: str, spec: RewardSpec, response: str, model: Model, protocol_id: str
    ) -> str:
        # the settings part of the key, once per judge model (its config object)
        known = self._key_settings.get(id(model))
        if known is None or known[0] is not model.config:
            settings = effective_config(model, self.judge_config)
            known = (
                model.config,
                {
                    **settings.model_dump(exclude_none=True, exclude=_OPERATIONAL),
                    "structured": self.structured_output,
                },
            )
            self._key_settings[id(model)] = known
        config = known[1]
        return judgment_key(
            component, spec.version, response_hash(response), str(model), protocol_id, config
        )

    async def _judge(
        self,
        component: str,
        model: Model,
        protocol: RubricProtocol | GlobalJudge,
        spec: RewardSpec,
        response: str,
        result_type: type[RubricGrades] | type[GlobalGrade],
    ) -> JudgeReply:
        """A judgment from the cache, or from the judge (then cached if it succeeded)."""
        key = self._key(component, spec, response, model, protocol.id)
        while True:
            cached = self.cache.get(key)
            if cached is not None:
                return JudgeReply(
                    result_type.model_validate(cached), TokenUsage(cached=True), 0, ""
                )
            future, first = self.cache.claim(key)
            if first:
                break
            # the same judgment is being made (a GRPO group repeats rollouts): share its reply
            try:
                reply = await asyncio.shield(future)
            except asyncio.CancelledError:
                if future.cancelled() and not _being_cancelled():
                    continue  # the first caller was cancelled, not us: judge it ourselves
                raise
            return replace(reply, usage=TokenUsage(cached=True), attempts=0)
        try:
            reply = await protocol.grade(
                model,
                spec,
                response,
                config=self.judge_config,
                max_attempts=self.max_attempts,
                structured=self.structured_output,
            )
        except BaseException:
            self.cache.land(key, future)
            future.cancel()
            raise
        if reply.ok and reply.value is not None:
            self.cache.put(key, reply.value.model_dump())
        self.cache.land(key, future)  # after put: a later caller finds the cached judgment
        future.set_result(reply)
        return reply

    async def _rubric(self, spec: RewardSpec, response: str) -> RubricResult:
        if "rubric" not in self.components:
            return RubricResult(status="absent", reason="rubric component not requested")
        if not spec.criteria:
            return RubricResult(status="absent", reason="spec has no rubric criteria")
        graded = spec.graded_criteria
        covered = len(spec.criteria) - len(graded)
        audit = self.audit_covered and covered > 0
        if not graded and not audit:
            return RubricResult(status="absent", reason="every criterion is verified by a checker")
        if covered and not audit:
            # the judge sees only what no checker verifies (same version: same cache key)
            spec = spec.model_copy(update={"criteria": graded})
        if self.rubric_judge is None:
            return RubricResult(
                status="unscored", reason="no rubric judge model bound (bind the grader role)"
            )
        model, protocol = self.rubric_judge, self.rubric_protocol
        # an audited call grades more criteria than a plain one: its own cache entry
        component = "rubric_audit" if audit else "rubric"
        reply = await self._judge(component, model, protocol, spec, response, RubricGrades)
        common = {
            "judge": str(model),
            "protocol": protocol.id,
            "usage": reply.usage,
            "attempts": reply.attempts,
        }
        if not reply.ok or reply.value is None:
            return RubricResult(
                status="unscored", reason=reply.failure, raw_output=reply.raw, **common
            )
        grades: RubricGrades = reply.value
        by_id = {j.id: j for j in grades.judgments}
        records = [
            CriterionRecord(
                id=c.id,
                text=c.text,
                weight=c.weight,
                verdict=by_id[c.id].verdict,
                value=by_id[c.id].value,
                reason=by_id[c.id].reason,
                covered_by=c.covered_by,
                category=c.category,
            )
            for c in spec.criteria
        ]
        notes = [
            *grades.notes,
            *(
                [
                    f"{covered} criteria verified by checkers, "
                    + ("judged for audit only, not in the score" if audit else "not graded here")
                ]
                if covered
                else []
            ),
        ]
        if not graded:  # audit of a rubric that checkers verify entirely
            return RubricResult(
                status="absent",
                reason="every criterion is verified by a checker (judged for audit only)",
                criteria=records,
                notes=notes,
                **common,
            )
        clipped, unclipped = rubric_score(graded, {j.id: j.value for j in grades.judgments})
        return RubricResult(
            status="scored",
            value=clipped,
            unclipped=unclipped,
            criteria=records,
            notes=notes,
            **common,
        )

    async def _global(self, spec: RewardSpec, response: str) -> GlobalResult:
        if "global" not in self.components:
            return GlobalResult(status="absent", reason="global component not requested")
        if self.global_judge is None:
            return GlobalResult(
                status="unscored", reason="no global judge model bound (bind the grader role)"
            )
        model, protocol = self.global_judge, self.global_protocol
        reply = await self._judge("global", model, protocol, spec, response, GlobalGrade)
        common = {
            "judge": str(model),
            "protocol": protocol.id,
            "usage": reply.usage,
            "attempts": reply.attempts,
        }
        if not reply.ok or reply.value is None:
            return GlobalResult(
                status="unscored", reason=reply.failure, raw_output=reply.raw, **common
            )
        grade: GlobalGrade = reply.value
        return GlobalResult(
            status="scored",
            value=min(1.0, max(0.0, grade.score / 10)),
            score=grade.score,
            rationale=grade.rationale,
            **common,
        )

    async def _code_batch(self, requests: Sequence[ScoreRequest]) -> list[CodeResult]:
        results: list[CodeResult | None] = [None] * len(requests)
        todo: list[int] = []
        for i, r in enumerate(requests):
            if "code" not in self.components:
                results[i] = CodeResult(status="absent", reason="code component not requested")
            elif not r.spec.checkers:
                results[i] = CodeResult(status="absent", reason="spec has no checkers")
            elif self.checker_runtime is None:
                results[i] = CodeResult(
                    status="unscored",
                    reason="spec has checkers but no checker runtime is configured",
                )
            else:
                todo.append(i)
        if todo:
            assert self.checker_runtime is not None
            items = [CheckItem(requests[i].spec, requests[i].response) for i in todo]
            try:
                verdicts = await self.checker_runtime.check(items)
                if len(verdicts) != len(items):
                    raise RuntimeError(
                        f"runtime returned {len(verdicts)} results for {len(items)} items"
                    )
            except Exception as ex:
                reason = f"checker runtime failed: {type(ex).__name__}: {ex}"
                for i in todo:
                    results[i] = CodeResult(status="unscored", reason=reason)
            else:
                for i, item_verdicts in zip(todo, verdicts, strict=True):
                    results[i] = self._code_result(requests[i].spec, item_verdicts)
        return [r for r in results if r is not None]

    def _code_result(self, spec: RewardSpec, verdicts: Sequence[CheckerVerdict]) -> CodeResult:
        ids = [v.checker_id for v in verdicts]
        expected = [c.id for c in spec.checkers]
        if ids != expected:
            return CodeResult(
                status="unscored",
                reason=f"runtime returned verdicts for {ids}, expected {expected}",
            )
        records = [
            CheckRecord(
                id=c.id,
                constraint=c.constraint,
                status=v.status,
                error_kind=v.error_kind,
                message=v.message,
                duration_s=v.duration_s,
            )
            for c, v in zip(spec.checkers, verdicts, strict=True)
        ]
        errors = [r for r in records if r.status == "error"]
        if errors and self.hybrid.checker_errors == "unscored":
            detail = ", ".join(f"{r.id} ({r.error_kind}: {r.message})" for r in errors)
            return CodeResult(
                status="unscored",
                reason=f"{len(errors)} checker(s) errored: {detail}",
                checks=records,
            )
        passed = sum(r.status == "pass" for r in records)
        return CodeResult(status="scored", value=passed / len(records), checks=records)

    # -- assembly -------------------------------------------------------------------------

    def _assemble(
        self,
        request: ScoreRequest,
        rubric: RubricResult,
        glob: GlobalResult,
        code: CodeResult,
        step: int | None,
    ) -> RewardResult:
        all_passed = None if not code.checks else all(c.status == "pass" for c in code.checks)
        outcome = combine(
            {"rubric": rubric.value, "global": glob.value, "code": code.value},
            self.hybrid,
            step=step,
            all_checkers_passed=all_passed,
        )
        reason = outcome.reason
        if outcome.reward is None:  # say why each component is missing, not only that it is
            why = "; ".join(
                f"{n}: {c.reason}"
                for n, c in (("rubric", rubric), ("global", glob), ("code", code))
                if c.reason
            )
            reason = f"{reason} ({why})" if why else reason
        missing = [
            n
            for n, c in (("rubric", rubric), ("global", glob), ("code", code))
            if c.status == "unscored"
        ]
        if reason is None and missing:
            reason = f"combined without unscored {', '.join(missing)}"
        return RewardResult(
            prompt_id=request.spec.prompt_id,
            spec_version=request.spec.version,
            response_hash=response_hash(request.response),
            reward=outcome.reward,
            reward_reason=reason,
            rubric=rubric,
            global_=glob,
            code=code,
            weights=outcome.weights,
            formula=outcome.formula,
            step=step,
        )


async def score(
    spec: RewardSpec,
    prompt: Prompt | str | None,
    response: str,
    *,
    grader: Model | None = None,
    rubric_grader: Model | None = None,
    global_grader: Model | None = None,
    checker_runtime: CheckerRuntime | None = None,
    hybrid: HybridConfig | None = None,
    step: int | None = None,
) -> RewardResult:
    """One-shot convenience over ``RewardEngine`` (build an engine to reuse its cache)."""
    engine = RewardEngine(
        rubric_judge=rubric_grader or grader,
        global_judge=global_grader or grader,
        checker_runtime=checker_runtime,
        hybrid=hybrid,
    )
    return await engine.score(spec, prompt, response, step=step)
