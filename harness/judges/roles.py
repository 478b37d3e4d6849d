"""Judges bound to model roles, checked before any generation.

``inspect eval`` resolves model roles before it builds tasks (a model whose API key is missing
already stops it there, with Inspect's own message and exit status 1), so a scorer factory can
see an unbound judge, or a judge configured in a way its provider rejects, while the task is
being built — before the policy generates anything — and stop the run with one line instead of
leaving every sample unscored after minutes of generation. (An eval that fails later, with
status "error", still exits 0 from ``inspect eval``: checks belong here.)
"""

from __future__ import annotations

import re

import yaml
from inspect_ai._util.error import PrerequisiteError
from inspect_ai.model import GenerateConfig, Model, get_model, model_roles
from inspect_ai.model._model import active_model
from rich.text import Text

from harness.judges.calling import provider_of, refused_settings
from harness.judges.rate_limits import RateLimit, set_rate_limit

GRADER = "grader"


class JudgeSetupError(PrerequisiteError):
    """A judge that cannot be used as configured; the message is one plain line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.message)


def building_inside_eval() -> bool:
    """True while Inspect resolves tasks or runs them (roles are known then); False when a
    task is built directly in Python before ``eval(task, model_roles=...)``."""
    return active_model() is not None


def plain_message(error: BaseException) -> str:
    """An error's message as one plain line: Inspect's setup errors (a missing API key, an
    unknown provider) are rich markup over several lines."""
    message = str(getattr(error, "message", None) or error)
    try:
        message = Text.from_markup(message).plain
    except Exception:  # not valid markup: the text as it is
        pass
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    joined = "".join(
        line if i == 0 else (" " if lines[i - 1][-1] in ".:;," else ": ") + line
        for i, line in enumerate(lines)
    )
    return re.sub(r"^ERROR:\s*", "", joined)


def judge_config_problem(role: str, model: Model) -> str | None:
    """Why a judge's own settings cannot work with its provider (None when they can)."""
    temperature = model.config.temperature
    refused = refused_settings(provider_of(model), model.config)
    if "temperature" in refused and getattr(model.api, "do_sample", True):
        return (
            f"judge role {role} ({model}) sets temperature {temperature:g}, which hf/ rejects "
            f"while sampling: for greedy judging bind it as '{role}={{model: {model}, "
            "model_args: {do_sample: false}}' (temperature left out)"
        )
    return None


def require_judge_roles(roles: tuple[str, ...], required: bool = True) -> None:
    """Fail fast, with one line, when none of ``roles`` nor ``grader`` is bound, or when a bound
    judge's own settings are ones its provider rejects.

    ``roles`` are the component roles a scorer would use (e.g. ``("rubric_grader",
    "global_grader")``); each falls back to ``grader``. Outside an eval being built (a task
    constructed in Python) nothing can be checked yet; the scorer then fails at scoring time.
    """
    if not building_inside_eval():
        return
    bound = model_roles()
    missing = [r for r in roles if r not in bound] if GRADER not in bound else []
    if missing and required:
        alternatives = [r for r in missing if r != GRADER]
        per_role = (
            f" (or {' / '.join(f'{r}=<model>' for r in alternatives)})" if alternatives else ""
        )
        raise JudgeSetupError(
            f"No judge bound for {', '.join(missing)}: pass --model-role {GRADER}=<model>"
            f"{per_role}, or -T require_grader=false to report the judged components unscored"
        )
    for role in dict.fromkeys([*roles, GRADER]):
        models = bound.get(role)
        for model in models if isinstance(models, list) else [models] if models else []:
            problem = judge_config_problem(role, model)
            if problem:
                raise JudgeSetupError(problem)


def role_judge(role: str, required: bool) -> Model | None:
    """The judge of a component role inside an eval: the role's model when bound, else the
    ``grader``'s; None only when neither is bound and judging is optional (never self-grading:
    an unbound required role is Inspect's error, not the policy)."""
    bound = model_roles()
    if role in bound:
        return get_model(role=role, required=True)
    if GRADER in bound or required:
        return get_model(role=GRADER, required=True)
    return None


def load_judge(
    name: str,
    role: str = GRADER,
    *,
    max_connections: int | None = None,
    rate_limit: RateLimit | None = None,
) -> Model:
    """A judge model by name, or by inline YAML/JSON as Inspect's ``--model-role`` takes it
    (``{model: simulated/j, model_args: {latency: 0.1}, temperature: 0}``), for code outside
    an eval (the ``harness`` CLI): a missing API key, an unknown provider or a bad setting is
    a ``JudgeSetupError`` with one plain line. ``max_connections``: concurrent calls;
    ``rate_limit``: requests/tokens per minute, shared by every role calling this model."""
    try:
        if name.lstrip().startswith("{"):
            spec = yaml.safe_load(name)
            if not isinstance(spec, dict) or "model" not in spec:
                raise ValueError("expected {model: NAME, ...}")
            model_args = spec.pop("model_args", {}) or {}
            config = GenerateConfig(**{k: v for k, v in spec.items() if k != "model"})
            model_name = spec["model"]
        else:
            model_name, model_args, config = name, {}, GenerateConfig()
        if max_connections is not None:
            config = config.merge(GenerateConfig(max_connections=max_connections))
        model = get_model(model_name, config=config, memoize=False, **model_args)
    except Exception as ex:
        raise JudgeSetupError(f"judge {role}={name}: {plain_message(ex)}") from None
    problem = judge_config_problem(role, model)
    if problem:
        raise JudgeSetupError(problem)
    if rate_limit is not None:
        set_rate_limit(model, rate_limit)
    return model
