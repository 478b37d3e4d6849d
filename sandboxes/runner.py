#!/usr/bin/env python3
"""Checker runner: runs untrusted ``check(response) -> bool`` code in isolated workers.

Standard library only: this file is copied into the sandbox image and also runs on the host
(for trusted checkers). One request carries a batch of items; an item is one response with
the checkers of its spec. Each item runs in its own worker process, forked from a *zygote*
that was forked before any request was read, so a worker's memory holds its own item and
nothing of any other. Workers are kept ready (forked ahead, idle on their item pipe). Once, in
the zygote, so that every worker inherits it:

- stdin/stdout/stderr point at /dev/null and the environment is emptied (API keys never
  reach checker code);
- a seccomp filter (libseccomp via ctypes) refuses exec, signals to other processes, tracing,
  other processes' memory and sockets;
- common modules are preloaded and the compiler warmed up, so a fork copies little.

Then per item, before checker code runs, the worker closes every descriptor but its verdict
pipe, moves into a fresh private directory and sets limits: address space, CPU seconds, open
files, file size, no core dumps and no new processes (RLIMIT_NPROC = 0; as root, which that
limit does not bind, a second filter refuses fork and clone instead).

The main process and the zygote are non-dumpable, so a worker running as the same user
cannot read or write their memory through /proc.

Time limits are enforced by the main process, from outside the worker, so checker code can
neither catch, ignore nor convert them (no timer signal is raised inside the checker, where a
library could swallow it and report success). The running checker has a budget of CPU seconds
(``checker_timeout_s``, the worker's CPU time read from /proc: the same whatever the load of
the machine) and a much larger wall-clock backstop for code that sleeps or blocks
(``checker_wall_s``). Over either, the worker is killed and the checker's verdict is
error/timeout; the item's remaining checkers continue in a fresh worker forked from the same
zygote. A built-in checker (an item with "libraries": true) that runs out of time is first
retried once with its budgets multiplied by ``retry_factor``. The item has a wall-clock
deadline (``item_timeout_s``) for all its checkers; what has no verdict by then is a timeout.
A worker that dies, floods its pipe or writes garbage is that item's error, reported per
checker; other items never share its process.

Protocol. ``serve``: frames on stdin/stdout, each an 8-byte big-endian length and a JSON
object. ``once``: one JSON request on stdin; the reply goes to stdout or ``--out FILE``.

Request: {"type": "check", "id": any, "limits": {...}, "items": [{"response": str,
"checkers": [{"id": str, "source": str, "kwargs": {...}}], "libraries": bool}]}; or
{"type": "ping"}. "libraries": run the item in a worker that has the preloaded libraries.
Reply: {"type": "result", "id": any, "items": [[verdict, ...], ...]} with one verdict per
checker: {"checker_id", "status": "pass" | "fail" | "error", "error_kind", "message",
"duration_s"}; or {"type": "error", "id": any, "error": str}.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import json
import os
import resource
import select
import selectors
import shutil
import signal
import socket
import struct
import sys
import time
from typing import Any, BinaryIO

PROTOCOL_VERSION = 1
HEADER = struct.Struct(">Q")
MAX_REQUEST_BYTES = 512 * 1024 * 1024

DEFAULT_LIMITS: dict[str, float] = {
    "checker_timeout_s": 2.0,  # CPU seconds per checker (measured by the main process)
    "checker_wall_s": 10.0,  # wall clock per checker: backstop for sleeping or blocked code
    "item_timeout_s": 30.0,  # wall clock per item (all its checkers, retries included)
    "retry_factor": 4.0,  # a built-in checker that runs out of time is retried once with
    # its budgets multiplied by this (1 or less: no retry)
    "memory_mb": 512,  # address space per worker
    "open_files": 32,
    "file_size_mb": 16,
    "max_response_bytes": 16 * 1024 * 1024,  # an item's response, UTF-8
    "max_reply_bytes": 1024 * 1024,  # what one worker may write back
    "max_message_chars": 1000,  # per error message
    "parallel": 0,  # concurrent workers; 0 = number of CPUs available
}

# Syscalls a worker may not make once checker code can run.
DENIED_SYSCALLS = (
    "fork", "vfork", "clone", "clone3", "execve", "execveat",
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "pidfd_open", "pidfd_send_signal", "pidfd_getfd",
    "ptrace", "process_vm_readv", "process_vm_writev",
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "mount", "umount2", "unshare", "setns", "chroot", "pivot_root",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "personality", "setsid", "setpgid",
)  # fmt: skip

# Calls that reach *other* processes through an argument, refused while the rest of the call
# stays usable: prlimit64 on any pid but 0 (a worker lowering the zygote's or another worker's
# limits; setrlimit on itself is prlimit64(0, ...)), and the fcntl / ioctl commands that make
# the kernel deliver signals (SIGKILL, SIGSTOP included) to a chosen process on I/O:
# F_SETOWN, F_SETSIG, F_SETOWN_EX, FIOSETOWN, SIOCSPGRP. (syscall, argument, value): denied
# when the argument equals the value; "!=0" denies any value but 0.
DENIED_ARGUMENTS: tuple[tuple[str, int, int | str], ...] = (
    ("prlimit64", 0, "!=0"),
    ("fcntl", 1, 8),  # F_SETOWN
    ("fcntl", 1, 10),  # F_SETSIG
    ("fcntl", 1, 15),  # F_SETOWN_EX
    ("ioctl", 1, 0x8901),  # FIOSETOWN
    ("ioctl", 1, 0x8902),  # SIOCSPGRP
)

STATUSES = ("pass", "fail", "error")


# -- framing ----------------------------------------------------------------------------


class FrameTooLarge(ValueError):
    pass


def encode(obj: Any) -> bytes:
    # ensure_ascii keeps any str encodable (lone surrogates included)
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def write_frame(stream: BinaryIO, obj: Any) -> None:
    data = encode(obj)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(min(n - got, 1 << 20))
        if not chunk:
            if got == 0:
                return None
            raise EOFError(f"stream ended inside a frame ({got} of {n} bytes)")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO, max_bytes: int = MAX_REQUEST_BYTES) -> Any:
    """The next framed JSON value, or None at a clean end of stream."""
    header = _read_exact(stream, HEADER.size)
    if header is None:
        return None
    (n,) = HEADER.unpack(header)
    if n > max_bytes:
        remaining = n
        while remaining:  # skip the payload so the stream stays in sync
            chunk = stream.read(min(remaining, 1 << 20))
            if not chunk:
                raise EOFError("stream ended inside an oversized frame")
            remaining -= len(chunk)
        raise FrameTooLarge(f"frame of {n} bytes exceeds the {max_bytes}-byte limit")
    data = _read_exact(stream, n)
    if data is None:
        raise EOFError("stream ended after a frame header")
    return json.loads(data)


# -- process hardening ------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_DUMPABLE = 4


def set_non_dumpable() -> None:
    """Keep same-user processes out of this process's memory (/proc/PID/mem, ptrace)."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _load_seccomp() -> Any:
    # by soname, not ctypes.util.find_library: that imports tempfile and random (see
    # _private_directory)
    for name in ("libseccomp.so.2", "libseccomp.so"):
        try:
            return ctypes.CDLL(name, use_errno=True)
        except OSError:
            continue
    return None


