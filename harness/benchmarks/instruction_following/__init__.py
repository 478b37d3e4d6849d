"""IFEval (Google, 541 prompts) and IFBench (AllenAI, 300 prompts), checked by the official code.

A prompt's ``instruction_id_list`` + ``kwargs`` become a built-in spec: one checker per
instruction whose (fixed, trusted) source calls the official checker implementation shipped in
the ``if-verifiable`` package — its IFBench code reproduces the official IFBench verdicts
exactly (tests/test_instruction_following.py). Checkers run through the checker runtime (the
sandbox), never in this process. ``None`` kwargs are dropped (the official IFBench code does
the same); falsy values are kept; nothing missing is randomised.

Official metrics (as in the reference ``evaluation_lib``): strict = the response as is; loose =
an instruction counts as followed if any of 8 variants passes (the response, without its first
line, last line, or both, each also with ``*`` removed). Prompt-level accuracy = share of
prompts whose instructions are all followed; instruction-level = share of all instructions
followed.

One deviation, deterministic by design: for IFEval's ``keywords:letter_frequency`` with a
non-letter "letter" (keys 1122 and 1129: ``#`` and ``!``), the reference code checks a random
letter drawn from an unseeded generator; like Google's current code, we count the character
itself.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any

from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, Value, metric, scorer
from inspect_ai.solver import TaskState

from harness.checkers import TRUSTED_SOURCES, CheckerRuntime, CheckItem, resolve_runtime
from harness.data import DataError, DataFile, read_jsonl, resolve
from harness.spec import Checker, Provenance, RewardSpec

SOURCES = {
    "ifeval": DataFile(
        "IFEval",
        "ifeval/input_data.jsonl",
        "https://raw.githubusercontent.com/google-research/google-research/master/instruction_following_eval/data/input_data.jsonl",
    ),
    "ifbench": DataFile(
        "IFBench",
        "ifbench/IFBench_test.jsonl",
        "https://raw.githubusercontent.com/allenai/IFBench/main/data/IFBench_test.jsonl",
    ),
}
SPEC_TEMPLATE = "instruction-following-official@1"

_CHECKER = '''\
import importlib


def check(response, instruction_id, kwargs, prompt):
    """Official {benchmark} check of one instruction (strict: the response as given)."""
    registry = importlib.import_module("if_verifiable.{benchmark}.instructions_registry")
    instruction = registry.INSTRUCTION_DICT[instruction_id](instruction_id)
    instruction.build_description(**kwargs)
    args = instruction.get_instruction_args()
    if args and "prompt" in args:
        instruction.build_description(prompt=prompt)
{fix}    return bool(response.strip() and instruction.check_following(response))
'''
_LETTER_FIX = """\
    letter = kwargs.get("letter")
    if instruction_id == "keywords:letter_frequency" and letter and not letter.isalpha():
        instruction._letter = letter.strip().lower()  # count the character itself, not a random letter
