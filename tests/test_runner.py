"""The runner and the host-side pool logic, without Docker (runners as host processes)."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys

import pytest
from conftest import make_spec

from harness.checkers import CheckItem, UnavailableRuntime, resolve_runtime
from harness.checkers.runtime import LocalRuntime, UntrustedCodeError, runner_path
from harness.sandboxes import runner as wire
from harness.scoring import RewardEngine

LIMITS = {
    "checker_timeout_s": 1.0,
    "checker_wall_s": 1.5,
    "item_timeout_s": 3.0,
    "memory_mb": 256,
}


def item(*checkers: tuple[str, str], response: str = "hello world") -> CheckItem:
    spec = make_spec(checkers=[(cid, f"constraint {cid}", source) for cid, source in checkers])
    return CheckItem(spec, response)


@pytest.fixture(scope="module")
def local() -> LocalRuntime:
    pool = LocalRuntime(size=1, limits=LIMITS, allow_untrusted=True)
    yield pool
    pool.close()


def check(pool, *items: CheckItem) -> list[list]:
    return asyncio.run(pool.check(list(items)))


def test_frames_round_trip_and_oversized_frames_are_skipped() -> None:
    buffer = io.BytesIO()
    wire.write_frame(buffer, {"a": "x" * 100})
    wire.write_frame(buffer, {"b": "\udcff lone surrogate"})
    wire.write_frame(buffer, {"c": 1})
    buffer.seek(0)
    with pytest.raises(wire.FrameTooLarge):
        wire.read_frame(buffer, max_bytes=50)
    assert wire.read_frame(buffer) == {"b": "\udcff lone surrogate"}
    assert wire.read_frame(buffer) == {"c": 1}
    assert wire.read_frame(buffer) is None


def test_truncated_frame_is_an_error() -> None:
    data = wire.HEADER.pack(100) + b'{"a":'
    with pytest.raises(EOFError, match="inside a frame"):
        wire.read_frame(io.BytesIO(data))


def test_verdict_kinds(local: LocalRuntime) -> None:
    [verdicts] = check(
        local,
        item(
            ("pass", "def check(r):\n    return 'hello' in r\n"),
            ("fail", "def check(r):\n    return r.isupper()\n"),
            ("exc", "def check(r):\n    raise ValueError('no luck')\n"),
            ("int", "def check(r):\n    return 1\n"),
            ("none", "def check(r):\n    pass\n"),
            ("kwargs", "def check(r, n=0):\n    return n == 0\n"),
            ("slow", "import time\ndef check(r):\n    time.sleep(5)\n    return True\n"),
            ("after", "def check(r):\n    return True\n"),
        ),
    )
    got = {v.checker_id: (v.status, v.error_kind) for v in verdicts}
    assert got == {
        "pass": ("pass", None),
        "fail": ("fail", None),
        "exc": ("error", "exception"),
        "int": ("error", "bad_return"),
        "none": ("error", "bad_return"),
        "kwargs": ("pass", None),
        "slow": ("error", "timeout"),
        "after": ("pass", None),  # a timed-out checker does not take the rest of its item down
    }
    messages = {v.checker_id: v.message for v in verdicts}
    assert messages["exc"] == "ValueError: no luck"
    assert "returned NoneType, not bool" in messages["none"]


def test_crash_and_oversized_response_are_per_checker(local: LocalRuntime) -> None:
    """A crash is the error of the checker that crashed: its item's other checkers run in
    workers of their own and keep their verdicts."""
    crash = item(
        ("ok", "def check(r):\n    return True\n"),
        ("exit", "import os\ndef check(r):\n    os._exit(7)\n"),
        ("later", "def check(r):\n    return True\n"),
    )
    big = item(("ok", "def check(r):\n    return True\n"), response="x" * (17 * 1024 * 1024))
    fine = item(("ok", "def check(r):\n    return True\n"))
    a, b, c = check(local, crash, big, fine)
    assert [(v.status, v.error_kind) for v in a] == [
        ("pass", None),
        ("error", "crash"),
        ("pass", None),
    ]
    assert "status 7" in a[1].message
    assert b[0].error_kind == "input_limit"
    assert c[0].status == "pass"


def test_bad_requests_get_error_replies() -> None:
    process = subprocess.Popen(
        [sys.executable, "-I", "-S", runner_path(), "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        for request, expected in [
            ({"type": "nope"}, "unknown request type"),
            ({"type": "check", "items": "x"}, "'items' must be a list"),
            ({"type": "check", "items": [], "limits": {"memory_mb": "lots"}}, "bad limits"),
        ]:
            wire.write_frame(process.stdin, request)
            reply = wire.read_frame(process.stdout)
            assert reply["type"] == "error" and expected in reply["error"]
        wire.write_frame(
            process.stdin,
            {"type": "check", "items": [{"response": 3, "checkers": [{"id": "a", "source": "x"}]}]},
        )
        reply = wire.read_frame(process.stdout)
        assert reply["items"][0][0]["error_kind"] == "bad_request"
        # specs refuse these, but the runner must not trust its client either
        raw = [
            {"id": "syntax", "source": "def check(r:\n"},
            {"id": "nocheck", "source": "CHECK = True\n"},
        ]
        wire.write_frame(
            process.stdin, {"type": "check", "items": [{"response": "r", "checkers": raw}]}
        )
        syntax, nocheck = wire.read_frame(process.stdout)["items"][0]
        assert syntax["error_kind"] == "exception" and "SyntaxError" in syntax["message"]
        assert nocheck["error_kind"] == "exception" and "no check() function" in nocheck["message"]
        wire.write_frame(process.stdin, {"type": "ping"})
        assert wire.read_frame(process.stdout)["type"] == "pong"  # still serving
    finally:
        process.stdin.close()
        assert process.wait(timeout=10) == 0


def test_once_mode_reads_stdin_and_writes_a_reply() -> None:
    request = {
        "type": "check",
        "id": 7,
        "items": [
            {
                "response": "abc",
                "checkers": [{"id": "a", "source": "def check(r):\n    return r == 'abc'\n"}],
            }
        ],
    }
    out = subprocess.run(
        [sys.executable, "-I", "-S", runner_path(), "once"],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=60,
    )
    reply = json.loads(out.stdout)
    assert reply["id"] == 7 and reply["items"][0][0]["status"] == "pass"


def test_local_runtime_refuses_generated_code_by_default() -> None:
    pool = LocalRuntime(size=1)
    try:
        with pytest.raises(
            UntrustedCodeError,
            match="refusing to run generated checker code outside a sandbox.*setup_docker.sh",
        ):
            check(pool, item(("a", "def check(r):\n    return True\n")))
    finally:
        pool.close()


def test_host_path_refusal_reaches_the_reward_as_unscored() -> None:
    spec = make_spec(checkers=[("a", "anything", "def check(r):\n    return True\n")])
    pool = LocalRuntime(size=1)
    try:
        result = asyncio.run(RewardEngine(checker_runtime=pool).score(spec, None, "text"))
    finally:
        pool.close()
    assert result.code.status == "unscored"
    assert "refusing to run generated checker code outside a sandbox" in result.code.reason


def test_runner_environment_has_no_host_secrets(local: LocalRuntime, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_TEST_SECRET", "s3cr3t-host-value")
    fresh = LocalRuntime(size=1, limits=LIMITS, allow_untrusted=True)
    try:
        [verdicts] = check(
            fresh,
            item(
                ("env", "import os\ndef check(r):\n    return 's3cr3t' in repr(dict(os.environ))\n")
            ),
        )
    finally:
        fresh.close()
    assert verdicts[0].status == "fail"


def test_unknown_runtime_kind_and_unavailable_runtime() -> None:
    with pytest.raises(ValueError, match="unknown checker runtime"):
        resolve_runtime("cloud")
    spec = make_spec(checkers=[("a", "anything", "def check(r):\n    return True\n")])
    result = asyncio.run(
        RewardEngine(
            checker_runtime=UnavailableRuntime("docker checker runtime unavailable: no engine")
        ).score(spec, None, "x")
    )
    assert result.code.status == "unscored"
    assert "no engine" in result.code.reason


def test_repeated_items_are_answered_from_the_verdict_cache(local: LocalRuntime) -> None:
    ok = item(("pass", "def check(r):\n    return 'hello' in r\n"))
    [first] = check(local, ok)
    before = local.requests
    [again] = check(local, ok)
    assert again == first and local.requests == before  # no runner request for the same item
    [other] = check(
        local, item(("pass", "def check(r):\n    return 'hello' in r\n"), response="bye")
    )
    assert other[0].status == "fail" and local.requests == before + 1
    slow = item(("slow", "import time\ndef check(r):\n    time.sleep(5)\n    return True\n"))
    check(local, slow)
    check(local, slow)
    assert local.requests == before + 3  # errors are not cached: they are tried again


def test_remembered_verdicts_are_bounded_and_the_recent_ones_are_reused(
    local: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long run (an RL service, a 100k rollout dump) must not grow memory with every response
    checked: the pool remembers at most VERDICT_CACHE_SIZE items, the most recent ones."""
    from harness.checkers import runtime

    monkeypatch.setattr(runtime, "VERDICT_CACHE_SIZE", 3)
    local.clear_cache()
    spec = make_spec(
        checkers=[("lower", "All lowercase.", "def check(r):\n    return r == r.lower()\n")]
    )
    items = [CheckItem(spec, f"response {i}") for i in range(6)]
    check(local, *items)
    assert len(local._verdicts) == 3
    before = local.requests
    [[recent]] = check(local, items[-1])
    assert recent.status == "pass" and local.requests == before  # remembered: no runner call
    [[old]] = check(local, items[0])
    assert old.status == "pass" and local.requests == before + 1  # forgotten: checked again
    assert len(local._verdicts) == 3
