"""What produced a number: recorded in every task's eval metadata.

A before/after comparison across project upgrades must tell which port, protocol and checker
code produced each number. ``task_metadata`` gathers it once per task (``Task(metadata=...)``,
shown in the log header and in ``evals_df``'s ``task_arg``/metadata columns).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path
from typing import Any

DISTRIBUTION = "reward-harness"

OFFICIAL_CHECKER_PACKAGES = ("if-verifiable", "nltk", "langdetect", "emoji", "syllapy")
"""Packages whose code decides the official IFEval / IFBench verdicts."""


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def checker_image() -> str:
    """The content-addressed tag of the checker sandbox image these sources build."""
    from harness.checkers.image import image_tag

    try:
        return image_tag()
    except Exception as ex:  # a checker library missing: say so rather than fail the task
        return f"unknown ({ex})"


def task_metadata(
    benchmark: str,
    protocols: dict[str, str],
    *,
    specs: str | None = None,
    checkers: bool = False,
    official_packages: tuple[str, ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    """Eval metadata of a task: the harness version, the judge protocols (``name@version``) by
    component, the spec store's sha256 when one is used, the checker image tag when checkers
    run, and the versions of the packages whose code decides official verdicts."""
    meta: dict[str, Any] = {
        "harness_version": package_version(DISTRIBUTION),
        "inspect_ai_version": package_version("inspect-ai"),
        "benchmark": benchmark,
        "protocols": dict(protocols),
    }
    if specs:
        meta["spec_store"] = {"path": str(specs), "sha256": file_sha256(specs)}
    if checkers:
        meta["checker_image"] = checker_image()
    if official_packages:
        meta["official_packages"] = {p: package_version(p) for p in official_packages}
    meta.update(extra)
    return meta


def judge_protocols(rubric_mode: str | None = "single") -> dict[str, str]:
    """``{"rubric": "name@version", "global": "name@version"}`` of a reward scorer's judges."""
    from harness.judges.holistic import GlobalJudge
    from harness.protocols import rubric_protocol_named

    protocols = {}
    if rubric_mode:
        rubric = rubric_protocol_named(rubric_mode)
        protocols["rubric"] = f"{rubric.name}@{rubric.version}"
    protocols["global"] = f"{GlobalJudge.name}@{GlobalJudge.version}"
    return protocols
