#!/usr/bin/env python3
"""Checker runner: runs untrusted ``check(response) -> bool`` code in isolated workers.

Standard library only: this file is copied into the sandbox image and also runs on the host
(for trusted checkers). One request carries a batch of items; an item is one response with
the checkers of its spec. The isolation unit is the item: each item runs in its own worker
process, forked from a *zygote* that was forked before any request was read, so a worker's
memory holds its own item and nothing of any other. Within an item, each checker's verdict is
its own: a generated checker runs in a process of its own (a child of the worker, or the worker
itself for the last one) unless its syntax tree proves it reaches nothing another checker uses
(``shares_nothing``), so no checker can write, patch or forge another's verdict. The harness's
own built-in checkers (an item with "builtin": true: trusted code) run together in a worker of
a second zygote that has their libraries preloaded. Workers are kept ready (forked ahead, idle
on their item pipe). Once, in the zygote, so that every worker inherits it:

- stdin/stdout/stderr point at /dev/null and the environment is emptied (API keys never
  reach checker code);
- a seccomp filter (libseccomp via ctypes; the rule tables below) refuses filesystem writes
  (nothing exists on disk that another item could read, plant or wait on), shared kernel
  objects (SysV IPC, message queues, locks, inotify), every way of reaching another process
  (signals, I/O signal owners, tracing, memory, limits, scheduling), exec and sockets;
- common modules are preloaded and the compiler warmed up, so a fork copies little.

Then per worker, before checker code runs, the worker closes every descriptor but its verdict
pipe, drops its capabilities if it runs as root, and sets limits (address space, CPU seconds,
open files, file size, no core dumps); a process about to run checker code also gets no new
processes (RLIMIT_NPROC = 0, and as root a small filter).

The main process and the zygotes are non-dumpable (and so, by inheritance, every worker), so a
worker running as the same user can neither read nor write another runner process's memory
or descriptors through /proc.

Time limits are enforced by the main process, from outside the worker, so checker code can
neither catch, ignore nor convert them (no timer signal is raised inside the checker, where a
library could swallow it and report success). The running checker has a budget of CPU seconds
(``checker_timeout_s``, the worker's CPU time read from /proc: the same whatever the load of
the machine) and a much larger wall-clock backstop for code that sleeps or blocks
(``checker_wall_s``). Over either, the checker's process and the worker are killed and the
checker's verdict is error/timeout; the item's remaining checkers continue in a fresh worker
forked from the same zygote. A built-in checker that runs out of time is first retried once with its budgets
multiplied by ``retry_factor``. The item has a wall-clock deadline (``item_timeout_s``) for
all its checkers; what has no verdict by then is a timeout. A process that dies, floods its
pipe or writes garbage is the error of the checker it was running; the item's other checkers
continue (in a fresh worker if it was the worker), and other items never share its process.

Protocol. ``serve``: frames on stdin/stdout, each an 8-byte big-endian length and a JSON
object (raw UTF-8, lone surrogates passed through). ``once``: one JSON request on stdin; the
reply (ASCII JSON) goes to stdout or ``--out FILE``.

Request: {"type": "check", "id": any, "limits": {...}, "items": [{"response": str,
"checkers": [{"id": str, "source": str, "kwargs": {...}}], "builtin": bool}]}; or
{"type": "ping"}. "builtin": the checkers are the harness's built-in ones (trusted).
Reply: {"type": "result", "id": any, "items": [[verdict, ...], ...]} with one verdict per
checker: {"checker_id", "status": "pass" | "fail" | "error", "error_kind", "message",
"duration_s"}; or {"type": "error", "id": any, "error": str}.
"""

from __future__ import annotations

import ast
import ctypes
import errno
import gc
import json
import os
import resource
import select
import selectors
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
    "parallel": 0,  # concurrent workers (at most MAX_PARALLEL); 0 = number of CPUs available
}
MAX_PARALLEL = 32
SHARES_CACHE_SIZE = 100_000  # checker sources whose analysis the main process remembers
PREFORK = 6  # idle workers each zygote keeps ready (taking one costs a message, not a fork)

# What checker code may not do, as seccomp rules (refused with EPERM). Together they are the
# isolation contract between items: one item's code can neither read nor write anything another
# item can observe, nor change another item's execution.
#
# Workers write nothing outside their own memory: no file, directory, link, FIFO, lock, shared
# memory segment or message queue exists that another item could read, plant or wait on, on any
# runtime path (the container's /tmp and /dev/shm, the host's temporary directory). Scratch space
# is memory (io.BytesIO, memfd_create), private to the worker. Reading files stays allowed (the
# image is read-only and holds nothing of any item); /proc of other workers is closed to them
# because every runner process is non-dumpable.
#
# Other processes (the runner, the zygotes, concurrent workers, on the Inspect sandbox path also
# other runners) cannot be reached: no signals by any route (kill, pidfd, fcntl/ioctl owners for
# I/O signals), no tracing or memory access, no resource limits, scheduling or priorities of
# another pid, no locks or leases another process could wait on, no inotify watches to observe
# another item's file accesses.