_SECCOMP = _load_seccomp()


def seccomp_available() -> bool:
    return _SECCOMP is not None


class _ArgCmp(ctypes.Structure):  # libseccomp's struct scmp_arg_cmp
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


SCMP_CMP_NE, SCMP_CMP_EQ = 1, 4


def seccomp_program(
    denied: tuple[str, ...] = DENIED_SYSCALLS,
    denied_arguments: tuple[tuple[str, int, int | str], ...] = (),
) -> bytes:
    """A BPF program refusing ``denied`` syscalls, and ``denied_arguments`` calls, with EPERM,
    compiled once by libseccomp."""
    lib = _SECCOMP
    if lib is None:
        raise OSError("libseccomp is not available")
    allow, errno_action = 0x7FFF0000, 0x00050000
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add.restype = ctypes.c_int
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(allow)
    if not ctx:
        raise OSError("seccomp_init failed")
    try:
        for name in denied:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:  # not a syscall on this architecture
                continue
            code = (
                errno.ENOSYS if name == "clone3" else errno.EPERM
            )  # ENOSYS: libc falls back to clone
            rc = lib.seccomp_rule_add(ctx, errno_action | code, nr, 0)
            if rc < 0:
                raise OSError(-rc, f"seccomp_rule_add({name}) failed")
        lib.seccomp_rule_add_array.restype = ctypes.c_int
        lib.seccomp_rule_add_array.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.POINTER(_ArgCmp),
        ]
        for name, arg, value in denied_arguments:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:
                continue
            cmp = (
                _ArgCmp(arg, SCMP_CMP_NE, 0, 0)
                if value == "!=0"
                else _ArgCmp(arg, SCMP_CMP_EQ, int(value), 0)
            )
            rc = lib.seccomp_rule_add_array(ctx, errno_action | errno.EPERM, nr, 1, cmp)
            if rc < 0:
                raise OSError(-rc, f"seccomp_rule_add_array({name}, arg {arg}) failed")
        read_fd, write_fd = os.pipe()
        try:
            rc = lib.seccomp_export_bpf(ctx, write_fd)
            os.close(write_fd)
            if rc < 0:
                raise OSError(-rc, "seccomp_export_bpf failed")
            program = b""
            while chunk := os.read(read_fd, 1 << 16):
                program += chunk
        finally:
            os.close(read_fd)
        return program
    finally:
        lib.seccomp_release(ctx)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def load_seccomp(program: bytes) -> None:
    """Install a compiled filter on this process (a few microseconds)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


PROCESS_CREATION = ("fork", "vfork", "clone", "clone3")


def _private_directory(parent: str, prefix: str) -> str:
    # Not tempfile.mkdtemp: importing tempfile imports random, whose after-fork reseed would
    # then run in every worker.
    for attempt in range(1000):
        path = os.path.join(parent, f"{prefix}-{os.getpid()}-{attempt}")
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a private directory under {parent}")


class Isolation:
    """How workers are locked down; prepared once by the main process, inherited by fork.

    The zygote installs ``zygote_filter`` (every denied syscall but process creation, which
    it needs) so that every worker inherits it for free. Workers then lose process creation
    through RLIMIT_NPROC = 0 or, when running as root (which that limit does not bind), a
    second small filter.
    """

    def __init__(self, require_seccomp: bool, preload: str | None = None) -> None:
        self.preload = preload
        if require_seccomp and not seccomp_available():
            raise RuntimeError("seccomp is required but libseccomp is not available")
        self.seccomp = seccomp_available()
        denied = tuple(n for n in DENIED_SYSCALLS if n not in PROCESS_CREATION)
        self.zygote_filter = seccomp_program(denied, DENIED_ARGUMENTS) if self.seccomp else None
        self.worker_filter = (
            seccomp_program(PROCESS_CREATION) if self.seccomp and os.getuid() == 0 else None
        )
        self.workdir_base = _private_directory(os.environ.get("TMPDIR", "/tmp"), "harness-checks")


# -- the worker: one item, its checkers, in a locked-down process -----------------------


def _describe(ex: BaseException, limit: int) -> str:
    try:
        text = f"{type(ex).__name__}: {ex}"
    except BaseException:  # a hostile __str__
        text = "exception with an unprintable message"
    return text[:limit]


def _lock_down(
    out_fd: int, limits: dict[str, float], worker_filter: bytes | None, workdir: str
) -> None:
    """What is per item: descriptors, a private working directory, resource limits."""
    os.closerange(3, out_fd)  # close_range(2) where available: fast even with huge fd limits
    os.closerange(out_fd + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    os.mkdir(
        workdir, 0o700
    )  # fails if it exists: never work in a directory planted by another item
    os.chdir(workdir)
    memory = int(limits["memory_mb"] * 1024 * 1024)
    cpu = int(limits["item_timeout_s"]) + 1
    fsize = int(limits["file_size_mb"] * 1024 * 1024)
    for limit, soft, hard in (
        (resource.RLIMIT_AS, memory, memory),
        (resource.RLIMIT_CPU, cpu, cpu + 1),  # SIGXCPU at the soft limit, SIGKILL at the hard one
        (resource.RLIMIT_NOFILE, int(limits["open_files"]), int(limits["open_files"])),
        (resource.RLIMIT_FSIZE, fsize, fsize),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NPROC, 0, 0),  # no new processes (ignored for root: see worker_filter)
    ):
        resource.setrlimit(limit, (soft, hard))
    if worker_filter is not None:
        load_seccomp(worker_filter)


def _send(out_fd: int, obj: dict[str, Any]) -> None:
    data = encode(obj) + b"\n"
    view = memoryview(data)
    while view:
        written = os.write(out_fd, view)
        view = view[written:]


def worker_main(in_fd: int, out_fd: int, isolation: Isolation) -> None:
    """Read one item (with its limits) from ``in_fd``, run its checkers, write one JSON line per checker."""
    chunks = []
    while chunk := os.read(in_fd, 1 << 20):
        chunks.append(chunk)
    os.close(in_fd)
    if not chunks:  # the runner is shutting down
        return
    item = json.loads(b"".join(chunks))
    del chunks
    limits = item["limits"]
    _lock_down(
        out_fd,
        limits,
        isolation.worker_filter,
        os.path.join(isolation.workdir_base, str(os.getpid())),
    )
    response: str = item["response"]
    max_chars = int(limits["max_message_chars"])
    for index, checker in enumerate(item["checkers"]):
        start = time.perf_counter()
        verdict: dict[str, Any] = {"i": index}
        try:
            try:
                namespace: dict[str, Any] = {"__name__": "checker"}
                exec(compile(checker["source"], f"<checker {checker['id']}>", "exec"), namespace)
                check = namespace.get("check")
                if not callable(check):
                    raise NameError("the checker defines no check() function")
                result = check(response, **checker.get("kwargs", {}))
                if type(result) is bool:
                    verdict["status"] = "pass" if result else "fail"
                else:
                    verdict.update(status="error", error_kind="bad_return")
                    verdict["message"] = f"check() returned {type(result).__name__}, not bool"
            except (RecursionError, MemoryError):
                raise
            except BaseException as ex:  # SystemExit and KeyboardInterrupt included
                verdict.update(
                    status="error", error_kind="exception", message=_describe(ex, max_chars)
                )
        except MemoryError:
            verdict.update(status="error", error_kind="memory", message="memory limit exceeded")
        except RecursionError as ex:
            verdict.update(status="error", error_kind="exception", message=_describe(ex, max_chars))
        verdict["duration_s"] = round(time.perf_counter() - start, 6)
        _send(out_fd, verdict)


# -- the zygote: forks clean workers on request ----------------------------------------


# Modules checkers commonly import, loaded once in the zygote instead of in every worker.
PRELOADED_MODULES = (
    "re",
    "json",
    "math",
    "string",
    "collections",
    "itertools",
    "unicodedata",
    "datetime",
)


def _warm_up(preload: str | None) -> None:
    """Do once in the zygote what every worker does, so forked workers find it initialised.

    In a fresh process the first compile() alone costs about 2 ms of page faults; after a
    warm-up in the parent it costs a fifth of that.
    """
    for name in PRELOADED_MODULES:
        __import__(name)
    source = "import re\ndef check(response):\n    return bool(re.search('w', response)) and response == response.lower()\n"
    item = json.loads(
        encode(
            {
                "response": "warm up",
                "checkers": [{"id": "w", "source": source}],
                "limits": DEFAULT_LIMITS,
            }
        )
    )
    namespace: dict[str, Any] = {"__name__": "checker"}
    exec(compile(item["checkers"][0]["source"], "<warm-up>", "exec"), namespace)
    namespace["check"](item["response"])
    encode({"i": 0, "status": "pass", "duration_s": 0.0})
    if preload:  # trusted file shipped with the runner: libraries of built-in checkers
        try:
            with open(preload, encoding="utf-8") as f:
                exec(compile(f.read(), preload, "exec"), {"__name__": "__preload__"})
        except Exception:
            pass  # the checkers that need what failed to load report it themselves


def zygote_main(sock: socket.socket, isolation: Isolation, prefork: int, preload: bool) -> None:
    """Keep ``prefork`` idle workers ready; hand one over per request; reap lazily.

    A ready worker is blocked reading its item pipe, so taking one costs a message, not a
    fork; the replacement is forked while the main process feeds the taken one.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Done once here, inherited by every worker: no standard streams, no environment
    # (API keys never reach checker code), the syscall filter, and a frozen heap so that a
    # fork copies few pages.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    _warm_up(
        isolation.preload if preload else None
    )  # before the environment goes: preloads may read it
    os.environ.clear()
    os.chdir(isolation.workdir_base)
    gc.collect()
    gc.freeze()
    gc.disable()
    if isolation.zygote_filter is not None:
        load_seccomp(isolation.zygote_filter)
    ready: list[tuple[int, int, int]] = []  # (pid, item pipe write end, verdict pipe read end)
    statuses: dict[int, int] = {}
    forgotten: set[int] = set()

    def fork_worker() -> None:
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                # nothing of the zygote's channel or of other workers' pipes stays open here
                os.closerange(3, min(in_r, out_w))
                for fd in range(min(in_r, out_w) + 1, max(in_r, out_w)):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                os.closerange(max(in_r, out_w) + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
                worker_main(in_r, out_w, isolation)
            finally:
                os._exit(0)
        os.close(in_r)
        os.close(out_w)
        ready.append((pid, in_w, out_r))

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in forgotten:
                forgotten.discard(pid)
            else:
                statuses[pid] = status

    while True:
        waiting, _, _ = select.select([sock], [], [], 0 if len(ready) < prefork else None)
        if not waiting:
            fork_worker()
            continue
        try:
            message = sock.recv(1 << 10)
        except OSError:
            message = b""
        if not message:
            for _, in_w, out_r in ready:  # idle workers see an empty item and exit
                os.close(in_w)
                os.close(out_r)
            os._exit(0)
        command, _, payload = message.decode().partition(" ")
        if command == "take":
            if not ready:
                fork_worker()
            pid, in_w, out_r = ready.pop(0)
            socket.send_fds(sock, [str(pid).encode()], [in_w, out_r])
            os.close(in_w)
            os.close(out_r)
        elif command == "wait":
            pid = int(payload)
            if pid not in statuses:
                try:
                    statuses[pid] = os.waitpid(pid, 0)[1]
                except ChildProcessError:
                    statuses[pid] = 0
            sock.send(str(statuses.pop(pid)).encode())
        elif command == "forget":  # no reply: the main process needs no status for this one
            pid = int(payload)
            if statuses.pop(pid, None) is None:
                forgotten.add(pid)
        reap()


class Zygote:
    """Handle on the zygote process, from the main process (one message per call)."""

    def __init__(self, isolation: Isolation, prefork: int, preload: bool = False) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            parent.close()
            zygote_main(child, isolation, prefork, preload)
            os._exit(0)
        child.close()
        self.pid, self.sock = pid, parent

    def _reply(self) -> int:
        data = self.sock.recv(64)
        if not data:
            raise RuntimeError("the zygote process died")
        return int(data)

    def take(self) -> tuple[int, int, int]:
        """(pid, item pipe, verdict pipe) of a fresh worker."""
        self.sock.send(b"take")
        message, fds, _, _ = socket.recv_fds(self.sock, 64, 2)
        if not message or len(fds) != 2:
            raise RuntimeError("the zygote process died")
        return int(message), fds[0], fds[1]

    def wait(self, pid: int) -> int:
        self.sock.send(f"wait {pid}".encode())
        return self._reply()

    def forget(self, pid: int) -> None:
        self.sock.send(f"forget {pid}".encode())


# -- the main process: schedules items over workers ------------------------------------


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = os.path.exists(f"/proc/{os.getpid()}/stat")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) process ``pid`` has used, read from /proc by another process:
    nothing the process itself does can change it. None when it cannot be read."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    fields = data[data.rfind(b")") + 2 :].split()  # after the command name, which may hold ")"
    try:
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (IndexError, ValueError):
        return None


