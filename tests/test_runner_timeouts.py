"""Checker time limits: enforced from outside the worker, in CPU time, independent of load.

Host runners (no Docker): the time limits live in the runner's main process, which is the
same program in the checker image.
"""

from __future__ import annotations

import asyncio
import json
import os
import site
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_DATA

from harness.benchmarks import instruction_following as inf
from harness.checkers.runtime import LocalRuntime, ProcessConnection

BUSY = "def check(r):\n    while True:\n        pass\n"
SWALLOW = (
    "def check(r):\n"
    "    while True:\n"
    "        try:\n"
    "            while True:\n"
    "                pass\n"
    "        except BaseException:\n"
    "            pass\n"
)
CONVERT = (  # what langdetect + the official language checkers did with the old timer
    "def check(r):\n"
    "    try:\n"
    "        while True:\n"
    "            pass\n"
    "    except BaseException:\n"
    "        return True\n"
)
IGNORE_SIGNALS = (
    "import signal\n"
    "def check(r):\n"
    "    for s in (signal.SIGALRM, signal.SIGXCPU, signal.SIGTERM, signal.SIGVTALRM):\n"
    "        signal.signal(s, signal.SIG_IGN)\n"
    "    while True:\n"
    "        pass\n"
)
SLEEP_SWALLOW = (
    "import time\n"
    "def check(r):\n"
    "    while True:\n"
    "        try:\n"
    "            time.sleep(10)\n"
    "        except BaseException:\n"
    "            pass\n"
)
HONEST = "def check(r):\n    return r.startswith('hello')\n"


def burn(seconds: float) -> str:
    """A checker that uses ``seconds`` of CPU time, then passes."""
    return (
        "import time\n"
        "def check(r):\n"
        f"    end = time.process_time() + {seconds!r}\n"
        "    while time.process_time() < end:\n"
        "        pass\n"
        "    return True\n"
    )


def runner_env() -> dict[str, str]:
    env = {"PATH": os.defpath, "LANG": "C.UTF-8"}
    if os.environ.get("NLTK_DATA"):
        env["NLTK_DATA"] = os.environ["NLTK_DATA"]
    env["HARNESS_CHECKER_PATH"] = os.pathsep.join(site.getsitepackages())
    return env


@pytest.fixture(scope="module")
def runner() -> Iterator[ProcessConnection]:
    """A host runner with the built-in checkers' libraries preloaded, spoken to on the wire."""
    connection = ProcessConnection(runner_env())
    yield connection
    connection.close()


def run(
    connection: ProcessConnection,
    checkers: list[tuple[str, str]],
    limits: dict[str, float],
    libraries: bool = False,
    response: str = "hello world",
) -> dict[str, tuple[str, str | None]]:
    item = {
        "response": response,
        "builtin": libraries,
        "checkers": [{"id": cid, "source": source} for cid, source in checkers],
    }
    reply = connection.request({"type": "check", "id": 1, "items": [item], "limits": limits}, 120)
    assert reply["type"] == "result", reply
    [verdicts] = reply["items"]
    assert [v["checker_id"] for v in verdicts] == [cid for cid, _ in checkers]
    run.messages = {v["checker_id"]: v["message"] for v in verdicts}  # type: ignore[attr-defined]
    run.durations = {v["checker_id"]: v["duration_s"] for v in verdicts}  # type: ignore[attr-defined]
    return {v["checker_id"]: (v["status"], v["error_kind"]) for v in verdicts}