# DENIED_SYSCALLS, FILESYSTEM_WRITES, DENIED_ARGUMENTS and WRITE_OPENS are refused in the
# zygote, before it forks any worker, so that every worker and checker process inherits them at
# no per-item cost.
DENIED_SYSCALLS = (
    "execve", "execveat",
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "pidfd_open", "pidfd_send_signal", "pidfd_getfd",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "process_madvise", "process_mrelease", "migrate_pages", "move_pages",
    "setpriority", "ioprio_set",
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "mount", "umount2", "unshare", "setns", "chroot", "pivot_root",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "personality", "setsid", "setpgid",
    "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl",
    "semget", "semop", "semtimedop", "semctl",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "flock", "inotify_init", "inotify_init1", "inotify_add_watch", "fanotify_init",
    "name_to_handle_at", "open_by_handle_at",
)  # fmt: skip

FILESYSTEM_WRITES = (
    "creat", "openat2", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat",
    "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
    "mknod", "mknodat", "chmod", "fchmod", "fchmodat", "fchmodat2",
    "chown", "fchown", "lchown", "fchownat", "truncate",
    "utime", "utimes", "utimensat", "futimesat",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
)  # fmt: skip
# Refused only to the process about to run checker code (the zygote and a worker of generated
# checkers fork), where RLIMIT_NPROC = 0 does not bind: for a runner run as root.
PROCESS_CREATION = ("fork", "vfork", "clone", "clone3")
# ENOSYS rather than EPERM: libc then falls back to the older call, which the rules do cover
ENOSYS_SYSCALLS = frozenset({"clone3", "openat2"})

# libseccomp comparison operators (enum scmp_compare)
SCMP_CMP_NE, SCMP_CMP_EQ, SCMP_CMP_MASKED_EQ = 1, 4, 7
LOW_32 = 0xFFFFFFFF
Rule = tuple[str, int, int, int, int]
"""(syscall, argument index, operator, datum_a, datum_b): the call is refused when the argument
compares true (MASKED_EQ: ``arg & datum_a == datum_b``)."""


def _command(syscall: str, value: int) -> Rule:
    # The kernel reads these commands as 32-bit ints: compare the low 32 bits only, so that a
    # raw syscall with garbage in the upper half of the register cannot slip past the rule.
    return (syscall, 1, SCMP_CMP_MASKED_EQ, LOW_32, value)


def _other_process(syscall: str) -> Rule:
    # pid 0 is the caller itself; any other value of the whole register is refused
    return (syscall, 0, SCMP_CMP_NE, 0, 0)


def _opens_for_writing(syscall: str, flags_arg: int) -> tuple[Rule, ...]:
    # O_WRONLY, O_RDWR, O_CREAT, O_TRUNC (O_TMPFILE needs a write mode as well)
    return tuple(
        (syscall, flags_arg, SCMP_CMP_MASKED_EQ, bit, bit) for bit in (0o1, 0o2, 0o100, 0o1000)
    )


DENIED_ARGUMENTS: tuple[Rule, ...] = (
    # limits, scheduling and CPUs of another process (setrlimit on itself is prlimit64(0, ...))
    *map(_other_process, ("prlimit64", "sched_setaffinity", "sched_setscheduler")),
    *map(_other_process, ("sched_setparam", "sched_setattr")),
    # commands that make the kernel signal a chosen process on I/O, SIGKILL and SIGSTOP included
    _command("fcntl", 8),  # F_SETOWN
    _command("fcntl", 10),  # F_SETSIG
    _command("fcntl", 15),  # F_SETOWN_EX
    _command("ioctl", 0x8901),  # FIOSETOWN
    _command("ioctl", 0x8902),  # SIOCSPGRP
    # record locks and leases another process would wait on
    _command("fcntl", 6),  # F_SETLK
    _command("fcntl", 7),  # F_SETLKW
    _command("fcntl", 37),  # F_OFD_SETLK
    _command("fcntl", 38),  # F_OFD_SETLKW
    _command("fcntl", 1024),  # F_SETLEASE
)
WRITE_OPENS: tuple[Rule, ...] = (
    *_opens_for_writing("open", 1),
    *_opens_for_writing("openat", 2),
)

STATUSES = ("pass", "fail", "error")


# -- framing ----------------------------------------------------------------------------


class FrameTooLarge(ValueError):
    pass


def encode(obj: Any) -> bytes:
    """JSON as raw UTF-8, lone surrogates passed through: every str arrives exactly as sent.
    (ASCII escapes would turn a lone high and low surrogate side by side into one character.)"""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


