"""The Inspect path: checkers run through the current sample's sandbox with ``sandbox().exec``.

A task opts in with ``sandbox=sandbox_spec()`` (the compose file in ``sandboxes/``, same
hardening as the warm pool). Each request is one ``exec`` of the runner in ``once`` mode; the
reply is small (one verdict per checker, messages capped by the runner), and Inspect's exec
output cap is handled as an error of the items, not a crash.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from inspect_ai.util import OutputLimitExceededError, sandbox

from harness.checkers import CheckerVerdict, CheckItem, checker_limits
from harness.checkers.image import PRELOAD_IN_IMAGE, RUNNER_IN_IMAGE, compose_file
from harness.checkers.runtime import RunnerError, parse_verdicts, request_items, runtime_errors
from harness.sandboxes import runner as wire


def sandbox_spec() -> tuple[str, str]:
    """``Task(sandbox=...)`` value for checker sandboxes built from this checkout."""
    return ("docker", str(compose_file()))


class SandboxRuntime:
    """Checker runtime over an Inspect sandbox (per-sample container managed by Inspect)."""

    def __init__(
        self, limits: dict[str, float] | None = None, sandbox_name: str | None = None
    ) -> None:
        self.limits = {**wire.DEFAULT_LIMITS, **checker_limits(limits)}
        self.sandbox_name = sandbox_name

    async def check(self, items: Sequence[CheckItem]) -> list[list[CheckerVerdict]]:
        todo = [i for i, item in enumerate(items) if item.spec.checkers]
        results: list[list[CheckerVerdict]] = [[] for _ in items]
        if not todo:
            return results
        batch = [items[i] for i in todo]
        payload = {"type": "check", "id": 0, "items": request_items(batch), "limits": self.limits}
        timeout = 30 + int(self.limits["item_timeout_s"] * (len(batch) + 1))
        try:
            result = await sandbox(self.sandbox_name).exec(
                [
                    "python3",
                    "-I",
                    "-S",
                    RUNNER_IN_IMAGE,
                    "once",
                    "--require-seccomp",
                    "--preload",
                    PRELOAD_IN_IMAGE,
                ],
                input=wire.encode(payload),  # exact for any str (see the runner's encode)
                timeout=timeout,
            )
            if not result.success:
                raise RunnerError(
                    f"runner exited with {result.returncode}: {result.stderr.strip()[-500:]}"
                )
            verdicts = parse_verdicts(json.loads(result.stdout), batch)
        except OutputLimitExceededError as ex:
            verdicts = runtime_errors(
                batch, f"runner reply exceeded Inspect's exec output limit: {ex}"
            )
        except TimeoutError:
            verdicts = runtime_errors(batch, f"runner did not answer within {timeout} s")
        except (RunnerError, ValueError) as ex:
            verdicts = runtime_errors(batch, str(ex))
        for i, v in zip(todo, verdicts, strict=True):
            results[i] = v
        return results
