"""Items are isolated from each other in real containers: the warm Docker pool and the Inspect
sandbox path (issue 10, section 1).

One adversarial class per test: cross-item files, shared memory and IPC, planted paths, limits
and scheduling of other processes, signals and locks through fcntl, forged verdicts within one
item, and (pool only) a poisoned container. Each attack runs in a request together with honest
items of other specs; honest items of the same request and of later requests must get their own
correct verdicts (a pass or a fail, as their own response deserves), and the attack must not
succeed: an attack checker returns True only if its attack worked, so its verdict must not be a
pass. Where an attack leaves something behind for others (a file, a segment), a *reader* of a
different spec looks for it in the same request and in later ones, and returns True if it finds
the attacker's marker.
"""

from __future__ import annotations

import asyncio
import json
import platform
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import make_spec
from test_pool_health import poison_container
from test_sandbox import require_docker

from harness.checkers import CheckItem
from harness.checkers.docker_pool import DockerPool
from harness.checkers.image import RUNNER_IN_IMAGE

pytestmark = pytest.mark.docker

# several workers at once (more than this machine's CPUs), so attacks run beside honest items
LIMITS = {"checker_timeout_s": 1.0, "item_timeout_s": 5.0, "memory_mb": 256, "parallel": 6}
X86_64 = platform.machine() in ("x86_64", "AMD64")  # raw syscall numbers below are x86_64's

PASS, FAIL = frozenset({"pass"}), frozenset({"fail"})
BLOCKED = FAIL
"""An attack checker ran to its end and reports that nothing got through (not an error: an
attack with a bug of its own would otherwise look contained)."""
FORGED = frozenset({"pass", "error"})
"""The forger's own verdict: what it returned, or an error when its patches broke its own
process — a checker can only lie about (or break) itself."""

# -- attacks (each returns True only if the attack worked) ------------------------------------

# Class 1: the response written where another item could read it.
FILE_WRITER = r"""
import os
def check(r):
    data = r.encode()
    wrote = False
    paths = ['/tmp/x', '/dev/shm/x', 'x', os.path.join(os.getcwd(), 'x2'),
             os.path.join(os.environ.get('TMPDIR') or '/tmp', 'x3'), '/var/tmp/x', '/tmp/sub/x']
    for path in paths:
        for mode in ('w', 'a', 'x', 'r+'):
            try:
                with open(path, mode) as f:
                    f.write(r)
                wrote = True
            except OSError:
                pass
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
            os.write(fd, data)
            wrote = True
        except OSError:
            pass
    try:
        os.mkdir('/tmp/sub')
        wrote = True
    except OSError:
        pass
    fd = os.memfd_create('leak')
    os.write(fd, data)
    for target in ('/tmp/memfd', '/dev/shm/memfd', 'memfd', '/var/tmp/memfd'):
        try:
            os.link(f'/proc/self/fd/{fd}', target, follow_symlinks=True)
            wrote = True
        except OSError:
            pass
    return wrote
"""

# Class 1, other spec: finds the writer's marker anywhere another item could have put it.
FILE_READER = r"""
import os
MARKER = {marker!r}
def check(r):
    roots = ['/tmp', '/dev/shm', '/var/tmp', os.environ.get('TMPDIR') or '/tmp']
    found = [(os.getcwd(), [], os.listdir(os.getcwd()))]
    for root in roots:
        found += list(os.walk(root))
    for dirpath, _, filenames in found:
        for name in filenames:
            try:
                with open(os.path.join(dirpath, name), 'rb') as f:
                    if MARKER.encode() in f.read(1 << 20):
                        return True
            except OSError:
                pass
    return False
"""

