"""The checker runtime interface.

Checker code is untrusted: it is executed only by a runtime that isolates it (the Docker
sandbox runtime). The scoring core depends only on this protocol. A runtime receives a batch
of (spec, response) items and returns, per item, one verdict per checker in spec order.
"""

from __future__ import annotations

from collections.abc import Sequence
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
