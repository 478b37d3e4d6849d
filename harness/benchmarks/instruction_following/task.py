"""The IFEval / IFBench task: official accuracies and the hybrid reward on the built-in spec."""

from __future__ import annotations

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import generate

from harness.benchmarks.instruction_following.dataset import load_records, native_spec
from harness.benchmarks.instruction_following.metric import (
    BENCHMARK_KEY,
    HEADLINE,
    OFFICIAL_METRIC,
)
from harness.benchmarks.instruction_following.scorer import instruction_following
from harness.provenance import OFFICIAL_CHECKER_PACKAGES, judge_protocols, task_metadata

VERSION = 2
"""Task version: bump on any change that can move a number (2: epochs-exact metrics, headline)."""


def build_task(
    benchmark: str,
    checker_runtime: str,
    require_grader: bool,
    weights: dict[str, float] | None,
    judge_max_tokens: int | None,
    specs: str | None = None,
    checker_limits: dict[str, float] | None = None,
) -> Task:
    """The ``benchmark`` ("ifeval" or "ifbench") task; headline: the paper's accuracy."""
    from harness.checkers.inspect_sandbox import sandbox_spec
    from harness.scorers import headline, hybrid_reward, spec_metadata
    from harness.tasks import make_task

    samples = [
        Sample(
            id=record["key"],
            input=record["prompt"],
            metadata={
                "instruction_id_list": record["instruction_id_list"],
                BENCHMARK_KEY: benchmark,
                **spec_metadata(native_spec(record, benchmark), specs),
            },
        )
        for record in load_records(benchmark)
    ]
    rubric_mode = (
        "single"  # hybrid_reward's default; specs built for these prompts may have criteria
    )
    return make_task(
        MemoryDataset(samples, name=benchmark),
        solver=generate(),
        scorer=[
            instruction_following(checker_runtime=checker_runtime, checker_limits=checker_limits),
            hybrid_reward(
                rubric_mode=rubric_mode,
                checker_runtime=checker_runtime,
                checker_limits=checker_limits,
                require_grader=require_grader,
                weights=weights,
                judge_max_tokens=judge_max_tokens,
            ),
        ],
        sandbox=sandbox_spec() if checker_runtime == "sandbox" else None,
        headline_metric=headline(HEADLINE[benchmark], "instruction_following"),
        version=VERSION,
        metadata=task_metadata(
            benchmark,
            {**judge_protocols(rubric_mode), "official": OFFICIAL_METRIC},
            specs=specs,
            checkers=True,
            official_packages=OFFICIAL_CHECKER_PACKAGES,
        ),
    )