@contextmanager
def cpu_load(processes: int) -> Iterator[None]:
    """``processes`` busy processes for the duration of the block."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        time.sleep(0.3)  # let them start
        yield
    finally:
        for process in busy:
            process.kill()
        for process in busy:
            process.wait()


def load_size() -> int:
    return 4 * len(os.sched_getaffinity(0))


FAST = {"checker_timeout_s": 0.5, "checker_wall_s": 6.0, "item_timeout_s": 60.0}


def test_a_timeout_cannot_be_caught_ignored_or_turned_into_a_pass(
    runner: ProcessConnection,
) -> None:
    checkers = [
        ("before", HONEST),
        ("busy", BUSY),
        ("swallow", SWALLOW),
        ("convert", CONVERT),
        ("ignore_signals", IGNORE_SIGNALS),
        ("sleep_swallow", SLEEP_SWALLOW),
        ("after", HONEST),
    ]
    got = run(runner, checkers, FAST)
    assert got == {
        "before": ("pass", None),
        "busy": ("error", "timeout"),
        "swallow": ("error", "timeout"),
        "convert": ("error", "timeout"),
        "ignore_signals": ("error", "timeout"),
        "sleep_swallow": ("error", "timeout"),
        "after": ("pass", None),  # continued in a fresh worker, with its own verdict
    }
    messages = run.messages  # type: ignore[attr-defined]
    assert "0.5 s of CPU time" in messages["convert"]
    assert "6 s (wall clock)" in messages["sleep_swallow"]
    # the honest checker of the same item is judged on its own, not carried along
    again = run(runner, [("convert", CONVERT), ("after", HONEST)], FAST, response="goodbye")
    assert again == {"convert": ("error", "timeout"), "after": ("fail", None)}


def test_the_budget_is_cpu_time_not_wall_clock(runner: ProcessConnection) -> None:
    sleeper = "import time\ndef check(r):\n    time.sleep(1.2)\n    return True\n"
    got = run(runner, [("sleeps", sleeper), ("cpu", burn(0.2)), ("over", burn(2.0))], FAST)
    # 1.2 s asleep is more than the 0.5 s budget in wall clock, but uses no CPU
    assert got == {"sleeps": ("pass", None), "cpu": ("pass", None), "over": ("error", "timeout")}


def test_cpu_bound_checker_passes_under_load(runner: ProcessConnection) -> None:
    checkers = [("cpu", burn(0.3)), ("honest", HONEST)]
    limits = {"checker_timeout_s": 0.6, "checker_wall_s": 60.0, "item_timeout_s": 120.0}
    quiet = run(runner, checkers, limits)
    with cpu_load(load_size()):
        loaded = run(runner, checkers, limits)
        wall = run.durations["cpu"]  # type: ignore[attr-defined]
    assert quiet == loaded == {"cpu": ("pass", None), "honest": ("pass", None)}
    assert wall > 0.6  # the load was real: a wall-clock budget of 0.6 s would have fired


def test_built_in_checkers_get_one_retry_with_a_larger_budget(runner: ProcessConnection) -> None:
    limits = {**FAST, "retry_factor": 4.0}
    checkers = [("slow", burn(0.8)), ("endless", BUSY), ("after", HONEST)]
    built_in = run(runner, checkers, limits, libraries=True)
    assert built_in == {
        "slow": ("pass", None),  # 0.8 s: over 0.5, under 4 x 0.5
        "endless": ("error", "timeout"),
        "after": ("pass", None),
    }
    assert "second try" in run.messages["endless"]  # type: ignore[attr-defined]
    generated = run(runner, checkers, limits)  # generated checkers get no second chance
    assert generated == {
        "slow": ("error", "timeout"),
        "endless": ("error", "timeout"),
        "after": ("pass", None),
    }
    no_retry = run(runner, checkers, {**limits, "retry_factor": 0}, libraries=True)
    assert no_retry["slow"] == ("error", "timeout")


def test_item_deadline_still_ends_an_item_with_timeouts(runner: ProcessConnection) -> None:
    sleeper = "import time\ndef check(r):\n    time.sleep(60)\n    return True\n"
    limits = {"checker_timeout_s": 1.0, "checker_wall_s": 30.0, "item_timeout_s": 1.5}
    start = time.monotonic()
    # each needs a process of its own (it imports time): they run in order
    honest = "import time\ndef check(r):\n    return True\n"
    got = run(runner, [("ok", honest), ("sleeps", sleeper), ("later", honest)], limits)
    assert time.monotonic() - start < 10
    assert got == {
        "ok": ("pass", None),
        "sleeps": ("error", "timeout"),
        "later": ("error", "timeout"),  # an error verdict, not dropped
    }


def test_library_data_is_loaded_in_the_zygote_before_any_item(runner: ProcessConnection) -> None:
    probe = (
        "def check(r):\n"
        "    from langdetect import detector_factory\n"
        "    from if_verifiable.ifbench import instructions_util as ifbench\n"
        "    from if_verifiable.ifeval import instructions_util as ifeval\n"
        "    return (\n"
        "        detector_factory._factory is not None\n"
        "        and len(detector_factory._factory.langlist) > 50\n"
        "        and ifeval._get_sentence_tokenizer.cache_info().currsize == 1\n"
        "        and ifbench._get_sentence_tokenizer.cache_info().currsize == 1\n"
        "    )\n"
    )
    assert run(runner, [("loaded", probe)], FAST, libraries=True) == {"loaded": ("pass", None)}
    # a first language detection costs no profile loading in the worker
    detect = (
        "import time, langdetect\n"
        "def check(r):\n"
        "    start = time.process_time()\n"
        "    langdetect.detect(r)\n"
        "    return time.process_time() - start < 0.2\n"
    )
    response = "This is plainly an English sentence, written to be detected."
    got = run(runner, [("fast", detect)], FAST, libraries=True, response=response)
    assert got == {"fast": ("pass", None)}


def ifbench_replay(n: int) -> list[tuple[Any, str]]:
    folder = SHARED_DATA / "ifbench"
    inputs = {r["prompt"].strip(): r for r in inf.load_records("ifbench")}
    outputs = [
        json.loads(line)
        for line in Path(folder / "sample_output.jsonl").read_text().splitlines()
        if line.strip()
    ]
    pairs = [
        (inf.native_spec(inputs[o["prompt"].strip()], "ifbench"), o["response"])
        for o in outputs
        if o["prompt"].strip() in inputs
    ]
    return pairs[:n]


def follow_all(pairs: list[tuple[Any, str]], limits: dict[str, float]) -> list[tuple]:
    pool = LocalRuntime(size=1, limits=limits)  # a fresh pool: no verdict cache between runs
    try:

        async def go() -> list[inf.Following]:
            return await asyncio.gather(*(inf.follow(pool, spec, r) for spec, r in pairs))

        return [(f.strict, f.loose, f.errors) for f in asyncio.run(go())]
    finally:
        pool.close()


def test_official_checkers_give_the_same_verdicts_under_cpu_load() -> None:
    pairs = ifbench_replay(60)
    assert len(pairs) == 60
    limits = {"checker_timeout_s": 1.0, "checker_wall_s": 60.0, "item_timeout_s": 300.0}
    start = time.monotonic()
    quiet = follow_all(pairs, limits)
    quiet_s = time.monotonic() - start
    assert all(not errors for _, _, errors in quiet)
    with cpu_load(load_size()):
        start = time.monotonic()
        loaded = follow_all(pairs, limits)
        loaded_s = time.monotonic() - start
    assert loaded == quiet
    assert loaded_s > 1.5 * quiet_s  # the load was real
    strict = [v for s, _, _ in quiet for v in s]
    assert 0 < sum(strict) < len(strict)  # real verdicts both ways, not all one value


@pytest.mark.docker
def test_on_the_docker_pool_timeouts_are_errors_and_load_changes_nothing() -> None:
    from conftest import make_spec
    from test_sandbox import require_docker

    from harness.checkers import CheckItem
    from harness.checkers.docker_pool import DockerPool

    require_docker()
    checkers = [
        ("busy", BUSY),
        ("swallow", SWALLOW),
        ("convert", CONVERT),
        ("sleep_swallow", SLEEP_SWALLOW),
        ("cpu", burn(0.3)),
        ("after", HONEST),
    ]
    spec = make_spec(checkers=[(cid, f"constraint {cid}", source) for cid, source in checkers])
    expected = {
        "busy": ("error", "timeout"),
        "swallow": ("error", "timeout"),
        "convert": ("error", "timeout"),
        "sleep_swallow": ("error", "timeout"),
        "cpu": ("pass", None),
        "after": ("pass", None),
    }
    limits = {"checker_timeout_s": 0.6, "checker_wall_s": 3.0, "item_timeout_s": 60.0}
    for loaded in (False, True):
        pool = DockerPool(size=1, limits=limits)  # fresh: no verdict cache between runs
        try:
            with cpu_load(load_size() if loaded else 0):
                [verdicts] = asyncio.run(pool.check([CheckItem(spec, "hello world")]))
        finally:
            pool.close()
        assert {v.checker_id: (v.status, v.error_kind) for v in verdicts} == expected
