"""One item cannot change another's execution through the kernel: limits of other processes
(prlimit64 on another pid) and signals delivered on I/O (fcntl F_SETOWN / F_SETSIG / F_SETOWN_EX,
ioctl FIOSETOWN / SIOCSPGRP) are refused, on the host runner and in the Docker pool.

Each attack targets the worker's parent (the zygote every later worker is forked from) and runs
in a batch with honest items; honest items of the same and of a later request must keep their
verdicts. An attack checker returns True only when the kernel let the attack through.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import make_spec

from harness.checkers import CheckItem
from harness.checkers.runtime import LocalRuntime

LOWER_ZYGOTE_LIMITS = """
import os, resource
def check(r):
    try:
        resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (3, 3))
        resource.prlimit(os.getppid(), resource.RLIMIT_AS, (1 << 20, 1 << 20))
    except PermissionError:
        return False
    return True
"""

# SIGKILL to the zygote whenever the pipe becomes readable
SIGNAL_ON_IO = """
import fcntl, os, signal
def check(r):
    target = os.getppid()
    rd, wr = os.pipe()
    try:
        fcntl.fcntl(rd, fcntl.F_SETOWN, target)
    except PermissionError:
        return False
    fcntl.fcntl(rd, 10, signal.SIGKILL)  # F_SETSIG
    fcntl.fcntl(rd, fcntl.F_SETFL, fcntl.fcntl(rd, fcntl.F_GETFL) | os.O_ASYNC)
    os.write(wr, b"x")
    return True
"""

SIGNAL_VIA_SETSIG_ONLY = """
import fcntl, signal
def check(r):
    import os
    rd, wr = os.pipe()
    try:
        fcntl.fcntl(rd, 10, signal.SIGSTOP)  # F_SETSIG alone: refused too
    except PermissionError:
        return False
    return True
"""

SIGNAL_VIA_IOCTL = """
import fcntl, os, struct
def check(r):
    rd, wr = os.pipe()
    for request in (0x8901, 0x8902):  # FIOSETOWN, SIOCSPGRP
        try:
            fcntl.ioctl(rd, request, struct.pack("i", os.getppid()))
        except PermissionError:
            continue
        return True
    return False
"""

ATTACKS = {
    "prlimit": LOWER_ZYGOTE_LIMITS,
    "fcntl_setown": SIGNAL_ON_IO,
    "fcntl_setsig": SIGNAL_VIA_SETSIG_ONLY,
    "ioctl_setown": SIGNAL_VIA_IOCTL,
}

HONEST = "def check(r):\n    return r.startswith('honest')\n"


def honest(n: int) -> list[CheckItem]:
    spec = make_spec(checkers=[("h", "starts with honest", HONEST)])
    stamp = time.monotonic_ns()  # fresh responses: a cached verdict proves nothing
    return [CheckItem(spec, f"honest {stamp} {i}") for i in range(n)] + [
        CheckItem(spec, f"dishonest {stamp}")
    ]


def run_attack(runtime, name: str) -> None:
    attack = CheckItem(make_spec(checkers=[(name, name, ATTACKS[name])]), f"attack {name}")
    before = honest(3)
    verdicts = asyncio.run(runtime.check([*before[:2], attack, *before[2:]]))
    assert [v.status for [v] in verdicts] == ["pass", "pass", "fail", "pass", "fail"], [
        (v.status, v.error_kind, v.message) for [v] in verdicts
    ]
    # a later request: every worker is forked from the same zygote the attack aimed at
    for _ in range(2):
        later = asyncio.run(runtime.check(honest(6)))
        assert [v.status for [v] in later] == ["pass"] * 6 + ["fail"]


@pytest.fixture(scope="module")
def local() -> LocalRuntime:
    runtime = LocalRuntime(size=1, allow_untrusted=True)
    yield runtime
    runtime.close()


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_host_runner_refuses(local: LocalRuntime, name: str) -> None:
    run_attack(local, name)


@pytest.mark.docker
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_docker_pool_refuses(name: str) -> None:
    from test_sandbox import require_docker

    require_docker()
    from harness.checkers.docker_pool import DockerPool

    with DockerPool(size=1) as pool:
        containers = pool.container_ids()
        run_attack(pool, name)
        assert pool.container_ids() == containers  # not replaced: nothing was harmed
        assert pool.restarts == 0


def test_the_filter_keeps_a_worker_s_own_limits_settable(local: LocalRuntime) -> None:
    source = (
        "import resource\n"
        "def check(r):\n"
        "    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "    resource.setrlimit(resource.RLIMIT_NOFILE, (soft - 1, hard))\n"
        "    resource.prlimit(0, resource.RLIMIT_NOFILE, (soft - 2, hard))\n"
        "    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] == soft - 2\n"
    )
    [[v]] = asyncio.run(local.check([CheckItem(make_spec(checkers=[("own", "own", source)]), "x")]))
    assert (v.status, v.error_kind) == ("pass", None)