class Job:
    """One item on its way through workers: one worker, or after a checker ran out of time a
    fresh one (forked from the same clean zygote) for the checkers still without a verdict.

    Time limits are enforced here, from outside the worker, so no checker code can catch,
    ignore or convert them: the checker that runs (number ``len(verdicts)``) has a budget of
    CPU seconds, read from /proc, and a much larger wall-clock budget for code that sleeps or
    blocks; over either, its worker is killed and its verdict is error/timeout whatever it
    would have returned. The item has a wall-clock deadline for all its checkers.
    """

    def __init__(self, index: int, item: dict[str, Any], deadline: float) -> None:
        self.index, self.item, self.deadline = index, item, deadline
        self.checkers: list[dict[str, Any]] = item["checkers"]
        self.verdicts: list[dict[str, Any]] = []
        self.failure: tuple[str, str] | None = None  # (error_kind, message) for what is left
        self.retried: set[int] = set()  # checkers given a second, larger budget
        # the current worker, which runs checkers[offset:]
        self.zygote: Zygote | None = None
        self.pid, self.out_fd, self.offset = 0, -1, 0
        self.buffer = b""
        # the running checker's budgets
        self.factor, self.started, self.cpu_base, self.cpu_check = 1.0, 0.0, 0.0, 0.0

    def wake_at(self, limits: dict[str, float]) -> float:
        return min(
            self.deadline,
            self.started + limits["checker_wall_s"] * self.factor,
            self.cpu_check,
        )


