"""Runner pools: send batches to long-lived runner processes, validate replies, survive failures.

A pool keeps ``size`` connections to runners (``sandboxes/runner.py``), each a process on the
host or a container. A batch is split across them; a connection that fails (dies, times out,
answers garbage) is closed and replaced, and its part of the batch is retried — halved on each
further failure, so one item that brings its runner down ends with an error of its own while
the others still get verdicts. Nothing is dropped: every checker of every item gets a verdict.

Health is also judged by outcomes, because a runner could be poisoned without its connection
failing (e.g. a zygote whose limits were lowered, so that every later worker crashes). When a
reply holds items that errored with a runner-side kind (``crash`` or ``runtime``), the runner
is probed with a canary request (one generated-style and one built-in checker on a known
response). If the canary fails, the runner is replaced by a fresh one and just those items run
once more there; their second answer stands (an item that fails on two runners keeps its own
error). If the canary passes, the runner works and the errors are the items' own. A reply
without runner-side errors costs nothing; one with them costs one small request.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import json
import os
import queue
import site
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from harness.checkers import CheckerVerdict, CheckItem, is_trusted
from harness.checkers.image import sandbox_file
from harness.sandboxes import runner as wire

STATUSES = ("pass", "fail", "error")
MIN_CHUNK = 32
RUNNER_FAULT_KINDS = frozenset({"crash", "runtime"})
"""Error kinds a broken runner produces for honest items (not timeout/memory/exception: those
are what checker code does to itself)."""
VERDICT_CACHE_SIZE = 10_000
"""Verdicts remembered per pool: enough for what repeats close together (an official scorer
and the hybrid reward checking the same response), bounded so a long run's memory stays flat."""
_CANARY_CHECKER = {"id": "canary", "source": "def check(r):\n    return r == 'canary'\n"}
CANARY = {
    "type": "check",
    "id": "canary",
    "items": [
        {"response": "canary", "checkers": [_CANARY_CHECKER], "builtin": builtin}
        for builtin in (False, True)
    ],
}
"""A request a healthy runner answers with two passes, sent with the pool's limits (our own
code: "builtin" only selects the worker kind)."""


class UntrustedCodeError(RuntimeError):
    """Generated checker code was about to run outside a sandbox."""


class RunnerError(RuntimeError):
    """A runner connection failed; the connection is no longer usable."""


def request_items(items: Sequence[CheckItem]) -> list[dict[str, Any]]:
    return [
        {
            "response": item.response,
            "checkers": [
                {"id": c.id, "source": c.source, "kwargs": c.kwargs} for c in item.spec.checkers
            ],
            # trusted: run together, with their libraries preloaded (see sandboxes/runner.py)
            "builtin": bool(item.spec.checkers) and is_trusted(item),
        }
        for item in items
    ]


