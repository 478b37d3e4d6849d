"""Inspect tasks (installed as ``harness.tasks``; each file also runs as ``inspect eval tasks/<name>.py``)."""

from collections.abc import Callable
from typing import Any

from inspect_ai import Task
from inspect_ai._util.package import get_installed_package_name
from inspect_ai.dataset import Dataset, MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, Model
from inspect_ai.scorer import Metric
from inspect_ai.solver import TaskState, generate

from harness.provenance import judge_protocols, task_metadata
from harness.replay import with_replay_coverage
from harness.scorers import SPEC_KEY, headline, hybrid_reward, reward_metrics
from harness.scoring import RewardResult


def task_name(name: str, module: str) -> str:
    """The registry name that makes ``inspect eval harness/<name>`` find a task.

    Inspect namespaces an object as ``<package>/<name>`` only when it sees the package
    installed: in site-packages, or editable under a distribution of the same name. Our
    distribution is ``reward-harness`` (``harness`` is taken on the package index), so in an
    editable install we add the namespace ourselves. A task file loaded by path
    (``inspect eval tasks/<name>.py``, ``module`` not under ``harness``) keeps its plain name.
    """
    if not module.startswith("harness.") or get_installed_package_name(task_name) == "harness":
        return name
    return f"harness/{name}"


def make_task(dataset: Dataset, **task_args: Any) -> Task:
    """A task of this project: checks made before any generation, then ``Task(...)``.

    With a ``replay/`` model, every sample must have a stored response (all missing ones are
    listed in one error; ``-M skip_missing=true`` drops them and records them in the eval
    metadata as ``replay_skipped``). Give every task ``version=``, ``metadata=task_metadata(...)`` and
    ``headline_metric=`` through ``task_args``.
    """
    dataset, task_args = with_replay_coverage(dataset, task_args)
    return Task(dataset=dataset, **task_args)


def rubric_benchmark_task(
    benchmark: str,
    samples: list[Sample],
    *,
    official: tuple[Metric, Metric],
    official_values: Callable[[RewardResult, TaskState], dict[str, float]],
    headline_metric: str,
    group_by: str,
    rubric_mode: str,
    specs: str | None,
    official_protocol: str | None = None,
    dataset_name: str | None = None,
    metadata: dict[str, Any] | None = None,
    config: GenerateConfig | None = None,
    version: int = 2,
    model: Model | None = None,
    **reward_args: Any,
) -> Task:
    """A benchmark judged on its own rubrics (WritingBench, HealthBench, Creative Writing): the
    hybrid reward carrying the benchmark's per-sample official numbers, the official metric
    first (the headline), the reward metrics per ``group_by``, then the official unscored count.

    ``official``: (official metric, its unscored count); ``official_protocol``: its
    ``name@version`` for the eval metadata; ``reward_args``: the rest of
    ``hybrid_reward``'s arguments (weights, require_grader, judge settings, cache …);
    ``metadata``: extra eval metadata beside the protocols and the spec store; ``config``: the
    policy's generation settings the benchmark prescribes; ``model``: the task's own policy
    (a published model's responses through ``replay/``).
    """
    official_metric, official_unscored = official
    protocols = judge_protocols(rubric_mode)
    if official_protocol:
        protocols["official"] = official_protocol
    return make_task(
        MemoryDataset(samples, name=dataset_name or benchmark),
        solver=generate(),
        config=config or GenerateConfig(),
        model=model,
        scorer=hybrid_reward(
            rubric_mode=rubric_mode, official_values=official_values, **reward_args
        ),
        metrics=[official_metric, *reward_metrics(group_by=group_by), official_unscored],
        headline_metric=headline(headline_metric),
        version=version,
        metadata=task_metadata(
            benchmark,
            protocols,
            specs=specs,
            checkers=any(s.metadata[SPEC_KEY]["checkers"] for s in samples if s.metadata),
            **(metadata or {}),
        ),
    )
