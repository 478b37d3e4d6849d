"""Inspect tasks (installed as ``harness.tasks``; each file also runs as ``inspect eval tasks/<name>.py``)."""

from inspect_ai._util.package import get_installed_package_name


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
