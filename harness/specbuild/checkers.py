"""Checker generation and validation.

The generator writes a ``check(response) -> bool`` function for each explicit *surface*
constraint of the prompt (length, counts, required/forbidden strings, format, case, language…),
never for meaning, with responses that satisfy and that violate it. Validation runs every
candidate in the checker runtime — the sandbox; generated code never runs in this process —
against those probes plus edge cases (empty, very long, unicode). A candidate that does not
compile, errors or times out on any probe, gets a probe wrong, or does not discriminate is
dropped with the reason, and the generator gets one more round for the dropped constraints.
Kept checkers carry their probes as test vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser, GenerateConfig, Model
from pydantic import ValidationError

from harness.checkers import CheckerRuntime, CheckItem
from harness.judges.calling import DEFAULT_MAX_ATTEMPTS, JudgeReplyError, TokenUsage, ask_judge
from harness.judges.parsing import extract_json, one_line
from harness.spec import Checker, Probe, Provenance, RewardSpec

TEMPLATE_VERSION = "checkers@1"
EDGE_CASES = ("", "word " * 20000, "Ünïcödé — 日本語のテキスト, emoji 🎉🚀\n\n# Heading\n* item\n")

SYSTEM = """You turn the explicit surface constraints of one user prompt into Python checkers.

Surface constraints only: length (words, sentences, paragraphs, characters), counts, required or forbidden words or phrases, formats (JSON, markdown headings, bullet lists, sections, titles), letter case, language, punctuation, how the response starts or ends. Never write a checker for meaning, quality, tone, correctness or anything a program cannot decide reliably. If the prompt states no such constraint, return an empty list.

For each constraint give:
- "constraint": the constraint in words;
- "source": Python source defining check(response: str) -> bool (standard library only, deterministic, no files, no network; count the way the prompt means);
- "covers": ids of the rubric criteria below that this checker verifies (may be empty);
- "satisfying": two short responses that meet the constraint;
- "violating": two short responses that break it.