def decode(data: bytes) -> Any:
    return json.loads(data.decode("utf-8", "surrogatepass"))


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
    return decode(data)


# -- process hardening ------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_DUMPABLE = 4


def set_non_dumpable() -> None:
    """Keep same-user processes out of this process's memory (/proc/PID/mem, ptrace)."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _load_seccomp() -> Any:
    # by soname, not ctypes.util.find_library: that imports tempfile and random, whose
    # after-fork reseed would then run in every worker
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


def seccomp_program(denied: tuple[str, ...], denied_arguments: tuple[Rule, ...] = ()) -> bytes:
    """A BPF program refusing ``denied`` syscalls, and ``denied_arguments`` calls, with EPERM
    (ENOSYS for ``ENOSYS_SYSCALLS``), compiled once by libseccomp. Syscalls of other ABIs (x32,
    i386 through int 0x80) are killed: libseccomp's default for a foreign architecture."""
    lib = _SECCOMP
    if lib is None:
        raise OSError("libseccomp is not available")
    allow, errno_action = 0x7FFF0000, 0x00050000
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(allow)
    if not ctx:
        raise OSError("seccomp_init failed")
    try:
        rules = [(name, None) for name in denied]
        rules += [(name, _ArgCmp(arg, op, a, b)) for name, arg, op, a, b in denied_arguments]
        for name, cmp in rules:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:  # not a syscall on this architecture
                continue
            code = errno.ENOSYS if name in ENOSYS_SYSCALLS else errno.EPERM
            rc = lib.seccomp_rule_add_array(
                ctx, errno_action | code, nr, 0 if cmp is None else 1, cmp
            )
            if rc < 0:
                raise OSError(-rc, f"seccomp rule for {name} failed")
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


class Isolation:
    """How workers are locked down; prepared once by the main process, inherited by fork.

    The zygote installs ``zygote_filter`` (``DENIED_SYSCALLS``, ``FILESYSTEM_WRITES`` and the
    argument rules) before it forks any worker, so every worker and checker process inherits
    it at no cost. The process that runs checker code then seals itself against new processes
    (RLIMIT_NPROC = 0, and as root, which that limit does not bind, ``process_filter``).
    """

    def __init__(self, require_seccomp: bool, preload: str | None = None) -> None:
        self.preload = preload
        if require_seccomp and not seccomp_available():
            raise RuntimeError("seccomp is required but libseccomp is not available")
        self.seccomp = seccomp_available()
        self.zygote_filter = (
            seccomp_program(DENIED_SYSCALLS + FILESYSTEM_WRITES, DENIED_ARGUMENTS + WRITE_OPENS)
            if self.seccomp
            else None
        )
        self.process_filter = (
            seccomp_program(PROCESS_CREATION) if self.seccomp and os.getuid() == 0 else None
        )


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


_CAP_DATA = ctypes.c_uint32 * 6  # two struct __user_cap_data_struct (version 3)


def drop_capabilities() -> None:
    """Root without capabilities: no reading other processes' memory through /proc
    (CAP_SYS_PTRACE), no bypassing file permissions. For a runner run as root on the host."""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    if _libc.capset(ctypes.byref(header), ctypes.byref(_CAP_DATA())) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


# -- the worker: one item, its checkers, in a locked-down process -----------------------


def _describe(ex: BaseException, limit: int) -> str:
    try:
        text = f"{type(ex).__name__}: {ex}"
    except BaseException:  # a hostile __str__
        text = "exception with an unprintable message"
    return text[:limit]