"""


def checker_source(benchmark: str) -> str:
    return _CHECKER.format(benchmark=benchmark, fix=_LETTER_FIX if benchmark == "ifeval" else "")


for _benchmark in SOURCES:
    TRUSTED_SOURCES.add(checker_source(_benchmark))


def load_records(benchmark: str) -> list[dict[str, Any]]:
    if benchmark not in SOURCES:
        raise ValueError(f"unknown benchmark {benchmark!r}; expected one of {sorted(SOURCES)}")
    path = resolve(SOURCES[benchmark])
    records = read_jsonl(path, required=("key", "prompt", "instruction_id_list", "kwargs"))
    for r in records:
        if len(r["kwargs"]) != len(r["instruction_id_list"]):
            raise DataError(
                f"{path}: prompt {r['key']} has {len(r['instruction_id_list'])} instructions but {len(r['kwargs'])} kwargs"
            )
    return records


def native_spec(record: dict[str, Any], benchmark: str) -> RewardSpec:
    source = checker_source(benchmark)
    checkers = []
    for index, (instruction_id, kwargs) in enumerate(
        zip(record["instruction_id_list"], record["kwargs"], strict=True)
    ):
        kept = {k: v for k, v in (kwargs or {}).items() if v is not None}
        described = (
            f"{instruction_id} {json.dumps(kept, ensure_ascii=False)}" if kept else instruction_id
        )
        checkers.append(
            Checker(
                id=f"{index}:{instruction_id}",
                constraint=described,
                source=source,
                kwargs={
                    "instruction_id": instruction_id,
                    "kwargs": kept,
                    "prompt": record["prompt"],
                },
            )
        )
    return RewardSpec(
        prompt_id=f"{benchmark}-{record['key']}",
        prompt=record["prompt"],
        task_label="instruction_following",
        checkers=tuple(checkers),
        provenance=Provenance(
            builder=f"{benchmark}-native",
            template_version=SPEC_TEMPLATE,
            source=SOURCES[benchmark].url,
        ),
    )


def loose_variants(response: str) -> list[str]:
    """The 8 responses of the reference loose evaluation; the first is the response itself."""
    lines = response.split("\n")
    remove_first = "\n".join(lines[1:]).strip()
    remove_last = "\n".join(lines[:-1]).strip()
    remove_both = "\n".join(lines[1:-1]).strip()
    return [
        response,
        response.replace("*", ""),
        remove_first,
        remove_last,
        remove_both,
        remove_first.replace("*", ""),
        remove_last.replace("*", ""),
        remove_both.replace("*", ""),
    ]


@dataclass
class Following:
    instructions: list[str]
    strict: list[bool]
    loose: list[bool]
    errors: list[str]
    """Checker errors (any variant); a sample with errors has no official score."""


async def follow(runtime: CheckerRuntime, spec: RewardSpec, response: str) -> Following:
    variants = await runtime.check([CheckItem(spec, v) for v in loose_variants(response)])
    errors = []
    for variant, verdicts in enumerate(variants):
        for checker, v in zip(spec.checkers, verdicts, strict=True):
            if v.status == "error":
                errors.append(f"{checker.id} (variant {variant}): {v.error_kind}: {v.message}")
    strict = [v.status == "pass" for v in variants[0]]
    loose = [any(vs[i].status == "pass" for vs in variants) for i in range(len(spec.checkers))]
    return Following([c.kwargs["instruction_id"] for c in spec.checkers], strict, loose, errors)


def _explanation(f: Following) -> str:
    lines = ["| # | instruction | strict | loose |", "|---|---|---|---|"]
    for i, (name, s, lo) in enumerate(zip(f.instructions, f.strict, f.loose, strict=True)):
        lines.append(
            f"| {i} | {name} | {'pass' if s else '**fail**'} | {'pass' if lo else '**fail**'} |"
        )
    failed = [name for name, s in zip(f.instructions, f.strict, strict=True) if not s]
    lines.append("")
    lines.append(f"Failed (strict): {', '.join(failed) if failed else 'none'}")
    if f.errors:
        lines.append("")
        lines.append("**Unscored: checker errors** — " + "; ".join(f.errors[:10]))
    return "\n".join(lines)


@metric
def instruction_accuracy() -> Metric:
    """Official accuracies: prompt- and instruction-level, strict and loose, with standard errors."""

    def compute(scores: list[SampleScore]) -> Value:
        rows = [
            s.score.metadata for s in scores if s.score.metadata and "strict" in s.score.metadata
        ]
        unscored = len(scores) - len(rows)
        out: dict[str, float] = {"unscored": float(unscored)}
        for mode in ("strict", "loose"):
            prompt = [float(all(r[mode])) for r in rows]
            followed = [sum(r[mode]) for r in rows]
            counts = [len(r[mode]) for r in rows]
            n = len(rows)
            out[f"prompt_{mode}"] = sum(prompt) / n if n else math.nan
            p = out[f"prompt_{mode}"]
            out[f"prompt_{mode}_stderr"] = (
                math.sqrt(sum((x - p) ** 2 for x in prompt) / (n - 1) / n) if n > 1 else math.nan
            )
            total = sum(counts)
            ratio = sum(followed) / total if total else math.nan
            out[f"inst_{mode}"] = ratio
            # ratio estimator over prompts (instructions of one prompt are not independent)
            if n > 1 and total:
                mean_count = total / n
                residual = sum((f - ratio * c) ** 2 for f, c in zip(followed, counts, strict=True))
                out[f"inst_{mode}_stderr"] = math.sqrt(residual / (n * (n - 1))) / mean_count
            else:
                out[f"inst_{mode}_stderr"] = math.nan
        return out

    return compute


@scorer(metrics=[instruction_accuracy()])
def instruction_following(checker_runtime: str | CheckerRuntime = "auto") -> Scorer:
    """Official strict and loose instruction-following verdicts for the sample's built-in spec.

    Score.value: prompt_strict, prompt_loose (0/1) and inst_strict, inst_loose (share of this
    prompt's instructions); NaN everywhere when a checker errored (the reason is in the
    explanation). Score.metadata: per-instruction strict and loose verdicts.
    """

    async def score(state: TaskState, target: Target) -> Score:
        from harness.scorers import native_spec_of

        spec = native_spec_of(state)
        runtime = checker_runtime
        if isinstance(runtime, str):
            runtime = await asyncio.to_thread(resolve_runtime, runtime)
        response = state.output.completion
        try:
            f = await follow(runtime, spec, response)
        except Exception as ex:  # the runtime refused or failed: no official score
            f = Following(
                [c.kwargs["instruction_id"] for c in spec.checkers],
                [],
                [],
                [f"checker runtime failed: {ex}"],
            )
        if f.errors:
            nan = {
                k: math.nan for k in ("prompt_strict", "prompt_loose", "inst_strict", "inst_loose")
            }
            return Score(
                value=nan,
                answer=response,
                explanation=_explanation(f) if f.strict else f.errors[0],
                metadata={"errors": f.errors},
            )
        value = {
            "prompt_strict": float(all(f.strict)),
            "prompt_loose": float(all(f.loose)),
            "inst_strict": sum(f.strict) / len(f.strict),
            "inst_loose": sum(f.loose) / len(f.loose),
        }
        metadata = {"instructions": f.instructions, "strict": f.strict, "loose": f.loose}
        return Score(value=value, answer=response, explanation=_explanation(f), metadata=metadata)

    return score


def build_task(
    benchmark: str,
    checker_runtime: str,
    require_grader: bool,
    weights: dict[str, float] | None,
    judge_max_tokens: int | None,
    specs: str | None = None,
) -> Any:
    """The IFEval / IFBench task: official accuracies and the hybrid reward on the built-in spec."""
    from inspect_ai import Task
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.solver import generate

    from harness.checkers.inspect_sandbox import sandbox_spec
    from harness.scorers import hybrid_reward, spec_metadata

    samples = [
        Sample(
            id=record["key"],
            input=record["prompt"],
            metadata={
                "instruction_id_list": record["instruction_id_list"],
                **spec_metadata(native_spec(record, benchmark), specs),
            },
        )
        for record in load_records(benchmark)
    ]
    return Task(
        dataset=MemoryDataset(samples, name=benchmark),
        solver=generate(),
        scorer=[
            instruction_following(checker_runtime=checker_runtime),
            hybrid_reward(
                checker_runtime=checker_runtime,
                require_grader=require_grader,
                weights=weights,
                judge_max_tokens=judge_max_tokens,
            ),
        ],
        sandbox=sandbox_spec() if checker_runtime == "sandbox" else None,
    )