def _error(checker_id: str, kind: str, message: str) -> dict[str, Any]:
    return {
        "checker_id": checker_id,
        "status": "error",
        "error_kind": kind,
        "message": message,
        "duration_s": None,
    }


def _validate_item(item: Any) -> str | None:
    if not isinstance(item, dict) or not isinstance(item.get("response"), str):
        return "item must be an object with a string 'response'"
    checkers = item.get("checkers")
    if not isinstance(checkers, list):
        return "item must have a list of 'checkers'"
    for c in checkers:
        if (
            not isinstance(c, dict)
            or not isinstance(c.get("id"), str)
            or not isinstance(c.get("source"), str)
        ):
            return "each checker needs a string 'id' and 'source'"
        if not isinstance(c.get("kwargs", {}), dict):
            return f"checker {c['id']}: kwargs must be an object"
    if not isinstance(item.get("libraries", False), bool):
        return "'libraries' must be true or false"
    return None


class Runner:
    def __init__(self, require_seccomp: bool = False, preload: str | None = None) -> None:
        self.isolation = Isolation(require_seccomp, preload)
        set_non_dumpable()
        # Two zygotes: a plain one, small and cheap to fork, for generated checkers; and one with
        # the preloaded libraries of built-in checkers, started on first need (forking it costs
        # several times more, so items ask for it explicitly with "libraries": true).
        self.plain = Zygote(self.isolation, prefork=_cpus() + 2)
        self.with_libraries: Zygote | None = None

    def _zygote_for(self, item: dict[str, Any]) -> Zygote:
        if not item.get("libraries") or self.isolation.preload is None:
            return self.plain
        if self.with_libraries is None:
            self.with_libraries = Zygote(self.isolation, prefork=_cpus() + 2, preload=True)
        return self.with_libraries

    def info(self) -> dict[str, Any]:
        return {
            "protocol": PROTOCOL_VERSION,
            "seccomp": self.isolation.seccomp,
            "uid": os.getuid(),
            "cpus": _cpus(),
        }

    def close(self) -> None:
        for zygote in (self.plain, self.with_libraries):
            if zygote is not None:
                zygote.sock.close()
        shutil.rmtree(self.isolation.workdir_base, ignore_errors=True)

    def run(self, items: list[Any], limits: dict[str, float]) -> list[list[dict[str, Any]]]:
        results: list[list[dict[str, Any]] | None] = [None] * len(items)
        queue = []
        for index, item in enumerate(items):
            problem = _validate_item(item)
            if problem is not None:
                checkers = item.get("checkers") if isinstance(item, dict) else None
                ids = (
                    [c.get("id", "?") if isinstance(c, dict) else "?" for c in checkers]
                    if isinstance(checkers, list)
                    else []
                )
                results[index] = [_error(str(i), "bad_request", problem) for i in ids]
            elif not item["checkers"]:
                results[index] = []
            elif (
                len(item["response"].encode("utf-8", "surrogatepass"))
                > limits["max_response_bytes"]
            ):
                message = f"response larger than {int(limits['max_response_bytes'])} bytes"
                results[index] = [_error(c["id"], "input_limit", message) for c in item["checkers"]]
            else:
                queue.append(index)
        parallel = int(limits["parallel"]) or _cpus()
        selector = selectors.DefaultSelector()
        active: dict[int, Job] = {}  # by the current worker's verdict pipe

        def launch(job: Job, first: int, factor: float) -> None:
            """Run checkers[first:] in a fresh worker, or finish the job if none is left."""
            if first < len(job.checkers) and self._launch(job, first, factor, limits):
                active[job.out_fd] = job
                selector.register(job.out_fd, selectors.EVENT_READ, job)
            else:
                results[job.index] = self._fill(job)

        def stop(job: Job, wait: bool = False) -> None:
            del active[job.out_fd]
            selector.unregister(job.out_fd)
            self._stop(job, wait)

        queue.reverse()
        while queue or active:
            while queue and len(active) < parallel:
                index = queue.pop()
                launch(Job(index, items[index], time.monotonic() + limits["item_timeout_s"]), 0, 1)
            if not active:
                continue
            now = time.monotonic()
            timeout = max(0.0, min(job.wake_at(limits) for job in active.values()) - now)
            for key, _ in selector.select(timeout):
                job = key.data
                data = os.read(job.out_fd, 1 << 16)
                if data:
                    self._consume(job, data, limits)
                if job.failure is None and len(job.verdicts) == len(job.checkers):
                    stop(job)
                    results[job.index] = job.verdicts
                elif job.failure is not None or not data:
                    # a worker that ends before reporting every checker: refined from its status
                    job.failure = job.failure or ("crash", "")
                    stop(job, wait=True)
                    results[job.index] = self._fill(job)
            now = time.monotonic()
            for job in list(active.values()):
                if now >= job.deadline:
                    job.failure = (
                        "timeout",
                        f"item exceeded its {limits['item_timeout_s']:g} s deadline",
                    )
                    stop(job)
                    results[job.index] = self._fill(job)
                    continue
                over = self._over_budget(job, now, limits)
                if over is None:
                    continue
                # Out of time: the worker is killed (nothing in it can prevent that) and the
                # checker's verdict is a timeout; a built-in checker gets one more try first.
                stop(job)
                current = len(job.verdicts)
                if (
                    job.item.get("libraries")
                    and limits["retry_factor"] > 1
                    and current not in job.retried
                ):
                    job.retried.add(current)
                    launch(job, current, limits["retry_factor"])
                    continue
                if current in job.retried:
                    over += f" (on a second try, with {limits['retry_factor']:g}x the budget)"
                job.verdicts.append(_error(job.checkers[current]["id"], "timeout", over))
                launch(job, current + 1, 1)
        return [r if r is not None else [] for r in results]

    def _over_budget(self, job: Job, now: float, limits: dict[str, float]) -> str | None:
        """Why the running checker is out of time, or None (then its next CPU check is set)."""
        wall = limits["checker_wall_s"] * job.factor
        if now >= job.started + wall:
            return f"check ran longer than {wall:g} s (wall clock)"
        if now < job.cpu_check:
            return None
        budget = limits["checker_timeout_s"] * job.factor
        cpu = cpu_seconds(job.pid)
        if cpu is None:
            if _PROC:  # the worker is gone: its end of pipe will tell
                job.cpu_check = now + 0.05
                return None
            cpu = job.cpu_base + now - job.started  # no /proc: wall clock stands in
        used = cpu - job.cpu_base
        if used >= budget:
            return f"check used more than {budget:g} s of CPU time"
        # one process, one thread: its CPU time cannot grow faster than the wall clock
        job.cpu_check = now + budget - used
        return None

    def _begin_checker(
        self, job: Job, factor: float, limits: dict[str, float], fresh: bool = False
    ) -> None:
        job.factor = factor
        job.started = time.monotonic()
        # A fresh worker has used next to no CPU (what it did after its fork, reading its item
        # and locking down counts towards its first checker): no /proc read per item.
        job.cpu_base = 0.0 if fresh else cpu_seconds(job.pid) or 0.0
        job.cpu_check = job.started + limits["checker_timeout_s"] * factor

    def _launch(self, job: Job, first: int, factor: float, limits: dict[str, float]) -> bool:
        """Hand checkers[first:] to a fresh worker; False (and job.failure set) if it died."""
        job.zygote = self._zygote_for(job.item)
        job.pid, in_w, job.out_fd = job.zygote.take()
        job.offset, job.buffer = first, b""
        self._begin_checker(job, factor, limits, fresh=True)
        try:
            data = encode(
                {
                    "response": job.item["response"],
                    "checkers": job.checkers[first:],
                    "limits": limits,
                }
            )
            view = memoryview(data)
            while view:
                view = view[os.write(in_w, view) :]
        except BrokenPipeError:
            job.failure = ("crash", "worker exited before reading its item")
        finally:
            os.close(in_w)
        if job.failure is not None:
            self._stop(job, wait=True)
            return False
        return True

    def _consume(self, job: Job, data: bytes, limits: dict[str, float]) -> None:
        job.buffer += data
        if len(job.buffer) > limits["max_reply_bytes"]:
            job.failure = (
                "output_limit",
                f"worker wrote more than {int(limits['max_reply_bytes'])} bytes",
            )
            return
        checkers = job.checkers
        while b"\n" in job.buffer and job.failure is None:
            line, _, job.buffer = job.buffer.partition(b"\n")
            current = len(job.verdicts)
            try:
                v = json.loads(line)
                ok = (
                    isinstance(v, dict)
                    and v.get("i") == current - job.offset
                    and v.get("status") in STATUSES
                    and isinstance(v.get("duration_s"), int | float)
                )
            except ValueError:
                ok = False
            if not ok or current >= len(checkers):
                job.failure = ("garbage", f"unexpected output from the worker: {line[:200]!r}")
                return
            kind = v.get("error_kind") if v["status"] == "error" else None
            message = v.get("message") if v["status"] == "error" else None
            job.verdicts.append(
                {
                    "checker_id": checkers[current]["id"],
                    "status": v["status"],
                    "error_kind": str(kind) if kind is not None else None,
                    "message": str(message)[: int(limits["max_message_chars"])]
                    if message is not None
                    else None,
                    "duration_s": float(v["duration_s"]),
                }
            )
            if current + 1 < len(checkers):
                self._begin_checker(job, 1.0, limits)

    def _stop(self, job: Job, wait: bool) -> None:
        """End the job's current worker; with ``wait``, refine a crash from its exit status."""
        os.close(job.out_fd)
        try:
            os.kill(job.pid, signal.SIGKILL)  # done or not, it runs no further
        except ProcessLookupError:
            pass
        shutil.rmtree(os.path.join(self.isolation.workdir_base, str(job.pid)), ignore_errors=True)
        assert job.zygote is not None
        if not wait:
            job.zygote.forget(job.pid)
            return
        status = job.zygote.wait(job.pid)
        if job.failure is not None and job.failure[0] == "crash":
            job.failure = _classify_exit(status)

    @staticmethod
    def _fill(job: Job) -> list[dict[str, Any]]:
        """The job's verdicts, with an error for each checker left without one."""
        if len(job.verdicts) < len(job.checkers):
            kind, message = job.failure or ("crash", "worker stopped early")
            job.verdicts += [
                _error(c["id"], kind, message) for c in job.checkers[len(job.verdicts) :]
            ]
        return job.verdicts


