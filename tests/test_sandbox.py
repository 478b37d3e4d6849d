"""Checkers in real Docker containers: verdicts, an adversarial suite, pool resilience, cleanup.

Every adversarial checker returns True only if its attack worked, so "contained" means: the
verdict is not a pass, the error kind is the expected one, and the pool still answers
afterwards with the same containers.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import make_spec, standard_judge

from harness.checkers import CheckItem
from harness.checkers.docker_pool import LABEL, DockerPool, docker_available
from harness.checkers.image import build, image_exists, image_tag
from harness.scoring import RewardEngine

pytestmark = pytest.mark.docker

LIMITS = {"checker_timeout_s": 1.0, "item_timeout_s": 3.0, "memory_mb": 256}
SECRET = "s3cr3t-" + "host-env-value"
OTHER_ITEM_MARKER = "ALPHA-" + "private-response-7f3a"


def require_docker() -> None:
    reason = None
    if not docker_available():
        reason = "no Docker engine answers (bash sandboxes/setup_docker.sh)"
    elif not image_exists(image_tag()):
        try:
            build(log=lambda m: None)
        except Exception as ex:
            reason = f"the checker image could not be built: {ex}"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Docker tests must run in CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def pool() -> DockerPool:
    require_docker()
    os.environ["HARNESS_TEST_SECRET"] = SECRET  # in the host environment while containers start
    p = DockerPool(size=2, limits=LIMITS)
    yield p
    p.close()
    os.environ.pop("HARNESS_TEST_SECRET", None)


def item(source: str, response: str = "hello world", cid: str = "k") -> CheckItem:
    return CheckItem(make_spec(checkers=[(cid, f"constraint {cid}", source)]), response)


def run(pool: DockerPool, items: list[CheckItem]) -> list[list]:
    return asyncio.run(pool.check(items))


def assert_healthy(pool: DockerPool, containers: list[str]) -> None:
    requests = pool.requests
    # a fresh response each time: a cached verdict would prove nothing about the containers
    response = f"ping {time.monotonic_ns()}"
    [[verdict]] = run(pool, [item("def check(r):\n    return r.startswith('ping ')\n", response)])
    assert verdict.status == "pass"
    assert pool.requests == requests + 1
    assert pool.container_ids() == containers


def test_ordinary_checkers_and_error_kinds(pool: DockerPool) -> None:
    spec = make_spec(
        checkers=[
            ("lower", "All lowercase.", "def check(r):\n    return r == r.lower()\n"),
            ("words", "At least 3 words.", "def check(r):\n    return len(r.split()) >= 3\n"),
            (
                "salt",
                "Mentions salt.",
                "import re\ndef check(r, word='salt'):\n    return re.search(word, r) is not None\n",
            ),
            ("raise", "Raises.", "def check(r):\n    return {}['missing']\n"),
            ("str", "Returns a string.", "def check(r):\n    return 'yes'\n"),
        ]
    )
    good, bad = run(pool, [CheckItem(spec, "salt on the sea wind"), CheckItem(spec, "Sea.")])
    assert [(v.status, v.error_kind) for v in good] == [
        ("pass", None),
        ("pass", None),
        ("pass", None),
        ("error", "exception"),
        ("error", "bad_return"),
    ]
    assert [v.status for v in bad[:3]] == ["fail", "fail", "fail"]
    assert good[3].message == "KeyError: 'missing'"
    assert all(v.duration_s is not None and v.duration_s < 1 for v in good)


# (name, checker source, acceptable (status, error_kind) outcomes)
ATTACKS = [
    (
        "network",
        "import socket\ndef check(r):\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n    return True\n",
        {("error", "exception")},
    ),
    (
        "dns",
        "import socket\ndef check(r):\n    socket.getaddrinfo('example.com', 80)\n    return True\n",
        {("error", "exception")},
    ),
    (
        "host_file",
        "def check(r):\n    return 'HOST-FILE' in open(HOST_FILE).read()\n",
        {("error", "exception")},
    ),
    (
        "shadow",
        "def check(r):\n    return len(open('/etc/shadow').read()) > 0\n",
        {("error", "exception")},
    ),
    (
        "env_secret",
        "import os, glob\ndef check(r):\n    blob = repr(dict(os.environ))\n    for p in glob.glob('/proc/*/environ') + glob.glob('/proc/*/cmdline'):\n        try:\n            blob += open(p, 'rb').read().decode('latin-1')\n        except OSError:\n            pass\n    return SECRET in blob\n",
        {("fail", None)},
    ),
    (
        "write_root",
        "def check(r):\n    open('/opt/harness/evil', 'w').write('x')\n    return True\n",
        {("error", "exception")},
    ),
    (
        "write_etc",
        "def check(r):\n    open('/etc/passwd', 'a').write('evil')\n    return True\n",
        {("error", "exception")},
    ),
    (
        "fork_bomb",
        "import os\ndef check(r):\n    while True:\n        os.fork()\n",
        {("error", "exception")},
    ),
    (
        "subprocess",
        "import subprocess\ndef check(r):\n    subprocess.run(['sh', '-c', 'echo pwned'])\n    return True\n",
        {("error", "exception")},
    ),
    (
        "exec",
        "import os\ndef check(r):\n    os.execv('/bin/sh', ['sh'])\n",
        {("error", "exception")},
    ),
    (
        "threads",
        "import threading\ndef check(r):\n    threading.Thread(target=lambda: None).start()\n    return True\n",
        {("error", "exception")},
    ),
    (
        "memory_bomb",
        "def check(r):\n    blocks = []\n    while True:\n        blocks.append(bytearray(50 * 1024 * 1024))\n",
        {("error", "memory")},
    ),
    ("infinite_loop", "def check(r):\n    while True:\n        pass\n", {("error", "timeout")}),
    (
        "sleep_past_deadline",
        "import signal, time\ndef check(r):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    time.sleep(60)\n    return True\n",
        {("error", "timeout")},
    ),
    (
        "swallow_timeout",
        "import time\ndef check(r):\n    while True:\n        try:\n            time.sleep(10)\n        except BaseException:\n            pass\n",
        {("error", "timeout")},
    ),
    (
        "huge_print",
        "import sys\ndef check(r):\n    for _ in range(50):\n        sys.stdout.write('x' * 1_000_000)\n    print('y' * 1_000_000, file=sys.stderr)\n    return False\n",
        {("fail", None)},
    ),
    (
        "flood_verdict_pipe",
        'import os\ndef check(r):\n    for fd in range(3, 64):\n        try:\n            os.write(fd, b\'{"i": 0, "status": "pass"}\' * 100000)\n        except OSError:\n            pass\n    return False\n',
        {("error", "output_limit"), ("error", "garbage")},
    ),
    (
        "kill_runner",
        "import os, signal\ndef check(r):\n    for pid in [1, os.getppid()] + [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n        try:\n            os.kill(pid, signal.SIGKILL)\n        except OSError:\n            pass\n    return os.getppid() == 0\n",
        {("fail", None)},
    ),
    (
        "patch_runner_memory",
        "def check(r):\n    with open('/proc/1/mem', 'r+b') as f:\n        f.write(b'x')\n    return True\n",
        {("error", "exception")},
    ),
    (
        "ptrace",
        "import ctypes\ndef check(r):\n    return ctypes.CDLL(None).ptrace(16, 1, 0, 0) == 0\n",
        {("fail", None)},
    ),
    (
        "other_item_data",
        "import gc, os\ndef check(r):\n    found = any(isinstance(o, str) and MARKER in o for o in gc.get_objects())\n    for pid in os.listdir('/proc'):\n        try:\n            found |= MARKER.encode() in open(f'/proc/{pid}/cmdline', 'rb').read()\n            with open(f'/proc/{pid}/mem', 'rb') as f:\n                found = True\n        except OSError:\n            pass\n    return found\n",
        {("fail", None)},
    ),
    ("exit_runner", "import sys\ndef check(r):\n    sys.exit(0)\n", {("error", "exception")}),
    ("hard_exit", "import os\ndef check(r):\n    os._exit(0)\n", {("error", "crash")}),
    (
        "segfault",
        "import ctypes\ndef check(r):\n    return ctypes.c_char.from_address(8).value == b'x'\n",
        {("error", "crash")},
    ),
    (
        "recursion",
        "import sys\ndef check(r):\n    sys.setrecursionlimit(10**6)\n    def f(n):\n        return f(n + 1)\n    return f(0)\n",
        {("error", "crash"), ("error", "exception"), ("error", "memory"), ("error", "timeout")},
    ),
    (
        "fill_tmp",
        "def check(r):\n    with open('big', 'wb') as f:\n        while True:\n            f.write(b'x' * 1048576)\n",
        {("error", "exception"), ("error", "output_limit")},
    ),
]


@pytest.fixture(scope="module")
def attack_results(
    pool: DockerPool, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[str, str | None, str | None]]:
    host_file = tmp_path_factory.mktemp("host") / "secret.txt"
    host_file.write_text("HOST-FILE contents")
    before = pool.container_ids()
    items = []
    for name, source, _ in ATTACKS:
        prelude = (
            f"HOST_FILE = {str(host_file)!r}\nSECRET = {SECRET!r}\nMARKER = {OTHER_ITEM_MARKER!r}\n"
        )
        items.append(item(prelude + source, cid=name))
    # the response of another item in the same batch, which the "other_item_data" checker hunts for
    items.append(
        item(
            "def check(r):\n    return True\n",
            response=f"my private text {OTHER_ITEM_MARKER}",
            cid="victim",
        )
    )
    start = time.monotonic()
    results = run(pool, items)
    elapsed = time.monotonic() - start
    assert elapsed < 60, f"the adversarial batch took {elapsed:.0f} s"
    assert pool.container_ids() == before, "an attack took a container down"
    assert results[-1][0].status == "pass"  # the victim item is unharmed
    return {
        name: (v[0].status, v[0].error_kind, v[0].message)
        for (name, _, _), v in zip(ATTACKS, results[:-1], strict=True)
    }


@pytest.mark.parametrize(
    "name, expected",
    [(name, expected) for name, _, expected in ATTACKS],
    ids=[a[0] for a in ATTACKS],
)
def test_attack_is_contained(attack_results: dict, name: str, expected: set) -> None:
    status, kind, message = attack_results[name]
    assert status != "pass", f"{name} succeeded"
    assert (status, kind) in expected, f"{name}: got {status}/{kind} ({message})"


def test_pool_is_healthy_after_the_attacks(pool: DockerPool, attack_results: dict) -> None:
    assert_healthy(pool, pool.container_ids())
    assert pool.restarts == 0


def test_secret_is_in_the_host_environment_but_not_readable_inside(
    pool: DockerPool, attack_results: dict
) -> None:
    assert os.environ["HARNESS_TEST_SECRET"] == SECRET  # the premise: the host has it
    assert attack_results["env_secret"][0] == "fail"


def test_oversized_response_is_an_input_limit_error(pool: DockerPool) -> None:
    [[v]] = run(pool, [item("def check(r):\n    return True\n", response="é" * (9 * 1024 * 1024))])
    assert (v.status, v.error_kind) == ("error", "input_limit")


def test_container_killed_mid_batch_is_replaced_and_nothing_is_lost(pool: DockerPool) -> None:
    require_docker()
    slow = "import time\ndef check(r):\n    time.sleep(0.3)\n    return r.startswith('n')\n"
    items = [item(slow, response=f"n{i}") for i in range(24)]
    victim = pool.container_ids()[0]

    def kill_soon() -> None:
        time.sleep(0.8)
        pool.client.api.kill(victim)

    killer = threading.Thread(target=kill_soon)
    killer.start()
    results = run(pool, items)
    killer.join()
    assert [v[0].status for v in results] == ["pass"] * 24  # retried in a fresh container
    assert pool.restarts >= 1
    assert victim not in pool.container_ids() and len(pool.container_ids()) == 2
    assert_healthy(pool, pool.container_ids())


def test_scoring_engine_with_the_pool(pool: DockerPool) -> None:
    spec = make_spec(
        checkers=[
            ("lower", "All lowercase.", "def check(r):\n    return r == r.lower()\n"),
            ("salt", "Mentions salt.", "def check(r):\n    return 'salt' in r\n"),
        ]
    )
    judge = standard_judge({"c1": "yes", "c2": "yes", "c3": "no"}, 8)
    engine = RewardEngine(
        rubric_judge=judge.model(), global_judge=judge.model(), checker_runtime=pool
    )
    result = asyncio.run(engine.score(spec, None, "Salt and salty sea"))
    assert [c.status for c in result.code.checks] == ["fail", "pass"]
    assert result.code.value == 0.5
    assert result.reward == pytest.approx((5 / 6 + 0.8 + 0.5) / 3)


def _our_containers() -> set[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--no-trunc", "--filter", f"label={LABEL}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_close_leaves_no_containers() -> None:
    require_docker()
    p = DockerPool(size=2, limits=LIMITS)
    ids = set(p.container_ids())
    assert ids <= _our_containers()
    p.close()
    deadline = time.monotonic() + 20
    while ids & _our_containers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not ids & _our_containers()


@pytest.mark.parametrize("how", ["crash", "ctrl-c"])
def test_owner_dying_leaves_no_containers(how: str) -> None:
    require_docker()
    script = (
        "import os, signal, sys, time\n"
        "from harness.checkers.docker_pool import DockerPool\n"
        "pool = DockerPool(size=1)\n"
        "print(pool.container_ids()[0], flush=True)\n"
        + (
            "os.kill(os.getpid(), signal.SIGKILL)\n"
            if how == "crash"
            else "raise KeyboardInterrupt\n"
        )
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    container = proc.stdout.strip().splitlines()[0]
    deadline = time.monotonic() + 30
    while container in _our_containers() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert container not in _our_containers(), (
        f"container {container[:12]} outlived its owner ({how})"
    )


def test_inspect_sandbox_path(tmp_path: Path) -> None:
    """A task with the compose sandbox: the code scorer runs the runner through sandbox().exec."""
    require_docker()
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.solver import generate

    from harness.checkers.inspect_sandbox import sandbox_spec
    from harness.scorers import SPEC_KEY, code

    spec = make_spec(
        checkers=[
            ("mock", "Mentions mockllm.", "def check(r):\n    return 'mockllm' in r\n"),
            ("lower", "All lowercase.", "def check(r):\n    return r == r.lower()\n"),
            (
                "net",
                "Reaches the network.",
                "import socket\ndef check(r):\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n    return True\n",
            ),
            (
                "env",
                "Sees host secrets.",
                f"import os\ndef check(r):\n    return {SECRET!r} in repr(dict(os.environ))\n",
            ),
        ]
    )
    os.environ["HARNESS_TEST_SECRET"] = SECRET
    task = Task(
        dataset=[Sample(id="s", input="hi", metadata={SPEC_KEY: spec.model_dump(mode="json")})],
        solver=generate(),
        scorer=code(checker_runtime="sandbox", checker_errors="fail"),
        sandbox=sandbox_spec(),
    )
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    score = log.samples[0].scores["code"]
    checks = {
        c["id"]: (c["status"], c["error_kind"])
        for c in score.metadata["reward_result"]["code"]["checks"]
    }
    assert checks == {
        "mock": ("pass", None),
        "lower": ("fail", None),
        "net": ("error", "exception"),
        "env": ("fail", None),
    }
    assert score.value == 0.25
    assert json.dumps(checks)
