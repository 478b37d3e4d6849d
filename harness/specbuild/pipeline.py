"""Building specs for many prompts: classify, write the rubric, write and validate checkers, store.

Incremental and resumable: a prompt whose spec is already in the store for the same prompt
hash and build version is skipped; each spec is appended to the store (one fsync'd line) as
soon as it is built, so a crash loses at most the prompts in flight. A prompt that cannot be
built is reported, not stored (a later run tries it again). Every prompt gets a line in the
validation report: what was kept, what was dropped and why, and the tokens spent.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspect_ai.model import GenerateConfig, Model

from harness.checkers import CheckerRuntime
from harness.judges.calling import DEFAULT_MAX_ATTEMPTS, TokenUsage
from harness.spec import Criterion, Prompt, Provenance, RewardSpec, prompt_hash
from harness.specbuild import checkers as checker_gen
from harness.specbuild import classify as classifier
from harness.specbuild import rubric as rubric_gen
from harness.store import SpecStore

BUILD_VERSION = (
    f"{classifier.TEMPLATE_VERSION}+{rubric_gen.TEMPLATE_VERSION}+{checker_gen.TEMPLATE_VERSION}"
)


@dataclass(frozen=True)
class PromptToBuild:
    id: str
    prompt: Prompt
    label: str | None = None
    """A supplied task label (skips classification)."""

    @property
    def text(self) -> str:
        if isinstance(self.prompt, str):
            return self.prompt
        return "\n\n".join(f"{m.role}: {m.content}" for m in self.prompt)


@dataclass
class BuildSettings:
    builder: Model
    classifier: Model | None = None
    """Cheap model for classification (default: the builder)."""
    runtime: CheckerRuntime | None = None
    """Where generated checkers are validated (a sandbox). None: no checkers are generated."""
    max_criteria: int = 12
    checker_rounds: int = 2
    config: GenerateConfig | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


async def build_spec(
    item: PromptToBuild, settings: BuildSettings
) -> tuple[RewardSpec | None, dict[str, Any]]:
    """One prompt's spec (None if it could not be built) and its validation-report entry."""
    usage = TokenUsage()
    report: dict[str, Any] = {"prompt_id": item.id, "build_version": BUILD_VERSION}
    config = settings.config or GenerateConfig(temperature=0.0)

    label = await classifier.classify(
        item.text,
        settings.classifier or settings.builder,
        supplied=item.label,
        config=config,
        max_attempts=settings.max_attempts,
    )
    usage.add(label.usage)
    report["label"] = {
        "value": label.label,
        "source": label.source,
        "reason": label.reason or label.failure,
    }
    if label.label is None:
        return None, {
            **report,
            "status": "failed",
            "error": f"classification failed: {label.failure}",
            "usage": usage.model_dump(),
        }

    reply = await rubric_gen.generate(
        settings.builder,
        item.text,
        label.label,
        maximum=settings.max_criteria,
        config=config,
        max_attempts=settings.max_attempts,
    )
    usage.add(reply.usage)
    if not reply.ok or reply.value is None:
        return None, {
            **report,
            "status": "failed",
            "error": f"rubric generation failed: {reply.failure}",
            "usage": usage.model_dump(),
        }
    draft = rubric_gen.postprocess(reply.value, settings.max_criteria)
    ids = [f"c{i}" for i in range(1, len(draft.criteria) + 1)]

    checkers: list = []
    covered: dict[str, str] = {}
    checker_report: dict[str, Any] = {"kept": [], "dropped": []}
    if settings.runtime is not None:
        try:
            outcome = await checker_gen.generate_and_validate(
                settings.builder,
                item.text,
                item.id,
                list(zip(ids, [c.text for c in draft.criteria], strict=True)),
                settings.runtime,
                rounds=settings.checker_rounds,
                config=config,
                max_attempts=settings.max_attempts,
            )
        except (
            Exception
        ) as ex:  # the sandbox is unusable: stop here, do not store a spec without its checkers
            return None, {
                **report,
                "status": "failed",
                "error": f"checker validation failed: {ex}",
                "usage": usage.model_dump(),
            }
        usage.add(outcome.usage)
        if outcome.failure:
            checker_report["failure"] = outcome.failure
        checker_report["dropped"] = outcome.dropped
        for checker, covers in outcome.kept:
            checkers.append(checker)
            checker_report["kept"].append({"id": checker.id, "constraint": checker.constraint})
            for cid in covers:
                if cid in ids:
                    covered.setdefault(cid, checker.id)

    criteria = tuple(
        Criterion(
            id=cid,
            text=c.text,
            weight=c.weight,
            category=c.category,
            tags=("surface",) if c.surface else (),
            covered_by=covered.get(cid),
        )
        for cid, c in zip(ids, draft.criteria, strict=True)
    )
    spec = RewardSpec(
        prompt_id=item.id,
        prompt=item.prompt,
        task_label=label.label,
        criteria=criteria,
        checkers=tuple(checkers),
        provenance=Provenance(
            builder=f"spec_builder:{settings.builder}",
            template_version=BUILD_VERSION,
            usage={
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "calls": usage.calls,
            },
            notes=f"task label {label.source}",
        ),
    )
    report.update(
        status="built",
        version=spec.version,
        criteria={
            "kept": len(criteria),
            "covered_by_checkers": len(covered),
            "dropped": draft.dropped,
        },
        checkers=checker_report,
        usage=usage.model_dump(),
    )
    return spec, report