# Class 2: SysV shm/msg/sem, POSIX shm, POSIX message queues.
IPC_CREATOR = r"""
import ctypes, ctypes.util, os
KEY = {key}
def check(r):
    libc = ctypes.CDLL(None, use_errno=True)
    made = []
    IPC_CREAT = 0o1000
    if libc.shmget(KEY, 4096, IPC_CREAT | 0o666) != -1:
        made.append('shm')
    if libc.msgget(KEY, IPC_CREAT | 0o666) != -1:
        made.append('msg')
    if libc.semget(KEY, 1, IPC_CREAT | 0o666) != -1:
        made.append('sem')
    try:
        import _posixshmem
        fd = _posixshmem.shm_open('/leak{key}', os.O_CREAT | os.O_RDWR, 0o666)
        os.write(fd, r.encode())
        made.append('posix_shm')
    except (ImportError, OSError):
        pass
    try:
        fd = os.open('/dev/shm/leak{key}', os.O_CREAT | os.O_RDWR, 0o666)
        os.write(fd, r.encode())
        made.append('dev_shm')
    except OSError:
        pass
    for lib in (libc, ctypes.util.find_library('rt')):
        try:
            lib = lib if not isinstance(lib, str) else ctypes.CDLL(lib, use_errno=True)
            mq_open = lib.mq_open
        except (AttributeError, OSError, TypeError):
            continue
        mq_open.restype = ctypes.c_int
        if mq_open(b'/leak{key}', os.O_CREAT | os.O_RDWR, 0o666, None) != -1:
            made.append('mq')
        break
    return bool(made)
"""

# Class 2, other spec: an existing segment/queue/semaphore set with the creator's key.
IPC_READER = r"""
import ctypes, os
KEY = {key}
def check(r):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.shmget(KEY, 0, 0) != -1 or libc.msgget(KEY, 0) != -1 or libc.semget(KEY, 0, 0) != -1:
        return True
    return any(os.path.exists(p) for p in ('/dev/shm/leak{key}', '/dev/mqueue/leak{key}'))
"""

# Class 3: paths later items (or workers) might use, created ahead of them.
PLANTER = r"""
import os
def check(r):
    planted = False
    me = os.getpid()
    paths = [f'/tmp/harness-checks-{{k}}' for k in range(me - 8, me + 200)]
    paths += [f'/tmp/{{me + k}}' for k in range(1, 200)]
    paths += ['/tmp/harness-checks', '/tmp/work', '/tmp/harness']
    for path in paths:
        try:
            os.mkdir(path, 0o777)
            planted = True
        except OSError:
            pass
        try:
            os.mkfifo(path + '.fifo')
            planted = True
        except OSError:
            pass
        try:
            os.symlink('/opt/harness', path + '.lnk')
            planted = True
        except OSError:
            pass
        try:
            os.close(os.open(path + '.f', os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            planted = True
        except OSError:
            pass
    return planted
"""

PLANT_READER = r"""
import glob, os
def check(r):
    return bool(glob.glob('/tmp/harness*') + [p for p in os.listdir('/tmp') if p[:1].isdigit()])
"""

# Class 4: limits, CPUs and priorities of other processes (the zygote, PID 1, everyone).
OTHER_LIMITS = r"""
import ctypes, os, resource
X86_64 = {x86_64}
def check(r):
    done = []
    targets = [os.getppid(), 1] + [int(p) for p in os.listdir('/proc') if p.isdigit()]
    targets = [t for t in dict.fromkeys(targets) if t != os.getpid()]
    libc = ctypes.CDLL(None, use_errno=True)
    new = (ctypes.c_ulong * 2)(3, 3)
    old = (ctypes.c_ulong * 2)()
    for pid in targets:
        for res, lim in ((resource.RLIMIT_NOFILE, (3, 3)), (resource.RLIMIT_AS, (1 << 20, 1 << 20)),
                         (resource.RLIMIT_CPU, (0, 0)), (resource.RLIMIT_NPROC, (0, 0))):
            try:
                resource.prlimit(pid, res, lim)
                done.append(('prlimit', pid))
            except OSError:
                pass
        if X86_64:
            for raw_pid in (pid, ctypes.c_ulong(pid), ctypes.c_ulong((1 << 32) | pid)):
                if libc.syscall(302, raw_pid, 7, ctypes.byref(new), ctypes.byref(old)) == 0:
                    done.append(('raw prlimit64', pid))
        try:
            os.sched_setaffinity(pid, {{0}})
            done.append(('affinity', pid))
        except OSError:
            pass
        for which in (os.PRIO_PROCESS, os.PRIO_PGRP, os.PRIO_USER):
            try:
                os.setpriority(which, pid if which == os.PRIO_PROCESS else 0, 19)
                done.append(('priority', pid))
            except OSError:
                pass
        try:
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
            done.append(('scheduler', pid))
        except OSError:
            pass
        try:
            os.sched_setparam(pid, os.sched_param(0))
            done.append(('param', pid))
        except OSError:
            pass
    return bool(done)
"""

