"""Judges bound to model roles, checked before any generation.

``inspect eval`` resolves model roles before it builds tasks, so a scorer factory can see an
unbound judge while the task is being built — before the policy generates anything — and stop
the run with one line instead of failing every sample after minutes of generation.
"""

from __future__ import annotations

from inspect_ai._util.error import PrerequisiteError
from inspect_ai.model import model_roles
from inspect_ai.model._model import active_model

GRADER = "grader"


def building_inside_eval() -> bool:
    """True while Inspect resolves tasks or runs them (roles are known then); False when a
    task is built directly in Python before ``eval(task, model_roles=...)``."""
    return active_model() is not None


def require_judge_roles(roles: tuple[str, ...], required: bool = True) -> None:
    """Fail fast, with one line, when none of ``roles`` nor ``grader`` is bound.

    ``roles`` are the component roles a scorer would use (e.g. ``("rubric_grader",
    "global_grader")``); each falls back to ``grader``. Outside an eval being built (a task
    constructed in Python) nothing can be checked yet; the scorer then fails at scoring time.
    """
    if not required or not building_inside_eval():
        return
    bound = model_roles()
    missing = [r for r in roles if r not in bound] if GRADER not in bound else []
    if missing:
        raise PrerequisiteError(
            f"No judge bound for {', '.join(missing)}: pass --model-role {GRADER}=<model> "
            f"(or {' / '.join(f'{r}=<model>' for r in missing)}), or -T require_grader=false "
            "to report the judged components unscored"
        )