@dataclass
class BuildSummary:
    built: int = 0
    skipped: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None


async def build_all(
    items: Sequence[PromptToBuild],
    store: SpecStore,
    settings: BuildSettings,
    report_path: Path,
    *,
    concurrency: int = 4,
    progress: Callable[[str], None] | None = None,
    prices: tuple[float, float] | None = None,
) -> BuildSummary:
    """Build every prompt not already in the store; append specs and report lines as they finish.

    ``prices``: (input, output) price per million tokens, to total the cost as well.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    summary = BuildSummary()
    done_before = {s.prompt_hash for s in store if s.provenance.template_version == BUILD_VERSION}
    todo = []
    for item in items:
        if prompt_hash(item.prompt) in done_before:
            summary.skipped += 1
        else:
            todo.append(item)
    say(
        f"{len(items)} prompts: {summary.skipped} already built, {len(todo)} to build ({BUILD_VERSION})"
    )
    semaphore = asyncio.Semaphore(concurrency)
    lock = threading.Lock()
    report_path.parent.mkdir(parents=True, exist_ok=True)

    async def one(item: PromptToBuild) -> None:
        async with semaphore:
            try:
                spec, report = await build_spec(item, settings)
            except Exception as ex:  # a bug or an outage on one prompt must not lose the others
                spec, report = (
                    None,
                    {
                        "prompt_id": item.id,
                        "status": "failed",
                        "error": f"{type(ex).__name__}: {ex}",
                    },
                )
        with lock:
            if spec is not None:
                store.append(spec)
                summary.built += 1
            else:
                summary.failed += 1
            tokens = report.get("usage", {})
            summary.input_tokens += tokens.get("input_tokens", 0)
            summary.output_tokens += tokens.get("output_tokens", 0)
            with report_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(report, ensure_ascii=False) + "\n")
            done = summary.built + summary.failed
            if spec is not None:
                detail = f"{len(spec.criteria)} criteria, {len(spec.checkers)} checkers"
            else:
                detail = f"FAILED: {report.get('error')}"
            say(f"[{done}/{len(todo)}] {item.id}: {detail}")

    await asyncio.gather(*(one(item) for item in todo))
    cost = ""
    if prices is not None:
        summary.cost = (summary.input_tokens * prices[0] + summary.output_tokens * prices[1]) / 1e6
        cost = f", cost {summary.cost:.4f}"
    say(
        f"built {summary.built}, skipped {summary.skipped}, failed {summary.failed}; "
        f"tokens {summary.input_tokens} in / {summary.output_tokens} out{cost}"
    )
    return summary
