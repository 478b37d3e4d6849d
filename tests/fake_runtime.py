"""Tests only: a checker runtime that runs *trusted test checkers* in-process.

The real runtime isolates untrusted checker code in a sandbox; this stand-in exists so the
scoring core's handling of verdicts can be tested on its own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from harness.checkers import CheckerVerdict, CheckItem


class InProcessRuntime:
    def __init__(self) -> None:
        self.batches: list[int] = []

    async def check(self, items: Sequence[CheckItem]) -> list[list[CheckerVerdict]]:
        self.batches.append(len(items))
        results = []
        for item in items:
            verdicts = []
            for checker in item.spec.checkers:
                start = time.perf_counter()
                namespace: dict = {}
                try:
                    exec(checker.source, namespace)
                    value = namespace["check"](item.response, **checker.kwargs)
                except Exception as ex:
                    verdicts.append(
                        CheckerVerdict(
                            checker_id=checker.id,
                            status="error",
                            error_kind="exception",
                            message=f"{type(ex).__name__}: {ex}",
                        )
                    )
                    continue
                if not isinstance(value, bool):
                    verdicts.append(
                        CheckerVerdict(
                            checker_id=checker.id,
                            status="error",
                            error_kind="bad_return",
                            message=f"returned {type(value).__name__}",
                        )
                    )
                    continue
                verdicts.append(
                    CheckerVerdict(
                        checker_id=checker.id,
                        status="pass" if value else "fail",
                        duration_s=time.perf_counter() - start,
                    )
                )
            results.append(verdicts)
        return results