def _lock_down(out_fd: int, limits: dict[str, float]) -> None:
    """What is per worker: descriptors, resource limits, capabilities (see also ``_seal``)."""
    os.closerange(3, out_fd)  # close_range(2) where available: fast even with huge fd limits
    os.closerange(out_fd + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    if os.getuid() == 0:
        drop_capabilities()  # first: then no limit below can be raised past its hard value
    memory = int(limits["memory_mb"] * 1024 * 1024)
    cpu = int(limits["item_timeout_s"]) + 1
    fsize = int(limits["file_size_mb"] * 1024 * 1024)
    for limit, soft, hard in (
        (resource.RLIMIT_AS, memory, memory),
        (resource.RLIMIT_CPU, cpu, cpu + 1),  # SIGXCPU at the soft limit, SIGKILL at the hard one
        (resource.RLIMIT_NOFILE, int(limits["open_files"]), int(limits["open_files"])),
        (resource.RLIMIT_FSIZE, fsize, fsize),  # memfd_create scratch files
        (resource.RLIMIT_CORE, 0, 0),
    ):
        resource.setrlimit(limit, (soft, hard))


def _send(out_fd: int, obj: dict[str, Any]) -> None:
    data = encode(obj) + b"\n"
    view = memoryview(data)
    while view:
        written = os.write(out_fd, view)
        view = view[written:]


# -- which generated checkers may share their worker ------------------------------------
#
# A checker's process is its own (see worker_main) unless its code provably cannot reach
# anything a later checker of the item uses: then it runs in the item's worker itself, which
# saves a fork (the main cost of a checker on small machines). Proof by the syntax tree,
# conservatively: only the modules below, and of them only the listed names, with a module only
# ever used as ``module.name``; no attribute or dunder name (that is how Python code reaches
# frames, globals, classes and modules it was not given), no attribute assignment or deletion,
# no ``global``/``nonlocal``, none of the builtins that reach objects by name or run code.
# Everything else (``os``, ``sys``, ``ctypes``, classes that set attributes, ...) is not
# rejected: it runs in a process of its own, where whatever it does dies with it.

SHARED_MODULES: dict[str, tuple[str, ...] | None] = {
    # None: every public name (C modules with nothing but functions and constants)
    "math": None,
    "itertools": None,
    "unicodedata": None,
    "re": (
        "compile", "search", "match", "fullmatch", "split", "findall", "finditer", "sub",
        "subn", "escape", "error", "Pattern", "Match", "A", "ASCII", "I", "IGNORECASE",
        "M", "MULTILINE", "S", "DOTALL", "X", "VERBOSE", "U", "UNICODE", "NOFLAG",
    ),
    "json": ("dumps", "loads", "JSONDecodeError"),
    "string": (
        "ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits", "hexdigits",
        "octdigits", "punctuation", "printable", "whitespace", "capwords",
    ),
    "collections": ("Counter", "OrderedDict", "defaultdict", "deque", "namedtuple"),
    "datetime": ("date", "datetime", "time", "timedelta", "timezone", "MINYEAR", "MAXYEAR"),
    "statistics": ("mean", "median", "mode", "multimode", "stdev", "pstdev", "variance",
                   "pvariance", "fmean", "StatisticsError"),
    "textwrap": ("wrap", "fill", "dedent", "indent", "shorten"),
    "functools": ("reduce", "partial", "cmp_to_key", "lru_cache", "cache"),
}  # fmt: skip
UNSHARED_BUILTINS = frozenset(
    {
        "eval", "exec", "compile", "open", "globals", "locals", "vars", "getattr",
        "setattr", "delattr", "breakpoint", "input", "help", "exit", "quit",
    }
)  # fmt: skip
# attributes of frames, generators, coroutines, tracebacks, code and functions
UNSHARED_ATTRIBUTE_PREFIXES = ("_", "gi_", "cr_", "ag_", "f_", "tb_", "co_", "func_", "im_")


def shares_nothing(tree: Any) -> bool:
    """Whether a checker's syntax tree (``ast.Module``) stays within the rules above. One walk:
    an attribute is met before the name it is read from (breadth first)."""
    modules: dict[str, tuple[str, ...] | None] = {}
    names: list[tuple[str, Any]] = []
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Name:
            names.append((node.id, node))
        elif kind is ast.Attribute:
            if type(node.ctx) is not ast.Load or node.attr.startswith(UNSHARED_ATTRIBUTE_PREFIXES):
                return False
            if type(node.value) is ast.Name:
                node.value.parent_attribute = node
        elif kind is ast.Import:
            for alias in node.names:
                if alias.name not in SHARED_MODULES:
                    return False
                modules[alias.asname or alias.name] = SHARED_MODULES[alias.name]
        elif kind is ast.ImportFrom:
            allowed = SHARED_MODULES.get(node.module or "", ())
            if node.level or allowed == ():
                return False
            for alias in node.names:
                if alias.name.startswith(("_", "*")) or (
                    allowed is not None and alias.name not in allowed
                ):
                    return False
        # classes (attributes, metaclasses, class-level imports) and other scopes' names
        elif kind in (ast.ClassDef, ast.Global, ast.Nonlocal):
            return False
        if kind in _BINDINGS:
            names += [(name, node) for name in _identifiers(node)]
    return not any(
        name.startswith("__")
        or name in UNSHARED_BUILTINS
        or (name in modules and not _module_use(node, modules))
        for name, node in names
    )


_BINDINGS = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.arg, ast.alias, ast.keyword, ast.ExceptHandler,
    ast.MatchAs, ast.MatchStar, ast.MatchClass, ast.MatchMapping,
)  # fmt: skip


def _identifiers(node: Any) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.alias):
        return [node.asname or node.name.split(".")[0]]
    if isinstance(node, ast.keyword):
        return [node.arg] if node.arg else []
    if isinstance(node, ast.MatchClass):
        return list(node.kwd_attrs)
    if isinstance(node, ast.MatchMapping):
        return [node.rest] if node.rest else []
    return [node.name] if node.name else []  # ExceptHandler, MatchAs, MatchStar