# Class 5: signals on I/O (SIGKILL / SIGSTOP to the zygote, PID 1, every process) and locks.
EVERY_PROCESS = (
    "[os.getppid(), 1, -1, -os.getpgrp()]"
    " + [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]"
)
SIGNAL_ON_IO = r"""
import ctypes, fcntl, os, signal, struct
X86_64 = {x86_64}
def check(r):
    done = []
    libc = ctypes.CDLL(None, use_errno=True)
    for pid in dict.fromkeys({targets}):
        for sig in (signal.SIGKILL, signal.SIGSTOP):
            rd, wr = os.pipe()
            armed = False
            try:
                fcntl.fcntl(rd, fcntl.F_SETOWN, pid)
                armed = True
            except OSError:
                pass
            try:
                fcntl.fcntl(rd, 15, struct.pack('ii', 1 if pid > 0 else 2, abs(pid)))
                armed = True
            except OSError:
                pass
            if X86_64:
                for cmd in (0x1_0000_0008, 0xFFFF_FFFF_0000_0008, 0x1_0000_000F):
                    arg = ctypes.c_long(pid) if cmd & 0xF == 8 else ctypes.c_char_p(
                        struct.pack('ii', 1, abs(pid)))
                    if libc.syscall(72, rd, ctypes.c_ulong(cmd), arg) == 0:
                        armed = True
                if libc.syscall(72, rd, ctypes.c_ulong(0x1_0000_000A), ctypes.c_long(sig)) == 0:
                    armed = True
                for request in (0x1_0000_8901, 0x1_0000_8902):  # FIOSETOWN, SIOCSPGRP
                    owner = ctypes.c_int(pid)
                    if libc.syscall(16, rd, ctypes.c_ulong(request), ctypes.byref(owner)) == 0:
                        armed = True
            try:
                fcntl.fcntl(rd, 10, sig)  # F_SETSIG
                armed = True
            except OSError:
                pass
            for request in (0x8901, 0x8902):
                try:
                    fcntl.ioctl(rd, request, struct.pack('i', pid))
                    armed = True
                except OSError:
                    pass
            try:
                fcntl.fcntl(rd, fcntl.F_SETFL, fcntl.fcntl(rd, fcntl.F_GETFL) | os.O_ASYNC)
                os.write(wr, b'x')
            except OSError:
                pass
            os.close(rd)
            os.close(wr)
            if armed:
                done.append((pid, sig))
    return bool(done)
"""

LOCKS = r"""
import ctypes, fcntl, os, struct
X86_64 = {x86_64}
def check(r):
    locked = []
    libc = ctypes.CDLL(None, use_errno=True)
    for path in ({runner!r}, '/etc/passwd', '/usr/lib/os-release'):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        for how in (fcntl.LOCK_SH, fcntl.LOCK_EX):
            try:
                fcntl.flock(fd, how | fcntl.LOCK_NB)
                locked.append(('flock', path))
            except OSError:
                pass
        for how in (fcntl.LOCK_SH, fcntl.LOCK_SH | fcntl.LOCK_NB):
            try:
                fcntl.lockf(fd, how)
                locked.append(('lockf', path))
            except OSError:
                pass
        lock = struct.pack('hhqqi', fcntl.F_RDLCK, 0, 0, 0, 0)
        for cmd in (6, 7, 37, 38):  # F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW
            try:
                fcntl.fcntl(fd, cmd, lock)
                locked.append((cmd, path))
            except OSError:
                pass
        try:
            fcntl.fcntl(fd, 1024, fcntl.F_RDLCK)  # F_SETLEASE
            locked.append(('lease', path))
        except OSError:
            pass
        if X86_64:  # raw: garbage in the upper half of the command; flock by number
            for cmd in (6, 7, 37, 38):
                if libc.syscall(72, fd, ctypes.c_ulong((1 << 32) | cmd), lock) == 0:
                    locked.append(('raw fcntl', cmd, path))
            if libc.syscall(73, fd, fcntl.LOCK_SH | fcntl.LOCK_NB) == 0:
                locked.append(('raw flock', path))
        os.close(fd)
    return bool(locked)
"""

