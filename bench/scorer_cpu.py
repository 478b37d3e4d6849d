"""CPU per sample of the hybrid-reward scorer in a real Inspect eval, against a minimal
model-graded scorer sending the same judge requests, side by side in one run.

Both run the same eval (``harness/prompts``: the same samples, spec metadata and solver) with
the simulated judge and policy (``simulated/``, latency 0: nothing waits); only the scorer
differs: the hybrid reward (a rubric call and a global call) or a minimal scorer sending the same
two judge requests and returning one number. Each runs at two sizes and the CPU per sample is the slope
between them, so fixed costs (task loading, package metadata, log set-up) cancel out. Usage:

    python bench/scorer_cpu.py [--small 64] [--large 256] [--rounds 3] [--out results/scorer_cpu.md]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from inspect_ai import Task, eval, task_with
from inspect_ai.model import get_model
from inspect_ai.scorer import Score, Target, mean, scorer
from inspect_ai.solver import TaskState

from harness.judges.holistic import GlobalJudge
from harness.judges.rubric import SingleCallRubric, with_schema
from harness.scorers import spec_of
from harness.spec import Criterion, Provenance, RewardSpec
from harness.store import SpecStore
from harness.tasks.prompts import prompts


def specs(n: int) -> list[RewardSpec]:
    criteria = tuple(
        Criterion(id=f"c{i}", text=f"Criterion number {i} of the rubric is met.", weight=1 + i % 3)
        for i in range(1, 9)
    )
    return [
        RewardSpec(
            prompt_id=f"p{i}",
            prompt=f"Write a short poem about the sea, number {i}, in three lines.",
            criteria=criteria,
            provenance=Provenance(builder="bench", created_at="2026-01-01T00:00:00+00:00"),
        )
        for i in range(n)
    ]


@scorer(metrics=[mean()])
def one_call():
    """The least a model-graded scorer does: one short judge call, a number from its reply."""

    async def score(state: TaskState, target: Target) -> Score:
        judge = get_model(role="grader")
        out = await judge.generate(f"Rate it on a 0-10 scale:\n{state.output.completion}")
        return Score(value=json.loads(out.completion)["score"] / 10)

    return score


@scorer(metrics=[mean()])
def two_calls():
    """A minimal model-graded scorer sending the hybrid reward's two judge requests (the same
    messages and response schemas) and returning one number: what any rubric-graded scorer must
    do, without the harness's parsing, caching, records, report and metrics."""
    rubric, glob = SingleCallRubric(), GlobalJudge()

    async def score(state: TaskState, target: Target) -> Score:
        judge = get_model(role="grader")
        spec, response = spec_of(state), state.output.completion
        await judge.generate(
            rubric.messages(spec, response),
            config=with_schema(None, rubric.response_schema(spec)),
        )
        out = await judge.generate(
            glob.messages(spec, response), config=with_schema(None, glob.response_schema())
        )
        return Score(value=json.loads(out.completion)["score"] / 10)

    return score


def cpu_seconds(task: Callable[[], Task], log_dir: str) -> float:
    start = time.process_time()
    [log] = eval(
        task(),
        model=get_model("simulated/policy", latency=0.0),
        model_roles={"grader": get_model("simulated/judge", latency=0.0)},
        log_dir=log_dir,
        display="none",
    )
    if log.status != "success":
        raise RuntimeError(log.error)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=64)
    parser.add_argument("--large", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        all_specs = specs(args.large)
        SpecStore(root / "specs.jsonl", create=True).put_many(all_specs)
        for n in (args.small, args.large):
            with (root / f"prompts{n}.jsonl").open("w") as f:
                for s in all_specs[:n]:
                    f.write(json.dumps({"id": s.prompt_id, "prompt": s.prompt}) + "\n")

        def hybrid(n: int) -> Callable[[], Task]:
            return lambda: prompts(
                prompts=str(root / f"prompts{n}.jsonl"), specs=str(root / "specs.jsonl")
            )

        def with_scorer(make_scorer: Callable[[], object]) -> Callable[[int], Callable[[], Task]]:
            return lambda n: lambda: task_with(hybrid(n)(), scorer=make_scorer(), metrics=[mean()])

        scorers = {
            "minimal scorer, one plain call": with_scorer(one_call),
            "minimal scorer, the same 2 judge requests": with_scorer(two_calls),
            "hybrid_reward": hybrid,
        }
        logs = str(root / "logs")
        for make in scorers.values():  # warm: imports and first-use set-up
            cpu_seconds(make(args.small), logs)
        # rounds interleave the scorers, so machine load drifts alike for all of them
        slopes: dict[str, list[float]] = {name: [] for name in scorers}
        for _ in range(args.rounds):
            for name, make in scorers.items():
                small = cpu_seconds(make(args.small), logs)
                large = cpu_seconds(make(args.large), logs)
                slopes[name].append((large - small) / (args.large - args.small) * 1000)
    baseline = "minimal scorer, the same 2 judge requests"
    hybrid_ratios = [h / b for h, b in zip(slopes["hybrid_reward"], slopes[baseline], strict=True)]
    lines = [
        "# Scorer CPU per sample in an Inspect eval",
        "",
        f"Command: `python bench/scorer_cpu.py --small {args.small} --large {args.large}"
        f" --rounds {args.rounds}" + (f" --out {args.out}`" if args.out else "`"),
        "",
        "The same eval (`harness/prompts`: the same samples with their spec metadata, the same"
        " solver; simulated policy and judge at latency 0) with each scorer. CPU per sample = the"
        " slope between the two sizes (fixed costs cancel), in rounds that interleave the scorers;"
        " the median round is shown. Measured side by side in one run.",
        "",
        f"| scorer | ms / sample (median of {args.rounds}) | per round | vs the same 2 requests |",
        "|---|---|---|---|",
    ]
    base = statistics.median(slopes[baseline])
    for name, values in slopes.items():
        per = statistics.median(values)
        rounds = ", ".join(f"{v:.1f}" for v in values)
        lines.append(f"| {name} | {per:.1f} | {rounds} | {per / base:.2f}× |")
    lines += [
        "",
        "hybrid_reward / the same 2 requests, per round: "
        + ", ".join(f"{r:.2f}×" for r in hybrid_ratios)
        + f" (median **{statistics.median(hybrid_ratios):.2f}×**).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