def verdict_key(item: CheckItem) -> str:
    """What a checker verdict depends on: the checkers (code and arguments) and the response."""
    checkers = [(c.id, c.source, c.kwargs) for c in item.spec.checkers]
    # Not ensure_ascii: its escapes make the code points "\udbff\udfff" and the character
    # "\U0010ffff" one key. Raw text with surrogatepass keeps every str distinct and encodable.
    blob = json.dumps([checkers, item.response], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def parse_verdicts(reply: Any, items: Sequence[CheckItem]) -> list[list[CheckerVerdict]]:
    """Verdicts from a runner reply, checked against the request; RunnerError if they do not fit."""
    if not isinstance(reply, dict) or reply.get("type") != "result":
        error = reply.get("error") if isinstance(reply, dict) else None
        raise RunnerError(f"runner answered {error or repr(reply)[:200]}")
    results = reply.get("items")
    if not isinstance(results, list) or len(results) != len(items):
        raise RunnerError("runner reply does not have one result per item")
    out = []
    for item, verdicts in zip(items, results, strict=True):
        expected = [c.id for c in item.spec.checkers]
        if (
            not isinstance(verdicts, list)
            or [v.get("checker_id") for v in verdicts if isinstance(v, dict)] != expected
        ):
            raise RunnerError(f"runner reply does not match the checkers {expected}")
        parsed = []
        for v in verdicts:
            if v.get("status") not in STATUSES:
                raise RunnerError(f"runner reply has an unknown status {v.get('status')!r}")
            parsed.append(CheckerVerdict.model_validate(v))
        out.append(parsed)
    return out


def runner_fault(verdicts: Sequence[CheckerVerdict]) -> bool:
    """Whether an item's verdicts show a runner-side failure (which a broken runner causes)."""
    return any(v.status == "error" and v.error_kind in RUNNER_FAULT_KINDS for v in verdicts)


def runtime_errors(items: Sequence[CheckItem], message: str) -> list[list[CheckerVerdict]]:
    return [
        [
            CheckerVerdict(checker_id=c.id, status="error", error_kind="runtime", message=message)
            for c in item.spec.checkers
        ]
        for item in items
    ]


class Connection(Protocol):
    info: dict[str, Any]

    def request(self, payload: dict[str, Any], timeout: float) -> Any: ...

    def close(self) -> None: ...


class _DeadConnection:
    """Stands in for a runner that could not be started, so the pool keeps its size and retries later."""

    def __init__(self, reason: str) -> None:
        self.info = {}
        self.reason = reason

    def request(self, payload: dict[str, Any], timeout: float) -> Any:
        raise RunnerError(self.reason)

    def close(self) -> None:
        pass


class RunnerPool:
    """The runtime logic shared by the local and Docker pools (subclasses make connections)."""

    name = "runner"

    def __init__(self, size: int, limits: dict[str, float] | None = None) -> None:
        if size < 1:
            raise ValueError("pool size must be >= 1")
        unknown = set(limits or {}) - set(wire.DEFAULT_LIMITS)
        if unknown:
            raise ValueError(
                f"unknown limits {sorted(unknown)}; known: {sorted(wire.DEFAULT_LIMITS)}"
            )
        self.size = size
        self.limits = {**wire.DEFAULT_LIMITS, **(limits or {})}
        self._idle: queue.Queue[Connection] = queue.Queue()
        self._all: list[Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self.restarts = 0
        self.recycled = 0
        """Runners replaced because they failed every item of a reply (a subset of restarts)."""
        self.requests = 0
        # e.g. IFEval: the official scorer and the hybrid reward check the same response
        self._verdicts: OrderedDict[str, tuple[CheckerVerdict, ...]] = OrderedDict()
        for _ in range(size):
            self._idle.put(self._open())
        atexit.register(self.close)

    # subclasses
    def connect(self) -> Connection:
        raise NotImplementedError

    def admit(self, items: Sequence[CheckItem]) -> None:
        """Raise if this runtime may not run these items' checkers."""

    # pool mechanics
    def _open(self) -> Connection:
        connection = self.connect()
        with self._lock:
            self._all.append(connection)
        return connection

    def _discard(self, connection: Connection) -> None:
        with self._lock:
            if connection in self._all:
                self._all.remove(connection)
        try:
            connection.close()
        except Exception:
            pass

    def _timeout(self, n_items: int) -> float:
        parallel = self.limits["parallel"] or os.cpu_count() or 1
        return 30.0 + self.limits["item_timeout_s"] * (n_items / parallel + 1)

    def _replace(self, connection: Connection) -> Connection | None:
        """Discard a runner and start its successor (None, with a dead stand-in, if none starts)."""
        self._discard(connection)
        self.restarts += 1
        try:
            return self._open()
        except Exception as ex:
            self._idle.put(_DeadConnection(f"could not restart a runner: {ex}"))
            return None

    def _run(
        self,
        items: Sequence[CheckItem],
        retries_left: int = 1,
        judge_health: bool = True,
        connection: Connection | None = None,
    ) -> list[list[CheckerVerdict]]:
        if self._closed:
            raise RunnerError(f"the {self.name} pool is closed")
        if connection is None:
            connection = self._idle.get()
        self.requests += 1
        try:
            payload = {
                "type": "check",
                "id": 0,
                "items": request_items(items),
                "limits": self.limits,
            }
            verdicts = parse_verdicts(connection.request(payload, self._timeout(len(items))), items)
        except Exception as ex:
            self._discard(connection)
            self.restarts += 1
            try:
                self._idle.put(self._open())
            except Exception as open_ex:  # cannot even start a runner: report, do not loop
                self._idle.put(_DeadConnection(f"could not restart a runner: {open_ex}"))
                return runtime_errors(
                    items, f"runner failed ({ex}) and could not be restarted ({open_ex})"
                )
            if retries_left > 0:
                return self._run(items, retries_left - 1)
            if len(items) > 1:  # isolate the item that keeps bringing runners down
                half = len(items) // 2
                return self._run(items[:half], 1) + self._run(items[half:], 1)
            return runtime_errors(items, f"runner failed twice on this item: {ex}")
        suspects = [i for i, v in enumerate(verdicts) if runner_fault(v)] if judge_health else []
        if suspects and not self._healthy(connection):
            # the runner broke, not the items: run them again on a fresh one
            self.recycled += 1
            fresh = self._replace(connection)
            if fresh is None:
                return verdicts
            again = self._run(
                [items[i] for i in suspects], retries_left, judge_health=False, connection=fresh
            )
            for i, answer in zip(suspects, again, strict=True):
                verdicts[i] = answer
            return verdicts
        self._idle.put(connection)
        return verdicts

    def _healthy(self, connection: Connection) -> bool:
        """Whether the runner still checks honest items (both kinds of worker) correctly."""
        try:
            reply = connection.request(
                {**CANARY, "limits": self.limits}, timeout=self._timeout(len(CANARY["items"]))
            )
        except Exception:
            return False
        expected = [[{"checker_id": "canary", "status": "pass"}]] * len(CANARY["items"])
        got = reply.get("items") if isinstance(reply, dict) else None
        return (
            isinstance(got, list)
            and [[{k: v.get(k) for k in ("checker_id", "status")} for v in r] for r in got]
            == expected
        )

    async def check(self, items: Sequence[CheckItem]) -> list[list[CheckerVerdict]]:
        self.admit(items)
        results: list[list[CheckerVerdict]] = [[] for _ in items]
        keys = [verdict_key(item) for item in items]
        todo = []
        for i, item in enumerate(items):
            if not item.spec.checkers:
                continue
            if (
                keys[i] in self._verdicts
            ):  # checkers are deterministic: the same item, the same verdicts
                self._verdicts.move_to_end(keys[i])
                results[i] = list(self._verdicts[keys[i]])
            else:
                todo.append(i)
        if not todo:
            return results
        # Spread only batches big enough to gain from it: a small request keeps one runner busy,
        # so concurrent small requests (one per sample in an eval) run on different runners.
        n = max(1, min(self.size, len(todo) // MIN_CHUNK))
        chunks = [todo[k::n] for k in range(n)]
        answers = await asyncio.gather(
            *(asyncio.to_thread(self._run, [items[i] for i in chunk]) for chunk in chunks)
        )
        for chunk, answer in zip(chunks, answers, strict=True):
            for i, verdicts in zip(chunk, answer, strict=True):
                results[i] = verdicts
                if all(v.status != "error" for v in verdicts):  # failures are retried next time
                    self._verdicts[keys[i]] = tuple(verdicts)
        while len(self._verdicts) > VERDICT_CACHE_SIZE:
            self._verdicts.popitem(last=False)
        return results

    def clear_cache(self) -> None:
        """Forget remembered verdicts (benchmarks measure the runners, not the cache)."""
        self._verdicts.clear()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            connections, self._all = list(self._all), []
        for connection in connections:
            try:
                connection.close()
            except Exception:
                pass

    def __enter__(self) -> RunnerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> RunnerPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def runner_path() -> str:
    return str(sandbox_file("runner.py"))


class ProcessConnection:
    """A runner as a child process of this one, talking frames over its stdin/stdout."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-S",
                runner_path(),
                "serve",
                "--preload",
                str(sandbox_file("preload.py")),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        try:
            self.info = self.request({"type": "ping"}, timeout=30)
        except BaseException:
            self.close()
            raise

    def request(self, payload: dict[str, Any], timeout: float) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        timer = threading.Timer(timeout, self.process.kill)
        timer.start()
        try:
            wire.write_frame(self.process.stdin, payload)
            reply = wire.read_frame(self.process.stdout)
        except (OSError, EOFError, ValueError) as ex:
            raise RunnerError(f"runner process failed: {type(ex).__name__}: {ex}") from None
        finally:
            timer.cancel()
        if reply is None:
            raise RunnerError(f"runner process ended (exit status {self.process.poll()})")
        return reply

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


class LocalRuntime(RunnerPool):
    """Runners as host processes: the same worker isolation, but no container around it.

    For trusted checker code only (by default: the built-in checkers in
    ``harness.checkers.TRUSTED_SOURCES``). Generated checkers are refused unless
    ``allow_untrusted=True`` (the user accepts running LLM-written code on this machine).
    The runner gets a minimal environment, so API keys in this process never reach it.
    """

    name = "local"

    def __init__(
        self,
        size: int = 1,
        limits: dict[str, float] | None = None,
        allow_untrusted: bool = False,
        trusted: Callable[[CheckItem], bool] | None = None,
    ) -> None:
        self.allow_untrusted = allow_untrusted
        self.trusted = trusted or is_trusted
        super().__init__(size, limits)

    def connect(self) -> Connection:
        env = {"PATH": os.defpath, "LANG": "C.UTF-8"}
        if os.environ.get("NLTK_DATA"):  # data of the built-in checkers, not a secret
            env["NLTK_DATA"] = os.environ["NLTK_DATA"]
        # the built-in checkers' libraries, for the library zygote only (runners start with -S)
        env["HARNESS_CHECKER_PATH"] = os.pathsep.join(site.getsitepackages())
        return ProcessConnection(env)

    def admit(self, items: Sequence[CheckItem]) -> None:
        if self.allow_untrusted:
            return
        refused = sorted(
            {item.spec.prompt_id for item in items if item.spec.checkers and not self.trusted(item)}
        )
        if refused:
            raise UntrustedCodeError(
                f"refusing to run generated checker code outside a sandbox (specs {refused[:5]}); "
                "run checkers in Docker (bash sandboxes/setup_docker.sh && bash sandboxes/build_image.sh, "
                "then checker_runtime='docker'), or pass allow_untrusted=True to accept running it on this machine"
            )