# Class 6: a checker that tries to turn another checker of its own spec into a pass.
FORGER = r"""
import builtins, gc, json, os, re, sys
def _lines():
    out = []
    for i in range(4):
        for extra in ({{}}, {{'pid': os.getpid()}}, {{'pid': os.getppid()}}):
            out.append(json.dumps({{'i': i, 'status': 'pass', 'duration_s': 0, **extra}}))
            out.append(json.dumps({{'i': i, 'status': 'pass', 'duration_s': 0, 'error_kind': None,
                                    'message': None, 'checker_id': 'victim', **extra}}))
    return ('\n'.join(out) + '\n').encode()
def _spray():
    blob = _lines()
    framed = len(blob).to_bytes(8, 'big') + blob
    for fd in range(65):
        for data in (blob, framed):
            try:
                os.write(fd, data)
            except OSError:
                pass
def _always_pass(*a, **k):
    return True
def _patch():
    fake_dumps = json.dumps
    def dumps(obj, *a, **k):
        if isinstance(obj, dict) and obj.get('status') == 'fail':
            obj = {{**obj, 'status': 'pass'}}
        return fake_dumps(obj, *a, **k).replace('"fail"', '"pass"')
    json.dumps = dumps
    re.search = re.match = re.fullmatch = lambda *a, **k: True
    builtins.bool = lambda *a: True
    builtins.isinstance = lambda *a: True
    for name, module in list(sys.modules.items()):
        for attr, value in list(getattr(module, '__dict__', {{}}).items()):
            if callable(value) and attr.lower() in ('_send', 'send', '_run_checker', 'decode',
                                                      'encode', '_in_child', 'write_frame'):
                try:
                    setattr(module, attr, _always_pass)
                except Exception:
                    pass
    for obj in gc.get_objects():
        if isinstance(obj, dict) and obj.get('status') == 'fail':
            obj['status'] = 'pass'
        if type(obj).__name__ == 'function' and getattr(obj, '__name__', '') == 'check':
            try:
                obj.__code__ = _always_pass.__code__
            except Exception:
                pass
def _tracer(frame, event, arg):
    if event == 'return' and arg is False:
        frame.f_locals['__return__'] = True
    return _tracer
def check(r):
    sys.settrace(_tracer)
    sys.setprofile(_tracer)
    _spray()
    _patch()
    _spray()
    return True
"""
# Honest checkers (templates: "something else" is replaced by a string no response equals), so
# they fail on every response; the second keeps module state, so it does not "share nothing"
# and the runner gives it a process of its own.
VICTIM = "def check(r):\n    return r == 'something else'\n"
VICTIM_STATEFUL = (
    "import json\nSEEN = []\ndef check(r):\n    SEEN.append(r)\n"
    "    return json.loads(json.dumps(r)) == 'something else'\n"
)

# -- items and expectations -------------------------------------------------------------------


@dataclass
class Case:
    """One item with the statuses each of its checkers may get."""

    item: CheckItem
    expected: tuple[frozenset[str], ...]
    label: str


def spec_item(prompt_id: str, response: str, *checkers: tuple[str, str]) -> CheckItem:
    spec = make_spec(
        prompt_id=prompt_id, checkers=[(cid, f"c {cid}", src) for cid, src in checkers]
    )
    return CheckItem(spec, response)


def honest(tag: str, n: int, sleep: float = 0.0) -> list[Case]:
    """Honest items of their own specs: a third of them fail on their response, on purpose.
    ``sleep``: each stays alive that long (wall clock), so that attacks run while they do."""
    cases = []
    for k in range(n):
        expected = f"{tag}-{k}"
        response = expected if k % 3 else f"{expected}-not-it"
        wait = f"    time.sleep({sleep})\n" if sleep else ""
        source = f"import time\ndef check(r):\n{wait}    return r == {expected!r}\n"
        item = spec_item(f"h-{tag}-{k}", response, ("k", source))
        cases.append(Case(item, (PASS if k % 3 else FAIL,), f"honest {tag}-{k}"))
    return cases


def attack(label: str, source: str, response: str, n: int = 1) -> list[Case]:
    return [
        Case(spec_item(f"a-{label}-{k}", response, (label, source)), (BLOCKED,), label)
        for k in range(n)
    ]


CLASSES = ("files", "ipc", "planted", "limits", "signals", "forging")


