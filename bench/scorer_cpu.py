"""CPU per sample of the hybrid-reward scorer in a real Inspect eval, against a minimal
model-graded scorer sending the same judge requests, side by side in one run.

Both run the same eval (``harness/prompts``: the same samples, spec metadata and solver) with
the simulated judge and policy (``simulated/``, latency 0: nothing waits); only the scorer
differs: the hybrid reward (a rubric call and a global call) or a minimal scorer sending the same
two judge requests and returning one number. Each runs at two sizes and the CPU per sample is the slope
between them, so fixed costs (task loading, package metadata, log set-up) cancel out. Usage:

    python bench/scorer_cpu.py [--small 64] [--large 256] [--out results/scorer_cpu.md]
"""

from __future__ import annotations

import argparse
import json
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

        def minimal(n: int) -> Callable[[], Task]:
            return lambda: task_with(hybrid(n)(), scorer=two_calls(), metrics=[mean()])

        logs = str(root / "logs")
        for make in (minimal, hybrid):  # warm: imports and first-use set-up
            cpu_seconds(make(args.small), logs)
        rows = {}
        for name, make in (("minimal scorer (same 2 judge requests)", minimal), ("hybrid_reward", hybrid)):
            small = cpu_seconds(make(args.small), logs)
            large = cpu_seconds(make(args.large), logs)
            rows[name] = (small, large, (large - small) / (args.large - args.small) * 1000)
    base = rows["minimal scorer (same 2 judge requests)"][2]
    lines = [
        "# Scorer CPU per sample in an Inspect eval",
        "",
        f"Command: `python bench/scorer_cpu.py --small {args.small} --large {args.large}"
        + (f" --out {args.out}`" if args.out else "`"),
        "",
        "The same eval (`harness/prompts`, simulated policy and judge at latency 0) with each"
        " scorer; CPU per sample = the slope between the two sizes (fixed costs cancel)."
        " Measured side by side in one run.",
        "",
        f"| scorer | CPU s at {args.small} | CPU s at {args.large} | ms / sample | ratio |",
        "|---|---|---|---|---|",
    ]
    for name, (small, large, per) in rows.items():
        lines.append(f"| {name} | {small:.2f} | {large:.2f} | {per:.1f} | {per / base:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