def _classify_exit(status: int) -> tuple[str, str]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return "timeout", "CPU time limit exceeded"
        if sig == signal.SIGKILL:
            return "memory", "worker was killed (likely out of memory)"
        if sig == signal.SIGXFSZ:
            return "output_limit", "file size limit exceeded"
        return "crash", f"worker died from signal {signal.Signals(sig).name}"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    return "crash", f"worker exited (status {code}) before reporting every checker"


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def handle(runner: Runner, request: Any) -> dict[str, Any]:
    if not isinstance(request, dict):
        return {"type": "error", "id": None, "error": "request must be a JSON object"}
    rid = request.get("id")
    if request.get("type") == "ping":
        return {"type": "pong", "id": rid, **runner.info()}
    if request.get("type") != "check":
        return {
            "type": "error",
            "id": rid,
            "error": f"unknown request type {request.get('type')!r}",
        }
    items = request.get("items")
    if not isinstance(items, list):
        return {"type": "error", "id": rid, "error": "'items' must be a list"}
    limits = dict(DEFAULT_LIMITS)
    extra = request.get("limits") or {}
    if not isinstance(extra, dict) or any(
        k not in limits or not isinstance(v, int | float) for k, v in extra.items()
    ):
        return {"type": "error", "id": rid, "error": f"bad limits {extra!r}"}
    limits.update(extra)
    return {"type": "result", "id": rid, "items": runner.run(items, limits)}