def attacks(cls: str, nonce: str) -> list[Case]:
    """The attack items of a class (with the readers of the same request)."""
    marker = f"ALPHA-private-{nonce}"
    key = 0x4A00_0000 + int(nonce[-6:], 16) % 0xFFFF
    if cls == "files":
        reader = FILE_READER.format(marker=marker)
        return attack("writer", FILE_WRITER, marker, 2) + attack("reader", reader, f"b-{nonce}")
    if cls == "ipc":
        return attack("ipc", IPC_CREATOR.format(key=key), marker, 2) + attack(
            "ipc_reader", IPC_READER.format(key=key), f"b-{nonce}"
        )
    if cls == "planted":
        return attack("planter", PLANTER.format(), marker, 2)
    if cls == "limits":
        return attack("limits", OTHER_LIMITS.format(x86_64=X86_64), marker, 2)
    if cls == "signals":
        return attack(
            "signals", SIGNAL_ON_IO.format(x86_64=X86_64, targets=EVERY_PROCESS), marker, 3
        ) + attack("locks", LOCKS.format(runner=RUNNER_IN_IMAGE, x86_64=X86_64), marker, 2)
    assert cls == "forging"
    forger = FORGER.format()
    response = f"the response {nonce}"
    victim = VICTIM.replace("something else", "never")
    stateful = VICTIM_STATEFUL.replace("something else", "never")
    layouts = {
        "forger_first": [("forger", forger), ("victim", victim)],
        "forger_first_stateful": [("forger", forger), ("victim", stateful)],
        "forger_last": [("victim", victim), ("forger", forger)],
        "forger_last_stateful": [("victim", stateful), ("forger", forger)],
        "forger_middle": [("victim", stateful), ("forger", forger), ("victim2", victim)],
    }
    cases = []
    for name, checkers in layouts.items():
        # the forger may only lie about itself: its own verdict is what it returned
        expected = tuple(FORGED if cid == "forger" else FAIL for cid, _ in checkers)
        cases.append(Case(spec_item(f"f-{name}", response, *checkers), expected, name))
    return cases


def later(cls: str, nonce: str, round: str) -> list[Case]:
    """What a later request holds besides honest items: the readers again (fresh responses, so
    that no verdict comes from the pool's cache)."""
    marker = f"ALPHA-private-{nonce}"
    key = 0x4A00_0000 + int(nonce[-6:], 16) % 0xFFFF
    if cls == "files":
        return attack("reader", FILE_READER.format(marker=marker), f"later-{round}-{nonce}")
    if cls == "ipc":
        return attack("ipc_reader", IPC_READER.format(key=key), f"later-{round}-{nonce}")
    if cls == "planted":
        return attack("plant_reader", PLANT_READER, f"later-{round}-{nonce}")
    return []


def mismatches(cases: list[Case], results: list[list[Any]]) -> list[str]:
    """Every checker whose status is not one its case allows (empty: all as expected)."""
    assert len(results) == len(cases)
    bad = []
    for case, verdicts in zip(cases, results, strict=True):
        got = [
            (v[0], v[1]) if isinstance(v, list | tuple) else (v.status, v.error_kind)
            for v in verdicts
        ]
        ids = [c.id for c in case.item.spec.checkers]
        if len(got) != len(case.expected) or any(
            status not in allowed for (status, _), allowed in zip(got, case.expected, strict=True)
        ):
            bad.append(
                f"{case.label} {ids}: got {got}, allowed {[sorted(a) for a in case.expected]}"
            )
    return bad


def new_nonce() -> str:
    return f"{time.monotonic_ns():x}"


# -- the warm pool ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool() -> DockerPool:
    require_docker()
    p = DockerPool(size=2, limits=LIMITS)
    yield p
    p.close()


def run(pool: DockerPool, cases: list[Case]) -> list[list[Any]]:
    return asyncio.run(pool.check([c.item for c in cases]))


@pytest.mark.parametrize("cls", CLASSES)
def test_pool_keeps_items_apart(pool: DockerPool, cls: str) -> None:
    nonce = new_nonce()
    containers = pool.container_ids()
    # honest items of other specs run at the same time as the attacks (one container runs a
    # request of this size, with as many workers at once as it has CPUs)
    first = attacks(cls, nonce) + honest(f"same-{nonce}", 24, sleep=0.1)
    assert mismatches(first, run(pool, first)) == []
    # later requests, on each of the two containers (idle runners are taken in turn)
    for round in ("1", "2"):
        cases = later(cls, nonce, round) + honest(f"later{round}-{nonce}", 12)
        assert mismatches(cases, run(pool, cases)) == []
    # and concurrently with a second attack request
    nonce2 = new_nonce()
    attacked = attacks(cls, nonce2) + honest(f"c1-{nonce2}", 12, sleep=0.1)
    bystander = honest(f"c2-{nonce2}", 12, sleep=0.1)

    async def both() -> list[list[list[Any]]]:
        return await asyncio.gather(
            pool.check([c.item for c in attacked]), pool.check([c.item for c in bystander])
        )

    a, b = asyncio.run(both())
    assert mismatches(attacked, a) == [] and mismatches(bystander, b) == []
    # nothing was replaced: the attacks changed nothing the pool had to repair
    assert pool.container_ids() == containers


