"""Pool health judged by outcomes (poisoned runners are recycled) and host runner clean-up."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
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


def poison_local(connection: ProcessConnection) -> None:
    """Break a runner from outside, as a planted path would: its work directory base becomes a
    plain file, so every later worker of this runner crashes before running anything (root
    included, unlike a permission change)."""
    for entry in Path(connection.tmpdir).iterdir():
        if entry.is_dir():
            entry.rename(entry.with_name(entry.name + ".moved"))
            entry.write_text("planted")


def test_local_runtime_close_removes_its_temporary_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pool = LocalRuntime(size=2, limits=LIMITS, allow_untrusted=True)
    items = [exact(f"r{i}", prompt_id=f"p{i}") for i in range(70)]  # spread over both runners
    assert statuses(run(pool, items)) == [("pass", None)] * 70
    runner_dirs = sorted(tmp_path.iterdir())
    assert len(runner_dirs) == 2  # one per runner, holding that runner's work directories
    assert all(any(d.iterdir()) for d in runner_dirs)
    # a runner replaced after its process was killed leaves nothing behind either
    victim = pool._all[0]
    assert isinstance(victim, ProcessConnection)
    victim.process.kill()
    assert (
        statuses(run(pool, [exact(f"x{i}", f"x{i}") for i in range(70)])) == [("pass", None)] * 70
    )
    assert pool.restarts == 1
    assert not Path(victim.tmpdir).exists()
    poison_local(pool._all[0])  # planted files are removed as well
    pool.close()
    assert list(tmp_path.iterdir()) == []


def test_poisoned_local_runner_is_recycled_and_items_are_not_lost() -> None:
    pool = LocalRuntime(size=1, limits=LIMITS, allow_untrusted=True)
    try:
        assert statuses(run(pool, [exact("before")])) == [("pass", None)]
        poisoned = pool._all[0]
        poison_local(poisoned)
        requests = pool.requests
        items = [exact(f"honest {i}", prompt_id=f"p{i}") for i in range(5)]
        assert statuses(run(pool, items)) == [("pass", None)] * 5
        assert poisoned not in pool._all and len(pool._all) == 1
        assert (pool.recycled, pool.restarts) == (1, 1)
        assert pool.requests == requests + 2  # the whole batch once more, on the fresh runner
        # later requests run on the fresh runner
        assert statuses(run(pool, [exact("after")])) == [("pass", None)]
        assert pool.recycled == 1
        # an item that fails on two runners keeps its own error, and is not retried again
        requests = pool.requests
        crash = CheckItem(make_spec(prompt_id="bad", checkers=[("k", "c", CRASH)]), "x")
        [[verdict]] = run(pool, [crash])
        assert (verdict.status, verdict.error_kind) == ("error", "crash")
        assert "status 3" in (verdict.message or "")
        assert pool.recycled == 2 and pool.requests == requests + 2
        # a reply in which some item succeeded shows the runner works: no recycling
        crash2 = CheckItem(make_spec(prompt_id="bad2", checkers=[("k", "c", CRASH)]), "y")
        assert statuses(run(pool, [crash2, exact("fine")])) == [
            ("error", "crash"),
            ("pass", None),
        ]
        assert pool.recycled == 2
    finally:
        pool.close()


def test_poisoned_container_is_recycled() -> None:
    from test_sandbox import require_docker

    from harness.checkers.docker_pool import DockerPool

    require_docker()
    with DockerPool(size=2, limits=LIMITS) as pool:
        assert statuses(run(pool, [exact("warm")])) == [("pass", None)]
        before = pool.container_ids()
        victim = before[0]
        # as the runner's own user (what checker code runs as): the work directory base becomes
        # a plain file, so every later worker of that container crashes
        subprocess.run(
            [
                *("docker", "exec", "-u", "10001:10001", victim, "sh", "-c"),
                'for d in /tmp/harness-checks-*; do mv "$d" "$d.moved" && echo x > "$d"; done',
            ],
            check=True,
            capture_output=True,
        )
        results = [run(pool, [exact(f"later {i}", prompt_id=f"p{i}")]) for i in range(4)]
        assert [statuses(r) for r in results] == [[("pass", None)]] * 4
        after = pool.container_ids()
        assert victim not in after and before[1] in after and len(after) == 2
        assert pool.recycled == 1 and pool.restarts == 1


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
