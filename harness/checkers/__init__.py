"""Checker runtimes: the interface the scoring core depends on, and how to get one.

Checker code is untrusted: it is executed only by a runtime that isolates it. A runtime
receives a batch of (spec, response) items and returns, per item, one verdict per checker in
spec order. Implementations: the Docker warm pool (``docker_pool``), the Inspect sandbox path
(``inspect_sandbox``) and host runners for trusted code (``runtime.LocalRuntime``), all
speaking to the same runner (``sandboxes/runner.py``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel

from harness.spec import RewardSpec

CheckerStatus = Literal["pass", "fail", "error"]


class CheckerVerdict(BaseModel):
    checker_id: str
    status: CheckerStatus
    error_kind: str | None = None
    """For errors: exception, timeout, memory, bad_return, output_limit, runtime, ..."""
    message: str | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class CheckItem:
    spec: RewardSpec
    response: str


@runtime_checkable
class CheckerRuntime(Protocol):
    async def check(self, items: Sequence[CheckItem]) -> list[list[CheckerVerdict]]:
        """One list of verdicts per item, one verdict per checker of that item's spec."""
        ...


# Sources of the built-in checkers that ship with the harness (e.g. the calls into the official
# IFEval/IFBench checker code). Only these may run outside a container (``local`` runtime):
# trust comes from the exact source text, which a spec cannot change without leaving this set.
TRUSTED_SOURCES: set[str] = set()


def is_trusted(item: CheckItem) -> bool:
    return all(c.source in TRUSTED_SOURCES for c in item.spec.checkers)


RUNTIME_KINDS = ("auto", "docker", "sandbox", "local", "local-unsafe")


class UnavailableRuntime:
    """A runtime that could not be had: every check fails with the reason (so code is unscored)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def check(self, items: Sequence[CheckItem]) -> list[list[CheckerVerdict]]:
        raise RuntimeError(self.reason)


_shared_pools: dict[tuple[str, str], CheckerRuntime] = {}
_shared_pools_lock = threading.Lock()  # samples resolve their runtime concurrently, in threads


def _in_inspect_sandbox() -> bool:
    from inspect_ai.util import sandbox

    try:
        sandbox()
    except Exception:
        return False
    return True


def checker_limits(limits: Mapping[str, float] | None) -> dict[str, float]:
    """Validated checker limit overrides (names of ``sandboxes/runner.py`` ``DEFAULT_LIMITS``)."""
    from harness.sandboxes.runner import DEFAULT_LIMITS

    out = dict(limits or {})
    unknown = sorted(set(out) - set(DEFAULT_LIMITS))
    if unknown:
        raise ValueError(f"unknown checker limits {unknown}; known: {sorted(DEFAULT_LIMITS)}")
    for name, value in out.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"checker limit {name} must be a number >= 0, got {value!r}")
    return out


def limits_argument(limits: Mapping[str, float] | None) -> dict[str, float] | None:
    """A scorer's or task's ``checker_limits`` argument, checked while the task is built: a bad
    one stops ``inspect eval`` with one line before any generation."""
    if limits is None:
        return None
    try:
        return checker_limits(limits)
    except ValueError as ex:
        from inspect_ai._util.error import PrerequisiteError

        raise PrerequisiteError(f"checker_limits: {ex}") from None


def _shared_pool(kind: str, limits: dict[str, float]) -> CheckerRuntime:
    """One pool per (kind, limits) per process: containers are warm across samples and tasks."""
    key = (kind, json.dumps({k: float(v) for k, v in limits.items()}, sort_keys=True))
    with _shared_pools_lock:
        if key not in _shared_pools:
            if kind == "docker":
                from harness.checkers.docker_pool import DockerPool

                _shared_pools[key] = DockerPool(limits=limits or None)
            else:
                from harness.checkers.runtime import LocalRuntime

                _shared_pools[key] = LocalRuntime(
                    limits=limits or None, allow_untrusted=kind == "local-unsafe"
                )
        return _shared_pools[key]


def resolve_runtime(kind: str, limits: Mapping[str, float] | None = None) -> CheckerRuntime:
    """The checker runtime for a kind name.

    - ``docker``: the shared warm pool of hardened containers;
    - ``sandbox``: the current sample's Inspect sandbox (the task declares ``sandbox_spec()``);
    - ``local``: runners on the host, for trusted checker code only (generated code is refused);
    - ``local-unsafe``: runners on the host for any code (the user accepts the risk);
    - ``auto``: ``sandbox`` inside a sample that has one, else ``docker`` when an engine
      answers, else ``local`` (which refuses generated code and says how to get Docker).
    ``limits`` overrides the runner's ``DEFAULT_LIMITS`` (e.g. ``{"checker_timeout_s": 5}``);
    pools are shared per (kind, limits), so tasks with different limits get different pools.
    Unknown limit names raise ``ValueError``.
    Blocking on first use of a pool (containers start): call it from a thread in async code.
    """
    if kind not in RUNTIME_KINDS:
        raise ValueError(f"unknown checker runtime {kind!r}; expected one of {RUNTIME_KINDS}")
    overrides = checker_limits(limits)
    if kind == "auto":
        from harness.checkers.docker_pool import docker_available

        kind = "sandbox" if _in_inspect_sandbox() else "docker" if docker_available() else "local"
    if kind == "sandbox":
        from harness.checkers.inspect_sandbox import SandboxRuntime

        return SandboxRuntime(limits=overrides or None)
    try:
        return _shared_pool(kind, overrides)
    except Exception as ex:
        return UnavailableRuntime(f"{kind} checker runtime unavailable: {ex}")