POOL_HEALTH_LIMITS = {**LIMITS, "open_files": 64}  # above what poison_container leaves the zygote


def test_poisoned_container_is_recycled_without_losing_items() -> None:
    require_docker()
    with DockerPool(size=2, limits=POOL_HEALTH_LIMITS) as pool:
        nonce = new_nonce()
        warm = honest(f"warm-{nonce}", 3)
        assert mismatches(warm, run(pool, warm)) == []
        before = pool.container_ids()
        victim = before[0]
        poison_container(victim)
        # a batch big enough to be split over both containers; a third fail on their response
        cases = honest(f"many-{nonce}", 96)
        results = run(pool, cases)
        assert mismatches(cases, results) == []
        # each verdict is its own item's: one verdict per item, of its own checker
        assert [[v.checker_id for v in r] for r in results] == [["k"]] * 96
        after = pool.container_ids()
        assert victim not in after and before[1] in after and len(after) == 2
        assert pool.recycled == 1
        later_cases = honest(f"after-{nonce}", 70)
        assert mismatches(later_cases, run(pool, later_cases)) == []
        assert pool.recycled == 1 and pool.container_ids() == after


# -- the Inspect sandbox path -----------------------------------------------------------------


@dataclass
class Plan:
    """The requests one sample's scorer sends through its sandbox, per class."""

    first: list[Case]
    later: list[Case]
    attacked: list[Case]
    bystander: list[Case]


def plans() -> dict[str, Plan]:
    out = {}
    for cls in CLASSES:
        nonce, nonce2 = new_nonce(), new_nonce()
        out[cls] = Plan(
            first=attacks(cls, nonce) + honest(f"same-{nonce}", 6, sleep=0.05),
            later=later(cls, nonce, "1") + honest(f"later-{nonce}", 6),
            attacked=attacks(cls, nonce2) + honest(f"c1-{nonce2}", 4, sleep=0.05),
            bystander=honest(f"c2-{nonce2}", 6, sleep=0.05),
        )
    return out


def odd_string_cases() -> list[Case]:
    """Responses with lone surrogates, and a high and a low one side by side (two code points):
    each checker passes only on its exact response, so the wire must carry every str exactly."""
    from test_surrogates import BAD

    exact = "def check(r):\n    return r == {!r}\n"
    return [
        Case(spec_item(f"odd-{n}", response, ("k", exact.format(response))), (PASS,), f"odd-{n}")
        for n, response in enumerate(BAD)
    ]


def statuses_of(results: list[list[Any]]) -> list[list[list[Any]]]:
    return [[[v.status, v.error_kind] for v in r] for r in results]


@pytest.fixture(scope="module")
def inspect_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Plan], dict]:
    """One eval, one sample: its scorer sends every class's requests through the sample's
    sandbox (all first requests in one, then the later ones, then attack + bystander requests
    at the same time) and records the verdicts in the score's metadata."""
    require_docker()
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import Score, Target, mean, scorer
    from inspect_ai.solver import TaskState, generate

    from harness.checkers.inspect_sandbox import SandboxRuntime, sandbox_spec

    plan = plans()
    odd_strings = odd_string_cases()

    @scorer(metrics=[mean()])
    def cross_item() -> Callable:
        async def score(state: TaskState, target: Target) -> Score:
            runtime = SandboxRuntime(LIMITS)
            first = [c for cls in CLASSES for c in plan[cls].first]
            later_ = [c for cls in CLASSES for c in plan[cls].later]
            attacked = [c for cls in CLASSES for c in plan[cls].attacked]
            bystander = [c for cls in CLASSES for c in plan[cls].bystander]
            r1 = await runtime.check([c.item for c in first])
            r2 = await runtime.check([c.item for c in later_])
            r3, r4 = await asyncio.gather(
                runtime.check([c.item for c in attacked]),
                runtime.check([c.item for c in bystander]),
            )
            r5 = await runtime.check([c.item for c in odd_strings])
            metadata = {
                name: statuses_of(r)
                for name, r in (
                    ("first", r1),
                    ("later", r2),
                    ("attacked", r3),
                    ("bystander", r4),
                    ("odd_strings", r5),
                )
            }
            return Score(value=1, metadata=metadata)

        return score

    task = Task(
        dataset=[Sample(id="s", input="hi")],
        solver=generate(),
        scorer=cross_item(),
        sandbox=sandbox_spec(),
    )
    [log] = eval(
        task, model="mockllm/model", log_dir=str(tmp_path_factory.mktemp("logs")), display="none"
    )
    assert log.status == "success", log.error
    return plan, log.samples[0].scores["cross_item"].metadata


