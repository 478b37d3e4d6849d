"""Inspect tasks (installed as ``harness.tasks``; each file also runs as ``inspect eval tasks/<name>.py``)."""

from typing import Any

from inspect_ai import Task
from inspect_ai._util.package import get_installed_package_name
from inspect_ai.dataset import Dataset

from harness.replay import with_replay_coverage


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
