"""``harness serve`` as a real process (uvicorn): malformed and oversize requests (declared and
streamed), clients that go away, a judge that errors, one that times out and one that hangs —
each gets a clear answer, and the server keeps serving."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import make_spec

from harness.store import SpecStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path: Path, *flags: str) -> Iterator[tuple[subprocess.Popen, str]]:
    specs = tmp_path / "specs.jsonl"
    if not specs.exists():
        SpecStore(specs, create=True).put_many(
            [
                make_spec(checkers=[]),
                make_spec(prompt_id="p2", prompt="Name a colour.", checkers=[]),
            ]
        )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", "--specs", str(specs),
         "--port", str(port), "--max-body-mb", "0.01", *flags],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "INSPECT_LOG_LEVEL": "warning"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            assert process.poll() is None, process.stderr.read()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "harness serve did not start"
            time.sleep(0.2)
        yield process, url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def failing_judges(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """The rubric judge always errors; the global judge answers after 30 s, past its 1 s
    per-attempt timeout."""
    yield from _serve(
        tmp_path,
        "--rubric-grader", "{model: simulated/errors, model_args: {error_rate: 1, latency: 0}}",
        "--global-grader",
        "{model: simulated/slow, model_args: {latency: 30}, attempt_timeout: 1, max_retries: 1}",
        "--deadline", "60",
    )  # fmt: skip


def test_malformed_and_oversize_requests_get_a_4xx_and_the_server_keeps_serving(
    failing_judges,
) -> None:
    process, url = failing_judges
    headers = {"content-type": "application/json"}
    cases = [
        ("/score", b"{not json", 422, "JSON decode error"),
        ("/score", b"[1, 2]", 422, "body"),
        ("/score", json.dumps({"items": [{"spec_id": "p1"}]}).encode(), 422, "response"),
        ("/score", json.dumps({"items": [{"response": 3, "spec_id": "p1"}]}).encode(), 422, "string"),
        ("/score", json.dumps({"items": [{"response": "x", "spec_id": "nope"}]}).encode(), 404, "no spec"),
        ("/score", json.dumps({"items": [], "step": "soon"}).encode(), 422, "step"),
        ("/score", b"x" * 20_000, 413, "limit"),
        ("/openrlhf", json.dumps({"query": ["a", "b"], "prompts": ["a"]}).encode(), 400, "differ in length"),
        ("/slime", json.dumps({"prompt": "?"}).encode(), 422, "response"),
        ("/nowhere", b"{}", 404, "Not Found"),
    ]  # fmt: skip
    with httpx.Client(timeout=30) as client:
        for path, body, status, message in cases:
            reply = client.post(f"{url}{path}", content=body, headers=headers)
            assert reply.status_code == status, (path, body[:40], reply.text)
            assert message in reply.json()["detail"], reply.text

        # a body streamed without a length is held to the limit as it arrives
        def chunks() -> Iterator[bytes]:
            yield b'{"items": [{"response": "'
            for _ in range(100):
                yield b"y" * 1000
            yield b'", "spec_id": "p1"}]}'

        reply = client.post(f"{url}/score", content=chunks(), headers=headers)
        assert reply.status_code == 413 and "limit" in reply.json()["detail"]
        assert client.get(f"{url}/health").json()["status"] == "ok"
    assert process.poll() is None


def test_erroring_and_timing_out_judges_leave_items_unscored_with_reasons(failing_judges) -> None:
    process, url = failing_judges

    async def clients_that_go_away() -> None:
        async with httpx.AsyncClient(timeout=0.3) as client:
            with pytest.raises(httpx.TimeoutException):
                await client.post(
                    f"{url}/score", json={"items": [{"response": "gone", "spec_id": "p1"}]}
                )

    asyncio.run(clients_that_go_away())
    started = time.monotonic()
    reply = httpx.post(
        f"{url}/score",
        json={
            "items": [{"response": "salt", "spec_id": "p1"}, {"response": "red", "spec_id": "p2"}]
        },
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    assert time.monotonic() - started < 30  # the 30 s judge was cut off by its timeout
    for reward in reply.json()["rewards"]:
        assert reward["reward"] is None and reward["rubric"] is None and reward["global"] is None
        assert "SimulatedJudgeError" in reward["reason"]  # the rubric judge's error
        assert "Timeout" in reward["reason"] or "timed out" in reward["reason"]  # the global's
    metrics = httpx.get(f"{url}/metrics").json()
    assert sum(metrics["unscored"].values()) >= 2 and metrics["scored"] == 0
    assert httpx.get(f"{url}/health").json()["status"] == "ok" and process.poll() is None


def test_a_hanging_judge_returns_unscored_at_the_deadline_and_is_counted(tmp_path: Path) -> None:
    for process, url in _serve(
        tmp_path,
        "--grader", "{model: simulated/hangs, model_args: {latency: 3600}}",
        "--deadline", "1",
    ):  # fmt: skip
        started = time.monotonic()
        body = {"query": ["Q: Name a colour.\nA: red"], "prompts": ["Q: Name a colour.\nA:"],
                "labels": ["p2"]}  # fmt: skip
        reply = httpx.post(f"{url}/openrlhf", json=body, timeout=60)
        assert time.monotonic() - started < 15
        data = json.loads(reply.text)
        assert data["rewards"] == [0.0] and data["extra_logs"]["unscored"] == [1.0]
        metrics = httpx.get(f"{url}/metrics").json()
        assert metrics["unscored"] == {"deadline exceeded": 1}
        assert httpx.get(f"{url}/health").status_code == 200 and process.poll() is None
