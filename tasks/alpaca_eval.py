"""AlpacaEval 2: the official pairwise win rate against gpt4_1106_preview and the hybrid reward."""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import generate

from harness.benchmarks import alpaca_eval as ae
from harness.provenance import judge_protocols, task_metadata
from harness.replay import stored_responses_model
from harness.scorers import headline, hybrid_reward, spec_metadata
from harness.spec import Provenance, RewardSpec
from harness.tasks import make_task, task_name

SPEC_TEMPLATE = "alpaca-eval-prompt-only@1"


def prompt_only_spec(record: dict) -> RewardSpec:
    """No criteria and no checkers: the hybrid reward is the global component alone."""
    return RewardSpec(
        prompt_id=f"alpaca_eval-{record['index']}",
        prompt=record["instruction"],
        task_label="instruction_following",
        provenance=Provenance(
            builder="alpaca-eval-prompt-only",
            template_version=SPEC_TEMPLATE,
            source=ae.model_outputs_file(ae.BASELINE).url,
        ),
    )


@task(name=task_name("alpaca_eval", __name__))
def alpaca_eval(
    replay: str | None = None,
    require_grader: bool = True,
    weights: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    logprobs: bool = True,
    cache_path: str | None = None,
    structured_output: bool = True,
    specs: str | None = None,
) -> Task:
    """AlpacaEval 2 (805 instructions; the baseline is gpt4_1106_preview).

    The headline is the official win rate (``alpaca_eval_pairwise/win_rate``); the hybrid
    reward follows as a second scorer.

    Args:
        replay: Score this published model's outputs (``results/<name>/model_outputs.json``,
            e.g. "alpaca-7b") instead of generating with the policy model.
        require_grader: Fail when no grader role is bound (else judged parts are unscored).
        weights: Hybrid component weights (the prompt-only spec has only the global component).
        judge_max_tokens: Max tokens of each judge reply. Unset, the pairwise judge answers one
            token as the official annotator does (set it for judges that reason first).
        logprobs: Ask the pairwise judge for top-5 logprobs (the official weighted preference);
            without them its one-token answer gives a binary preference.
        cache_path: SQLite file for the judgment cache of the hybrid reward.
        structured_output: Ask the global judge for schema-constrained JSON (turn off for
            servers that reject response schemas).
        specs: A spec store (e.g. from `harness spec build`): the hybrid reward uses the spec
            built for each prompt instead of the prompt-only one.
    """
    records = ae.load_records()
    if replay:
        ae.aligned_outputs(replay, records)  # the published outputs answer these instructions
    samples = [
        Sample(
            id=record["index"],
            input=record["instruction"],
            metadata={
                "index": record["index"],
                "dataset": record["dataset"],
                "instruction": record["instruction"],
                "baseline_output": record["baseline_output"],
                **spec_metadata(prompt_only_spec(record), specs),
            },
        )
        for record in records
    ]
    return make_task(
        MemoryDataset(samples, name="alpaca_eval"),
        solver=generate(),
        # stored answers come through the shared replay/ model provider
        model=stored_responses_model(replay, ae.model_outputs_file(replay)) if replay else None,
        scorer=[
            ae.alpaca_eval_pairwise(
                require_grader=require_grader,
                judge_max_tokens=judge_max_tokens if judge_max_tokens is not None else 1,
                logprobs=logprobs,
            ),
            hybrid_reward(
                weights=weights,
                require_grader=require_grader,
                judge_max_tokens=judge_max_tokens,
                cache_path=cache_path,
                structured_output=structured_output,
            ),
        ],
        headline_metric=headline("win_rate", "alpaca_eval_pairwise"),
        version=2,
        metadata=task_metadata(
            "alpaca_eval",
            {"pairwise": ae.PROTOCOL, **judge_protocols("single")},
            specs=specs,
            baseline=ae.BASELINE,
            replay=replay,
        ),
    )
