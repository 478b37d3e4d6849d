"""Pool health judged by outcomes (poisoned runners are recycled) and host runner clean-up."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from conftest import make_spec

from harness.checkers import CheckItem, checker_limits, resolve_runtime
from harness.checkers.runtime import LocalRuntime, ProcessConnection

LIMITS = {"checker_timeout_s": 2.0, "item_timeout_s": 5.0, "memory_mb": 256}
CRASH = "import os\ndef check(r):\n    os._exit(3)\n"


def exact(response: str, prompt_id: str = "p1") -> CheckItem:
    """An honest item: its checker passes on exactly this response."""
    source = f"def check(r):\n    return r == {response!r}\n"
    return CheckItem(make_spec(prompt_id=prompt_id, checkers=[("k", "c", source)]), response)


def run(pool, items: list[CheckItem]) -> list[list]:
    return asyncio.run(pool.check(items))


def statuses(results: list[list]) -> list[tuple[str, str | None]]:
    return [(v[0].status, v[0].error_kind) for v in results]


# Run in the runner's process tree as its own user (what a checker would be if it escaped its
# filters): lower the plain zygote's hard limit on open files below what each worker sets for
# itself, so every later worker dies before running anything while the zygote, the runner and
# its connection keep working. Prints the zygote's pid.
POISON_ZYGOTE = """
import os, resource, sys
runner = int(sys.argv[1])
children = sorted(
    int(p) for p in os.listdir('/proc') if p.isdigit()
    and open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[1] == str(runner)
)
resource.prlimit(children[0], resource.RLIMIT_NOFILE, (60, 60))  # the plain zygote: forked first
print(children[0])
"""
LIMITS = {**LIMITS, "open_files": 64}


def poison_local(connection: ProcessConnection) -> None:
    subprocess.run(
        [sys.executable, "-c", POISON_ZYGOTE, str(connection.process.pid)],
        check=True,
        capture_output=True,
    )


def poison_container(container_id: str) -> None:
    """The same, as the runner's own user in a pool container (where the runner is PID 1);
    tests/test_cross_item.py recycles such a container."""
    subprocess.run(
        ["docker", "exec", "-u", "10001:10001", container_id, "python3", "-c", POISON_ZYGOTE, "1"],
        check=True,
        capture_output=True,
    )


def test_host_runner_leaves_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers write nothing (so there is nothing to clean up, even after a runner is killed);
    the temporary directory the runner sees stays empty, whatever checkers try."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    write = (
        "import os, tempfile\n"
        "def check(r):\n"
        "    for path in (os.path.join(os.environ.get('TMPDIR', '/tmp'), 'x'), 'x', '/tmp/x',\n"
        f"                 {str(tmp_path / 'planted')!r}):\n"
        "        try:\n"
        "            open(path, 'w').write(r)\n"
        "            return True\n"
        "        except OSError:\n"
        "            pass\n"
        "    return False\n"
    )
    pool = LocalRuntime(size=2, limits=LIMITS, allow_untrusted=True)
    try:
        items = [exact(f"r{i}", prompt_id=f"p{i}") for i in range(70)]  # spread over both runners
        writers = [
            CheckItem(make_spec(prompt_id=f"w{i}", checkers=[("k", "c", write)]), f"w{i}")
            for i in range(4)
        ]
        assert statuses(run(pool, items + writers)) == [("pass", None)] * 70 + [("fail", None)] * 4
        victim = pool._all[0]
        assert isinstance(victim, ProcessConnection)
        victim.process.kill()
        more = [exact(f"x{i}", f"x{i}") for i in range(70)]
        assert statuses(run(pool, more)) == [("pass", None)] * 70
        assert pool.restarts == 1
    finally:
        pool.close()
    assert list(tmp_path.iterdir()) == []


def test_poisoned_local_runner_is_recycled_and_items_are_not_lost() -> None:
    pool = LocalRuntime(size=1, limits=LIMITS, allow_untrusted=True)
    try:
        assert statuses(run(pool, [exact("before")])) == [("pass", None)]
        poisoned = pool._all[0]
        poison_local(poisoned)
        requests = pool.requests
        items = [exact(f"honest {i}", prompt_id=f"p{i}") for i in range(12)]
        assert statuses(run(pool, items)) == [("pass", None)] * 12
        assert poisoned not in pool._all and len(pool._all) == 1
        assert (pool.recycled, pool.restarts) == (1, 1)
        # the batch, then the items that crashed, once more on the fresh runner
        assert pool.requests == requests + 2
        # later requests run on the fresh runner
        assert statuses(run(pool, [exact("after")])) == [("pass", None)]
        assert pool.recycled == 1
        # an item that crashes by itself keeps its own error: the canary shows the runner works,
        # so it is neither recycled nor retried
        requests = pool.requests
        crash = CheckItem(make_spec(prompt_id="bad", checkers=[("k", "c", CRASH)]), "x")
        [[verdict]] = run(pool, [crash])
        assert (verdict.status, verdict.error_kind) == ("error", "crash")
        assert "status 3" in (verdict.message or "")
        assert pool.recycled == 1 and pool.requests == requests + 1
        crash2 = CheckItem(make_spec(prompt_id="bad2", checkers=[("k", "c", CRASH)]), "y")
        assert statuses(run(pool, [crash2, exact("fine")])) == [
            ("error", "crash"),
            ("pass", None),
        ]
        assert pool.recycled == 1
    finally:
        pool.close()


def test_runner_poisoned_partway_through_a_request_is_recycled() -> None:
    """Items answered before the runner broke keep their verdicts; those after it are run again
    on a fresh runner: none lost, none duplicated."""
    pool = LocalRuntime(size=1, limits={**LIMITS, "parallel": 1}, allow_untrusted=True)
    try:
        assert statuses(run(pool, [exact("warm")])) == [("pass", None)]
        victim = pool._all[0]
        slow = "import time\ndef check(r):\n    time.sleep(0.2)\n    return r.startswith('n')\n"
        items = [
            CheckItem(make_spec(prompt_id=f"n{i}", checkers=[("k", "c", slow)]), f"n{i}")
            for i in range(20)
        ]
        timer = threading.Timer(1.0, poison_local, args=(victim,))
        timer.start()
        results = run(pool, items)
        timer.join()
        assert statuses(results) == [("pass", None)] * 20
        assert pool.recycled == 1 and victim not in pool._all
    finally:
        pool.close()


def test_limits_reach_the_shared_pools() -> None:
    assert checker_limits({"checker_timeout_s": 5}) == {"checker_timeout_s": 5}
    with pytest.raises(ValueError, match="unknown checker limits"):
        resolve_runtime("local", limits={"checker_timeout": 5})
    with pytest.raises(ValueError, match=">= 0"):
        checker_limits({"checker_timeout_s": -1})
    default = resolve_runtime("local")
    slow = resolve_runtime("local", limits={"checker_timeout_s": 5})
    assert resolve_runtime("local", limits={"checker_timeout_s": 5.0}) is slow
    assert resolve_runtime("local", limits={}) is default
    assert slow is not default
    assert slow.limits["checker_timeout_s"] == 5 and default.limits["checker_timeout_s"] == 2.0


def test_task_checker_limits_are_checked_while_the_task_is_built() -> None:
    from inspect_ai._util.error import PrerequisiteError

    from harness.tasks.ifbench import ifbench
    from harness.tasks.ifeval import ifeval

    with pytest.raises(
        PrerequisiteError, match=r"checker_limits: unknown checker limits \['bogus'\]"
    ):
        ifeval(checker_limits={"bogus": 1})
    with pytest.raises(PrerequisiteError, match="checker_timeout_s must be a number >= 0"):
        ifbench(checker_limits={"checker_timeout_s": -2})
    task = ifbench(checker_limits={"checker_timeout_s": 5})
    assert len(task.dataset) == 300