def _part(metadata: dict, name: str, plan: dict[str, Plan], cls: str) -> list[list[Any]]:
    """This class's slice of one recorded request (requests hold the classes in order)."""
    start = sum(len(getattr(plan[c], name)) for c in CLASSES[: CLASSES.index(cls)])
    return metadata[name][start : start + len(getattr(plan[cls], name))]


@pytest.mark.parametrize("cls", CLASSES)
def test_inspect_sandbox_keeps_items_apart(
    inspect_results: tuple[dict[str, Plan], dict], cls: str
) -> None:
    plan, metadata = inspect_results
    for name in ("first", "later", "attacked", "bystander"):
        cases = getattr(plan[cls], name)
        assert mismatches(cases, _part(metadata, name, plan, cls)) == [], name


def test_results_are_json(inspect_results: tuple[dict[str, Plan], dict]) -> None:
    # the metadata went through the log: every checker of every request got a verdict
    plan, metadata = inspect_results
    for name in ("first", "later", "attacked", "bystander"):
        expected = sum(len(c.expected) for cls in CLASSES for c in getattr(plan[cls], name))
        assert sum(len(r) for r in metadata[name]) == expected
    assert json.loads(json.dumps(metadata)) == metadata


# Runs the attack checkers as plain Python in a throwaway container of the same image, without
# the runner (no filters), as the runner's user: each must then report that its attack worked,
# so "fail" under the runner means the runner stopped it (not a bug in the attack).
UNGUARDED = r"""
import json, os, subprocess, sys
sources = json.loads(sys.stdin.readline())
victim = subprocess.Popen(['sleep', '30'])  # another process of the same user
os.environ['VICTIM'] = str(victim.pid)
results = {}
for name, source in sources:
    namespace = {}
    exec(source, namespace)
    results[name] = namespace['check']('ALPHA-private-unguarded')
results['victim_killed'] = victim.wait(timeout=10) == -9
print(json.dumps(results))
"""


def test_the_attacks_work_where_nothing_stops_them() -> None:
    require_docker()
    from harness.checkers.image import image_tag

    nonce = "0000beef"
    marker = f"ALPHA-private-{nonce}"
    key = 0x4A00_0000 + int(nonce[-6:], 16) % 0xFFFF
    sources = [
        ("writer", FILE_WRITER),
        ("reader", FILE_READER.format(marker=marker.replace(nonce, "unguarded"))),
        ("ipc", IPC_CREATOR.format(key=key)),
        ("ipc_reader", IPC_READER.format(key=key)),
        ("planter", PLANTER.format()),
        ("plant_reader", PLANT_READER),
        ("locks", LOCKS.format(runner=RUNNER_IN_IMAGE, x86_64=X86_64)),
        # aimed at the sleeping process only, which the SIGKILL on I/O must then have ended
        ("signals", SIGNAL_ON_IO.format(x86_64=X86_64, targets="[int(os.environ['VICTIM'])]")),
        ("limits", OTHER_LIMITS.format(x86_64=X86_64)),  # last: it lowers its own parent's
    ]
    proc = subprocess.run(
        ["docker", "run", "--rm", "-i", "--network", "none", "--ipc", "private"]
        + ["--tmpfs", "/tmp:mode=1777", "-u", "10001:10001", "--entrypoint", "sh", image_tag()]
        + ["-c", f"python3 -c {shlex.quote(UNGUARDED)}; true"],
        input=json.dumps(sources) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    expected = {name: True for name, _ in sources} | {"victim_killed": True}
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == expected


def test_inspect_sandbox_carries_every_str_exactly(
    inspect_results: tuple[dict[str, Plan], dict],
) -> None:
    _, metadata = inspect_results
    assert metadata["odd_strings"] == [[["pass", None]]] * len(odd_string_cases())