def _module_use(node: Any, modules: dict[str, tuple[str, ...] | None]) -> bool:
    """A module name may only be imported, or read as ``module.<allowed name>``."""
    if isinstance(node, ast.alias):
        return True
    parent = getattr(node, "parent_attribute", None)
    if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load) or parent is None:
        return False
    allowed = modules[node.id]
    return allowed is None or parent.attr in allowed


def _compile(checker: dict[str, Any]) -> tuple[Any, bool]:
    """The checker's code object, or the exception compiling it raised (then its verdict), and
    whether it may share the item's worker (``shares_nothing``).

    Compiling runs none of the checker's code, so the worker compiles every checker before any
    runs: a checker's own process then never runs the compiler, whose code pages every fresh
    process would otherwise fault in again. ``checker["shares"]``, where the main process
    already knows it (from an earlier worker's analysis of the same source), spares the
    analysis."""
    filename = f"<checker {checker['id']}>"
    try:
        if "shares" in checker:
            return compile(checker["source"], filename, "exec"), checker["shares"]
        tree = ast.parse(checker["source"], filename)
        return compile(tree, filename, "exec"), shares_nothing(tree)
    except BaseException as ex:  # nothing of the checker runs: its verdict is this error
        return ex, True


def _run_checker(
    index: int, checker: dict[str, Any], code: Any, response: str, max_chars: int
) -> dict:
    """One checker's verdict line (``i`` is the checker's index in the worker's list)."""
    start = time.perf_counter()
    verdict: dict[str, Any] = {"i": index}
    try:
        try:
            if isinstance(code, BaseException):
                raise code
            namespace: dict[str, Any] = {"__name__": "checker"}
            exec(code, namespace)
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
            verdict.update(status="error", error_kind="exception", message=_describe(ex, max_chars))
    except MemoryError:
        verdict.update(status="error", error_kind="memory", message="memory limit exceeded")
    except RecursionError as ex:
        verdict.update(status="error", error_kind="exception", message=_describe(ex, max_chars))
    verdict["duration_s"] = round(time.perf_counter() - start, 6)
    return verdict


def _seal(process_filter: bytes | None) -> None:
    """The last step before checker code runs in this process: no new processes."""
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # ignored for root: see process_filter
    if process_filter is not None:
        load_seccomp(process_filter)


