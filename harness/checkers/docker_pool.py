"""The warm pool: long-lived hardened containers, each running the checker runner.

Requests stream over the container's attached stdin/stdout (no ``docker exec`` per request).
Hardening: no network, no /dev/shm, read-only root with a small /tmp tmpfs, non-root user, all
capabilities dropped, no-new-privileges, memory / pids / CPU limits, an empty environment,
nothing of the host mounted. Containers are labelled with their owner; they stop by
themselves when the owner goes away (stdin closes, the runner exits, the container is
auto-removed), and a new pool also removes any left behind by a dead owner.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from typing import Any

from harness.checkers.image import PRELOAD_IN_IMAGE, image_exists, image_tag
from harness.checkers.runtime import Connection, RunnerError, RunnerPool
from harness.sandboxes import runner as wire

LABEL = "harness.checker-pool"


class SandboxUnavailable(RuntimeError):
    """Docker, or the checker image, is not there."""


def docker_client() -> Any:
    import docker

    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as ex:
        raise SandboxUnavailable(
            f"no Docker engine answers ({type(ex).__name__}: {ex}); run `bash sandboxes/setup_docker.sh`"
        ) from None
    return client


def docker_available() -> bool:
    try:
        docker_client()
    except SandboxUnavailable:
        return False
    return True


@dataclass(frozen=True)
class ContainerLimits:
    memory: str = "1g"
    pids: int = 128  # the runner's processes at most (see sandboxes/runner.py Runner)
    cpus: float | None = None
    """CPU quota per container (None: no quota; the runner uses as many workers as CPUs)."""
    tmpfs_size: str = "64m"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_orphans(client: Any) -> int:
    """Remove pool containers whose owning process on this host is gone."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        labels = container.labels
        if labels.get(f"{LABEL}.host") != socket.gethostname():
            continue
        if _alive(int(labels.get(f"{LABEL}.pid", "0"))):
            continue
        try:
            container.remove(force=True)
            removed += 1
        except Exception:
            pass
    return removed


class _Demux:
    """The stdout payload of Docker's multiplexed attach stream (8-byte headers per chunk)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.stderr = bytearray()

    def _exact(self, n: int) -> bytes | None:
        data = bytearray()
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return bytes(data)

    def read(self, n: int) -> bytes:
        while not self.buffer:
            header = self._exact(8)
            if header is None:
                return b""
            stream, size = header[0], struct.unpack(">I", header[4:])[0]
            payload = self._exact(size)
            if payload is None:
                return b""
            if stream == 1:
                self.buffer += payload
            else:  # stderr: keep the tail for error messages
                self.stderr = (self.stderr + payload)[-4000:]
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out


class _SocketWriter:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def flush(self) -> None:
        pass


class ContainerConnection:
    def __init__(self, client: Any, image: str, limits: ContainerLimits) -> None:
        api = client.api
        host_config = api.create_host_config(
            network_mode="none",
            ipc_mode="none",  # no /dev/shm (workers may not write files anyway)
            read_only=True,
            tmpfs={"/tmp": f"size={limits.tmpfs_size},mode=1777"},
            cap_drop=["ALL"],
            security_opt=["no-new-privileges:true"],
            mem_limit=limits.memory,
            memswap_limit=limits.memory,
            pids_limit=limits.pids,
            nano_cpus=int(limits.cpus * 1e9) if limits.cpus else None,
            auto_remove=True,
        )
        labels = {
            LABEL: "1",
            f"{LABEL}.pid": str(os.getpid()),
            f"{LABEL}.host": socket.gethostname(),
        }
        # detach=False makes stdin "once": when this process goes away, the runner sees EOF and exits.
        created = api.create_container(
            image,
            command=["serve", "--require-seccomp", "--preload", PRELOAD_IN_IMAGE],
            user="10001:10001",
            stdin_open=True,
            detach=False,
            environment={},
            labels=labels,
            host_config=host_config,
        )
        self.id = created["Id"]
        self.api = api
        try:
            attached = api.attach_socket(
                self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            self.sock: socket.socket = attached._sock
            api.start(self.id)
            self.reader = _Demux(self.sock)
            self.writer = _SocketWriter(self.sock)
            self.info = self.request({"type": "ping"}, timeout=60)
        except Exception:
            self.close()
            raise
        if not self.info.get("seccomp"):
            self.close()
            raise RunnerError("the sandbox runner has no seccomp filter")

    def request(self, payload: dict[str, Any], timeout: float) -> Any:
        self.sock.settimeout(timeout)
        try:
            wire.write_frame(self.writer, payload)
            reply = wire.read_frame(self.reader)
        except (OSError, EOFError, ValueError) as ex:
            raise RunnerError(f"container runner failed: {type(ex).__name__}: {ex}") from None
        if reply is None:
            detail = self.reader.stderr.decode(errors="replace").strip().splitlines()[-1:] or [
                "no output"
            ]
            raise RunnerError(f"container runner ended ({detail[0]})")
        return reply

    def close(self) -> None:
        try:
            self.sock.close()
        except Exception:
            pass
        try:
            self.api.remove_container(self.id, force=True)
        except Exception:
            pass  # already gone (auto-removed)


class DockerPool(RunnerPool):
    """Checker runners in warm, hardened containers: the runtime for untrusted checker code."""

    name = "docker"

    def __init__(
        self,
        size: int = 2,
        limits: dict[str, float] | None = None,
        image: str | None = None,
        container: ContainerLimits | None = None,
    ) -> None:
        self.client = docker_client()
        self.image = image or image_tag()
        if not image_exists(self.image):
            raise SandboxUnavailable(
                f"checker image {self.image} is missing; run `bash sandboxes/build_image.sh`"
            )
        self.container_limits = container or ContainerLimits()
        prune_orphans(self.client)
        super().__init__(size, limits)

    def connect(self) -> Connection:
        return ContainerConnection(self.client, self.image, self.container_limits)

    def container_ids(self) -> list[str]:
        with self._lock:
            return [c.id for c in self._all if isinstance(c, ContainerConnection)]