Reply with one JSON object and nothing else:
{"checkers": [{"constraint": "...", "source": "...", "covers": ["c1"], "satisfying": ["...", "..."], "violating": ["...", "..."]}]}"""


@dataclass
class Candidate:
    constraint: str
    source: str
    covers: list[str]
    satisfying: list[str]
    violating: list[str]


@dataclass
class CheckerOutcome:
    kept: list[tuple[Checker, list[str]]] = field(default_factory=list)
    """(checker with its probes, ids of the criteria it covers)."""
    dropped: list[dict[str, Any]] = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)
    failure: str | None = None


def messages(
    prompt: str, rubric: list[tuple[str, str]], retry: list[dict[str, Any]] | None = None
) -> list[ChatMessage]:
    criteria = "\n".join(f"[{cid}] {text}" for cid, text in rubric) or "(no criteria)"
    user = f"<prompt>\n{prompt}\n</prompt>\n\n# Rubric criteria\n{criteria}"
    if retry:
        failed = "\n".join(f"- {d['constraint']}: {d['reason']}" for d in retry)
        user += f"\n\nThese checkers failed validation; write them again, only these:\n{failed}"
    return [ChatMessageSystem(content=SYSTEM), ChatMessageUser(content=user)]


def _strings(value: Any, what: str, n: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JudgeReplyError(f"checker {n}: '{what}' must be a list of strings")
    return value


def parse(text: str) -> list[Candidate]:
    data = extract_json(text)
    entries = data.get("checkers") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise JudgeReplyError(
            'expected {"checkers": [...]} (an empty list when there is no surface constraint)'
        )
    out = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise JudgeReplyError(f"checker {n} is not an object")
        constraint, source = one_line(entry.get("constraint")), entry.get("source")
        if not constraint or not isinstance(source, str) or not source.strip():
            raise JudgeReplyError(f"checker {n} needs a 'constraint' and a 'source'")
        out.append(
            Candidate(
                constraint,
                source,
                [str(c) for c in entry.get("covers", []) if isinstance(c, str | int)],
                _strings(entry.get("satisfying", []), "satisfying", n),
                _strings(entry.get("violating", []), "violating", n),
            )
        )
    return out


def _probes(candidate: Candidate) -> list[Probe]:
    return (
        [Probe(response=r, expected=True) for r in candidate.satisfying]
        + [Probe(response=r, expected=False) for r in candidate.violating]
        + [Probe(response=r, expected=None) for r in EDGE_CASES]
    )


async def validate(
    candidates: list[Candidate], runtime: CheckerRuntime, prompt_id: str, first_id: int
) -> tuple[list[tuple[Checker, list[str]]], list[dict[str, Any]]]:
    """Run each candidate on its probes in the runtime; keep the ones that behave."""
    kept: list[tuple[Checker, list[str]]] = []
    dropped: list[dict[str, Any]] = []
    runnable: list[tuple[Candidate, Checker, list[Probe]]] = []
    for offset, c in enumerate(candidates):
        if not c.satisfying or not c.violating:
            dropped.append(
                {
                    "constraint": c.constraint,
                    "reason": "needs at least one satisfying and one violating probe",
                }
            )
            continue
        probes = _probes(c)
        try:
            checker = Checker(
                id=f"k{first_id + offset}",
                constraint=c.constraint,
                source=c.source,
                probes=tuple(probes),
            )
        except ValidationError as ex:
            dropped.append(
                {"constraint": c.constraint, "reason": f"does not compile: {ex.errors()[0]['msg']}"}
            )
            continue
        runnable.append((c, checker, probes))
    if not runnable:
        return kept, dropped
    items = []
    for _, checker, probes in runnable:
        spec = RewardSpec(
            prompt_id=prompt_id,
            prompt=prompt_id,
            checkers=(checker,),
            provenance=Provenance(builder="validation"),
        )
        items += [CheckItem(spec, p.response) for p in probes]
    verdicts = [v[0] for v in await runtime.check(items)]
    position = 0
    for c, checker, probes in runnable:
        results = verdicts[position : position + len(probes)]
        position += len(probes)
        reason = None
        for n, (probe, v) in enumerate(zip(probes, results, strict=True), start=1):
            if v.status == "error":
                reason = f"{v.error_kind} on probe {n}: {v.message}"
                break
            if probe.expected is not None and (v.status == "pass") != probe.expected:
                kind = "satisfying" if probe.expected else "violating"
                reason = f"{'fails' if probe.expected else 'passes'} its {kind} probe {probe.response[:60]!r}"
                break
        if reason is None and len({v.status for v in results}) == 1:
            reason = f"does not discriminate ({results[0].status}es every probe)"
        if reason is None:
            kept.append((checker, c.covers))
        else:
            dropped.append({"constraint": c.constraint, "reason": reason})
    return kept, dropped


async def generate_and_validate(
    model: Model,
    prompt: str,
    prompt_id: str,
    rubric: list[tuple[str, str]],
    runtime: CheckerRuntime,
    *,
    rounds: int = 2,
    config: GenerateConfig | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> CheckerOutcome:
    outcome = CheckerOutcome()
    retry: list[dict[str, Any]] | None = None
    for round_number in range(1, rounds + 1):
        reply = await ask_judge(
            model, messages(prompt, rubric, retry), parse, config=config, max_attempts=max_attempts
        )
        outcome.usage.add(reply.usage)
        if not reply.ok or reply.value is None:
            if round_number == 1:
                outcome.failure = f"checker generation failed: {reply.failure}"
            break
        known = {" ".join(k.constraint.lower().split()) for k, _ in outcome.kept} | {
            k.source for k, _ in outcome.kept
        }
        fresh = [
            c
            for c in reply.value
            if " ".join(c.constraint.lower().split()) not in known and c.source not in known
        ]
        kept, dropped = await validate(fresh, runtime, prompt_id, first_id=len(outcome.kept) + 1)
        outcome.kept += kept
        for d in dropped:
            d["round"] = round_number
        outcome.dropped += dropped
        if not dropped:
            break
        retry = dropped
    return outcome