def serve(stdin: BinaryIO, stdout: BinaryIO, require_seccomp: bool, preload: str | None) -> None:
    runner = Runner(require_seccomp, preload)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        try:
            request = read_frame(stdin)
        except FrameTooLarge as ex:
            write_frame(stdout, {"type": "error", "id": None, "error": str(ex)})
            continue
        except (EOFError, ValueError) as ex:
            write_frame(stdout, {"type": "error", "id": None, "error": f"unreadable request: {ex}"})
            return  # the stream is out of sync
        if request is None:
            runner.close()
            return
        write_frame(stdout, handle(runner, request))


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else "serve"
    require_seccomp = "--require-seccomp" in argv
    preload = argv[argv.index("--preload") + 1] if "--preload" in argv else None
    lib = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib")
    if os.path.isdir(lib):  # libraries of built-in checkers, in the image
        sys.path.append(lib)
    if mode == "serve":
        serve(sys.stdin.buffer, sys.stdout.buffer, require_seccomp, preload)
        return 0
    if mode == "once":
        out = argv[argv.index("--out") + 1] if "--out" in argv else None
        try:
            request = json.loads(sys.stdin.buffer.read())
            runner = Runner(require_seccomp, preload)
            try:
                reply = handle(runner, request)
            finally:
                runner.close()
        except Exception as ex:
            reply = {"type": "error", "id": None, "error": f"{type(ex).__name__}: {ex}"}
        data = encode(reply)
        if out:
            with open(out, "wb") as f:
                f.write(data)
            print(json.dumps({"type": reply["type"], "bytes": len(data)}))
        else:
            sys.stdout.buffer.write(data)
        return 0
    print(
        "usage: runner.py serve|once [--out FILE] [--require-seccomp] [--preload FILE]",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
