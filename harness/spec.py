"""The reward specification of one prompt: weighted rubric criteria plus executable checkers.

A spec is immutable. Its ``version`` is a content hash over everything that can change a
judgment (prompt, label, verdict scale, criteria, checkers); provenance is excluded, so
rebuilding an identical spec keeps its version and its cached judgments. Editing a spec
(``spec.edit(...)``) produces a new version.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.data import json_type

SPEC_FORMAT = 1

VerdictScale = Literal["yes_partial_no", "yes_no", "one_to_ten"]
"""How the rubric judge grades each criterion.

- ``yes_partial_no``: yes = 1, partial = 0.5, no = 0 (the method's default).
- ``yes_no``: criterion met or not (HealthBench's protocol).
- ``one_to_ten``: an integer 1-10 against band descriptions (WritingBench), mapped to (s-1)/9.
"""


SPEC_KEY = "reward_spec"
"""Sample metadata key of the spec a reward scorer scores with."""
NATIVE_SPEC_KEY = "native_spec"
"""Sample metadata key of a benchmark's own spec (what official metrics are computed on)."""


class PromptMessage(BaseModel):
    """One message of a multi-turn prompt."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str


Prompt = str | tuple[PromptMessage, ...]


def describe_validation_error(ex: ValidationError, prefix: str = "") -> str:
    """A pydantic error as ``field 'a.0.b': message; ...`` (``prefix`` names the enclosing field)."""
    parts = []
    for err in ex.errors():
        field = ".".join(
            [prefix, *(str(p) for p in err["loc"])] if prefix else map(str, err["loc"])
        )
        parts.append(f"field '{field or '<spec>'}': {err['msg']}")
    return "; ".join(parts)


def parse_prompt(raw: Any) -> Prompt:
    """A prompt from JSON: non-empty text, or a non-empty list of {"role", "content"} messages.

    Raises ValueError naming the field (``field 'prompt.1.role': ...``)."""
    if isinstance(raw, str):
        if not raw.strip():
            raise ValueError("field 'prompt': the prompt is empty")
        return raw
    if not isinstance(raw, list):
        raise ValueError(f"field 'prompt' must be text or a list of messages, got {json_type(raw)}")
    if not raw:
        raise ValueError("field 'prompt': the list of messages is empty")
    messages = []
    for i, message in enumerate(raw):
        try:
            messages.append(PromptMessage.model_validate(message))
        except ValidationError as ex:
            raise ValueError(describe_validation_error(ex, f"prompt.{i}")) from None
    return tuple(messages)


class Criterion(BaseModel):
    """One atomic rubric criterion.

    ``weight`` > 0 rewards meeting the criterion; ``weight`` < 0 marks a pitfall whose being
    met costs points (HealthBench convention, see ``harness.reward.rubric_score``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    weight: float = 1.0
    category: str | None = None
    tags: tuple[str, ...] = ()
    anchors: dict[str, str] = Field(default_factory=dict)
    """Optional band descriptions for scaled criteria, e.g. {"1-2": ..., "9-10": ...}."""
    covered_by: str | None = None
    """Id of the checker that verifies this criterion: the rubric judge then skips it, so a
    hard constraint is not counted twice."""

    @field_validator("weight")
    @classmethod
    def _finite_non_zero(cls, w: float) -> float:
        if not math.isfinite(w) or w == 0:
            raise ValueError(f"weight must be a finite non-zero number, got {w!r}")
        return w


class Probe(BaseModel):
    """A test vector of a checker: a response and the verdict it must get (None: any verdict,
    but no error — edge cases such as an empty or a very long response)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    response: str
    expected: bool | None


class Checker(BaseModel):
    """An executable hard-constraint check: Python source defining ``check(response) -> bool``.

    The source is untrusted (it is usually written by an LLM from an untrusted prompt): it is
    parsed here but only ever executed by a checker runtime (a sandbox).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1)
    constraint: str = Field(min_length=1)
    source: str = Field(min_length=1)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    probes: tuple[Probe, ...] = ()
    """The responses it was validated on, kept as its test vectors."""

    @field_validator("source")
    @classmethod
    def _defines_check(cls, source: str) -> str:
        try:
            tree = ast.parse(source)
        except SyntaxError as ex:
            raise ValueError(
                f"checker source does not parse: {ex.msg} (line {ex.lineno})"
            ) from None
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "check":
                if isinstance(node, ast.AsyncFunctionDef):
                    raise ValueError("check() must be a plain function, not async")
                if not node.args.args and not node.args.posonlyargs and not node.args.vararg:
                    raise ValueError("check() must take the response as its first argument")
                return source
        raise ValueError(
            "checker source must define a top-level function check(response: str) -> bool"
        )


class Provenance(BaseModel):
    """Who or what built a spec, when, and from which template version."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    builder: str = Field(min_length=1)
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    template_version: str | None = None
    source: str | None = None
    usage: dict[str, int] = Field(default_factory=dict)
    notes: str | None = None


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_text(text: str) -> str:
    # surrogatepass: any Python str hashes (lone surrogates arrive in real model output);
    # well-formed text hashes exactly as plain UTF-8
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def prompt_hash(prompt: Prompt | str | list[Any]) -> str:
    """Hash of a prompt: a plain string hashes as itself, messages as canonical JSON."""
    if isinstance(prompt, str):
        return sha256_text(prompt)
    messages = [m.model_dump() if isinstance(m, PromptMessage) else dict(m) for m in prompt]
    return sha256_text(_canonical(messages))


def response_hash(response: str) -> str:
    return sha256_text(response)


class RewardSpec(BaseModel):
    """One prompt's reward specification."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format: int = SPEC_FORMAT
    prompt_id: str = Field(min_length=1)
    prompt: Prompt
    prompt_hash: str = ""
    task_label: str | None = None
    verdict_scale: VerdictScale = "yes_partial_no"
    criteria: tuple[Criterion, ...] = ()
    checkers: tuple[Checker, ...] = ()
    provenance: Provenance
    version: str = ""

    @field_validator("prompt")
    @classmethod
    def _non_empty_prompt(cls, prompt: Prompt) -> Prompt:
        if isinstance(prompt, str):
            if not prompt.strip():
                raise ValueError("prompt is empty")
        elif not prompt:
            raise ValueError("prompt has no messages")
        return prompt

    @model_validator(mode="after")
    def _check_content(self) -> RewardSpec:
        if self.format != SPEC_FORMAT:
            raise ValueError(f"unsupported spec format {self.format} (expected {SPEC_FORMAT})")
        for kind, items in (("criterion", self.criteria), ("checker", self.checkers)):
            ids = [item.id for item in items]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} ids: {dupes}")
        graded = self.graded_criteria
        if graded and not any(c.weight > 0 for c in graded):
            raise ValueError("a rubric needs at least one criterion with positive weight")
        checker_ids = {k.id for k in self.checkers}
        unknown = sorted(
            {
                c.covered_by
                for c in self.criteria
                if c.covered_by and c.covered_by not in checker_ids
            }
        )
        if unknown:
            raise ValueError(f"criteria covered by unknown checkers {unknown}")
        # Hashes are derived; a stored value that disagrees means the content was edited
        # in place, which would silently reuse judgments of a different spec.
        for name, actual in (
            ("prompt_hash", prompt_hash(self.prompt)),
            ("version", self.content_hash()),
        ):
            stored = getattr(self, name)
            if not stored:
                object.__setattr__(self, name, actual)
            elif stored != actual:
                raise ValueError(
                    f"{name} {stored[:12]}… does not match the content ({actual[:12]}…): "
                    "specs are immutable, use spec.edit() to make a new version"
                )
        return self

    def content_hash(self) -> str:
        content = self.model_dump(mode="json", exclude={"provenance", "version", "prompt_hash"})
        return sha256_text(_canonical(content))

    @property
    def prompt_text(self) -> str:
        """The prompt as plain text (the last user turn's context included for multi-turn)."""
        if isinstance(self.prompt, str):
            return self.prompt
        return "\n\n".join(f"{m.role}: {m.content}" for m in self.prompt)

    def edit(self, **changes: Any) -> RewardSpec:
        """A new spec (new version) with ``changes`` applied."""
        data = self.model_dump(exclude={"version", "prompt_hash"})
        data.update(changes)
        return RewardSpec.model_validate(data)

    @property
    def graded_criteria(self) -> tuple[Criterion, ...]:
        """The criteria the rubric judge grades (those not verified by a checker)."""
        return tuple(c for c in self.criteria if c.covered_by is None)

    @property
    def criterion_weight_total(self) -> float:
        return sum(c.weight for c in self.criteria if c.weight > 0)