def _in_child(
    index: int,
    checker: dict[str, Any],
    code: Any,
    response: str,
    limits: dict[str, float],
    out_fd: int,
    isolation: Isolation,
) -> dict[str, Any]:
    """Run one generated checker in a child process and return its verdict line.

    The child cannot reach the worker's verdict pipe (it closes it before checker code runs) and
    cannot touch the worker or a later checker: whatever it writes or patches dies with it, and
    only its first line, re-numbered here, counts as its verdict.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            os.close(out_fd)
            _seal(isolation.process_filter)
            max_chars = int(limits["max_message_chars"])
            _send(write_fd, _run_checker(0, checker, code, response, max_chars))
        finally:
            os._exit(0)
    os.close(write_fd)
    _send(out_fd, {"i": index, "pid": pid})  # the main process times this process
    data, cap = b"", int(limits["max_reply_bytes"])
    while len(data) <= cap and (chunk := os.read(read_fd, 1 << 16)):
        data += chunk
    os.close(read_fd)  # a child still writing gets EPIPE; one that never stops is timed out
    status = os.waitpid(pid, 0)[1]
    line = data.partition(b"\n")[0]
    try:
        verdict = decode(line) if b"\n" in data and len(data) <= cap else None
    except ValueError:
        verdict = None
    if (
        isinstance(verdict, dict)
        and verdict.get("status") in STATUSES
        and isinstance(verdict.get("duration_s"), int | float)
    ):
        keys = ("status", "error_kind", "message", "duration_s")
        return {"i": index, **{k: verdict.get(k) for k in keys}}
    kind, message = (
        ("output_limit", f"checker wrote more than {cap} bytes")
        if len(data) > cap
        else _classify_exit(status)
        if not data
        else ("garbage", f"unexpected output from the checker: {line[:200]!r}")
    )
    return {"i": index, "status": "error", "error_kind": kind, "message": message, "duration_s": 0}


def worker_main(in_fd: int, out_fd: int, isolation: Isolation) -> None:
    """Read one item (with its limits) from ``in_fd``, run its checkers, and write to ``out_fd``
    two JSON lines per checker: ``{"i", "pid"}`` (the process that runs it, which the main
    process times) before it starts, then its verdict; for generated checkers, first a line
    ``{"shares": [bool, ...]}`` (which of them may share this worker).

    Built-in checkers (trusted) all run in this process, in order. A generated checker runs in
    a process of its own unless it provably shares nothing with the others
    (``shares_nothing``): those run in children of this process first, then, with this
    process sealed, the checkers that share nothing, then the last one that needed a process of
    its own, here, once every other verdict is sent. So no checker can write or change
    another's verdict, and a fork is paid only where it is needed.
    """
    chunks = []
    while chunk := os.read(in_fd, 1 << 20):
        chunks.append(chunk)
    os.close(in_fd)
    if not chunks:  # the runner is shutting down
        return
    item = decode(b"".join(chunks))
    del chunks
    limits = item["limits"]
    _lock_down(out_fd, limits)
    response: str = item["response"]
    checkers = item["checkers"]
    max_chars = int(limits["max_message_chars"])
    compiled = [_compile(c) for c in checkers]
    order = list(range(len(checkers)))
    if not item.get("builtin"):
        # before any checker runs (so the main process may trust and remember it)
        _send(out_fd, {"shares": [shares for _, shares in compiled]})
        alone = [k for k in order if not compiled[k][1]]
        for k in alone[:-1]:
            verdict = _in_child(k, checkers[k], compiled[k][0], response, limits, out_fd, isolation)
            _send(out_fd, verdict)
        order = [k for k in order if compiled[k][1]] + alone[-1:]
    _seal(isolation.process_filter)
    for k in order:
        _send(out_fd, {"i": k, "pid": os.getpid()})
        _send(out_fd, _run_checker(k, checkers[k], compiled[k][0], response, max_chars))
        gc.collect(0)  # what a checker left in reference cycles (gc is off: all in generation 0)


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
    item = decode(
        encode(
            {
                "response": "warm up",
                "checkers": [{"id": "w", "source": source}],
                "limits": DEFAULT_LIMITS,
            }
        )
    )
    checker = item["checkers"][0]
    code, _ = _compile(checker)
    devnull = os.open(os.devnull, os.O_WRONLY)
    _send(devnull, _run_checker(0, checker, code, item["response"], 100))
    os.close(devnull)
    gc.collect()
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
    os.chdir("/")  # workers write no files: no working directory of their own
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
    """One item on its way through workers: one worker, or after a checker ran out of time or
    the worker failed, a fresh one (forked from the same clean zygote) for the checkers still
    without a verdict.

    The worker announces each checker before it starts, with the process that runs it (the
    worker itself or a child of it, see ``worker_main``), then sends its verdict; it may run
    the checkers in any order. Time limits are enforced here, from outside, so no checker code
    can catch, ignore or convert them: the announced checker has a budget of CPU seconds, read
    from /proc, and a much larger wall-clock budget for code that sleeps or blocks; over
    either, its process and the worker are killed and its verdict is error/timeout whatever it
    would have returned. The item has a wall-clock deadline for all its checkers.
    """

    def __init__(self, index: int, item: dict[str, Any], deadline: float) -> None:
        self.index, self.item, self.deadline = index, item, deadline
        self.checkers: list[dict[str, Any]] = item["checkers"]
        self.builtin: bool = item.get("builtin", False)
        self.verdicts: dict[int, dict[str, Any]] = {}
        self.failure: tuple[str, str] | None = None  # (error_kind, message) of the worker
        self.retried: set[int] = set()  # checkers given a second, larger budget
        # the current worker: the checkers it was given (its index i is assigned[i])
        self.zygote: Zygote | None = None
        self.pid, self.out_fd, self.buffer, self.first_line = 0, -1, b"", True
        self.assigned: list[int] = []
        self.announced: set[int] = set()
        # the running checker: its index, its process (the worker or a child) and budgets
        self.running: int | None = None
        self.checker_pid = 0
        self.factor, self.started, self.cpu_base, self.cpu_check = 1.0, 0.0, 0.0, 0.0

    def pending(self) -> list[int]:
        return [k for k in range(len(self.checkers)) if k not in self.verdicts]

    def results(self) -> list[dict[str, Any]]:
        """One verdict per checker, an error for each left without one."""
        kind, message = self.failure or ("crash", "worker stopped early")
        return [
            self.verdicts.get(k) or _error(c["id"], kind, message)
            for k, c in enumerate(self.checkers)
        ]

    def wake_at(self, limits: dict[str, float]) -> float:
        if self.running is None:
            return self.deadline
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
    if not isinstance(item.get("builtin", False), bool):
        return "'builtin' must be true or false"
    return None


class Runner:
    """Runs requests: validates items, schedules them over at most ``parallel`` workers.

    Processes at most: the main process, two zygotes with ``PREFORK`` idle workers each, and per
    running item a worker and one checker process (a container's pids limit must allow it).
    """

    def __init__(self, require_seccomp: bool = False, preload: str | None = None) -> None:
        self.isolation = Isolation(require_seccomp, preload)
        set_non_dumpable()
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        # Two zygotes: a plain one, small and cheap to fork, for generated checkers; and one with
        # the preloaded libraries of built-in checkers, started on first need (forking it costs
        # several times more).
        self.plain = Zygote(self.isolation, prefork=PREFORK)
        self.with_libraries: Zygote | None = None
        # checker source -> whether it may share its item's worker, as workers found it
        self.shares: dict[str, bool] = {}

    def _zygote_for(self, job: Job) -> Zygote:
        if not job.builtin or self.isolation.preload is None:
            return self.plain
        if self.with_libraries is None:
            self.with_libraries = Zygote(self.isolation, prefork=PREFORK, preload=True)
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
        parallel = min(int(limits["parallel"]) or _cpus(), MAX_PARALLEL)
        selector = selectors.DefaultSelector()
        active: dict[int, Job] = {}  # by the current worker's verdict pipe

        def launch(job: Job, retry: int | None = None) -> None:
            """Run the checkers still without a verdict in a fresh worker, or finish the job."""
            if job.pending() and self._launch(job, retry, limits):
                active[job.out_fd] = job
                selector.register(job.out_fd, selectors.EVENT_READ, job)
            else:
                results[job.index] = job.results()

        def stop(job: Job, wait: bool = False) -> None:
            del active[job.out_fd]
            selector.unregister(job.out_fd)
            self._stop(job, wait)

        def fail_current(job: Job, kind: str, message: str) -> None:
            """The running checker (else the first without a verdict) gets an error; the item
            goes on in a fresh worker."""
            current = job.running if job.running is not None else job.pending()[0]
            job.verdicts[current] = _error(job.checkers[current]["id"], kind, message)
            job.failure, job.running = None, None
            launch(job)

        queue.reverse()
        while queue or active:
            while queue and len(active) < parallel:
                index = queue.pop()
                launch(Job(index, items[index], time.monotonic() + limits["item_timeout_s"]))
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
                    stop(job)  # the worker's checkers are done: it runs no further
                    results[job.index] = job.results()
                elif job.failure is not None or not data:
                    # a worker that ends before reporting its checkers: refined from its status
                    job.failure = job.failure or ("crash", "")
                    stop(job, wait=True)
                    fail_current(job, *job.failure)
            now = time.monotonic()
            for job in list(active.values()):
                if now >= job.deadline:
                    job.failure = (
                        "timeout",
                        f"item exceeded its {limits['item_timeout_s']:g} s deadline",
                    )
                    stop(job)
                    results[job.index] = job.results()
                    continue
                over = self._over_budget(job, now, limits)
                if over is None:
                    continue
                # Out of time: the worker is killed (nothing in it can prevent that) and the
                # checker's verdict is a timeout; a built-in checker gets one more try first.
                stop(job)
                current = job.running
                assert current is not None
                if job.builtin and limits["retry_factor"] > 1 and current not in job.retried:
                    job.retried.add(current)
                    job.running = None
                    launch(job, retry=current)
                    continue
                if current in job.retried:
                    over += f" (on a second try, with {limits['retry_factor']:g}x the budget)"
                fail_current(job, "timeout", over)
        return [r if r is not None else [] for r in results]

    def _over_budget(self, job: Job, now: float, limits: dict[str, float]) -> str | None:
        """Why the running checker is out of time, or None (then its next CPU check is set)."""
        if job.running is None:  # between checkers: only the item's deadline applies
            return None
        wall = limits["checker_wall_s"] * job.factor
        if now >= job.started + wall:
            return f"check ran longer than {wall:g} s (wall clock)"
        if now < job.cpu_check:
            return None
        budget = limits["checker_timeout_s"] * job.factor
        cpu = cpu_seconds(job.checker_pid)
        if cpu is None:
            if _PROC:  # the process is gone: the worker's pipe will tell
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
        self, job: Job, index: int, pid: int, factor: float, limits: dict[str, float], fresh: bool
    ) -> None:
        job.running, job.checker_pid, job.factor = index, pid, factor
        job.started = time.monotonic()
        # A fresh process has used next to no CPU (what a worker did after its fork, reading its
        # item and locking down, counts towards its first checker): no /proc read for it.
        job.cpu_base = 0.0 if fresh else cpu_seconds(pid) or 0.0
        job.cpu_check = job.started + limits["checker_timeout_s"] * factor

    def _launch(self, job: Job, retry: int | None, limits: dict[str, float]) -> bool:
        """Hand the checkers still without a verdict to a fresh worker (``retry``: the one
        given its budgets x retry_factor); False (and job.failure set) if it died before
        reading them."""
        job.zygote = self._zygote_for(job)
        job.pid, in_w, job.out_fd = job.zygote.take()
        job.assigned, job.announced, job.buffer = job.pending(), set(), b""
        job.first_line = True
        job.running, job.checker_pid = None, job.pid
        job.factor = limits["retry_factor"] if retry is not None else 1.0
        try:
            data = encode(
                {
                    "response": job.item["response"],
                    "checkers": [self._known(job.checkers[k]) for k in job.assigned],
                    "builtin": job.builtin,
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

    def _known(self, checker: dict[str, Any]) -> dict[str, Any]:
        shares = self.shares.get(checker["source"])
        return checker if shares is None else {**checker, "shares": shares}

    def _remember(self, job: Job, shares: Any) -> bool:
        """Keep a worker's analysis of its checkers (its first line, sent before any of them
        ran); False if it is not one bool per checker."""
        if not isinstance(shares, list) or len(shares) != len(job.assigned):
            return False
        if not all(type(s) is bool for s in shares):
            return False
        if len(self.shares) > SHARES_CACHE_SIZE:
            self.shares.clear()
        for k, s in zip(job.assigned, shares, strict=True):
            self.shares.setdefault(job.checkers[k]["source"], s)
        return True

    def _consume(self, job: Job, data: bytes, limits: dict[str, float]) -> None:
        job.buffer += data
        if len(job.buffer) > limits["max_reply_bytes"]:
            job.failure = (
                "output_limit",
                f"worker wrote more than {int(limits['max_reply_bytes'])} bytes",
            )
            return
        # Nothing after the item's last verdict is read: the worker is stopped there.
        while b"\n" in job.buffer and job.failure is None and len(job.verdicts) < len(job.checkers):
            line, _, job.buffer = job.buffer.partition(b"\n")
            first_line, job.first_line = job.first_line, False
            try:
                v = decode(line)
                if first_line and not job.builtin and isinstance(v, dict) and "shares" in v:
                    if self._remember(job, v["shares"]):
                        continue
                local = v.get("i") if isinstance(v, dict) else None
                ok = type(local) is int and 0 <= local < len(job.assigned)
            except ValueError:
                ok = False
            if ok and "pid" in v:
                # A checker starts, in the worker or a child of it. Each is announced once,
                # before it runs, and only code of the worker's own can announce one: every
                # other checker has been announced (and has its verdict) before the one
                # checker that may run unshared code in the worker starts.
                pid = v["pid"]
                ok = (
                    job.running is None
                    and local not in job.announced
                    and type(pid) is int
                    and pid > 0
                )
                if ok:
                    index = job.assigned[local]
                    first = not job.announced
                    job.announced.add(local)
                    factor = job.factor if first else 1.0  # a retry is the worker's first
                    self._begin_checker(job, index, pid, factor, limits, first or pid != job.pid)
                    continue
            elif ok:
                ok = (
                    job.running == job.assigned[local]
                    and v.get("status") in STATUSES
                    and isinstance(v.get("duration_s"), int | float)
                )
            if not ok:
                job.failure = ("garbage", f"unexpected output from the worker: {line[:200]!r}")
                return
            kind = v.get("error_kind") if v["status"] == "error" else None
            message = v.get("message") if v["status"] == "error" else None
            index = job.running
            job.verdicts[index] = {
                "checker_id": job.checkers[index]["id"],
                "status": v["status"],
                "error_kind": str(kind) if kind is not None else None,
                "message": str(message)[: int(limits["max_message_chars"])]
                if message is not None
                else None,
                "duration_s": float(v["duration_s"]),
            }
            # a child that ran the checker is reaped by now: never signal its pid again
            job.running, job.checker_pid = None, job.pid

    def _stop(self, job: Job, wait: bool) -> None:
        """End the job's current worker; with ``wait``, refine a crash from its exit status."""
        os.close(job.out_fd)
        # done or not, they run no further: first the checker's own process if it is a child of
        # the worker (not yet reaped while the worker lives, so the pid is still the child's)
        for pid in dict.fromkeys((job.checker_pid, job.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap_orphans()
        assert job.zygote is not None
        if not wait:
            job.zygote.forget(job.pid)
            return
        status = job.zygote.wait(job.pid)
        if job.failure is not None and job.failure[0] == "crash":
            job.failure = _classify_exit(status)


PR_SET_CHILD_SUBREAPER = 36


def _reap_orphans() -> None:
    """Collect the checker processes of killed workers, which the kernel hands to the main
    process (a subreaper): in a container whose PID 1 is not the runner they would stay
    zombies."""
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


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
    """CPUs this process may run on (the default number of concurrent workers)."""
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
            request = decode(sys.stdin.buffer.read())
            runner = Runner(require_seccomp, preload)
            try:
                reply = handle(runner, request)
            finally:
                runner.close()
        except Exception as ex:
            reply = {"type": "error", "id": None, "error": f"{type(ex).__name__}: {ex}"}
        # ASCII: Inspect's exec decodes stdout with errors="replace"; only the replies'
        # messages could hold surrogates, and escaped they arrive intact
        data = json.dumps(reply, separators=(",", ":")).encode("ascii")
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
