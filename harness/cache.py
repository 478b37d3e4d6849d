"""Judgment cache: re-scoring an identical (spec version, response) pair costs no judge call.

Keys are (component, spec version, response hash, judge model, judge protocol id, judge
config). Editing a rubric changes the spec version, so old judgments no longer match. Only
successful judgments are stored; failures are retried next time. The cache lives in memory
and, when given a path, in a SQLite file shared across processes and runs.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import json
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any


def judgment_key(
    component: str,
    spec_version: str,
    response_hash: str,
    judge_model: str,
    protocol_id: str,
    config: dict[str, Any],
) -> str:
    parts = [
        component,
        spec_version,
        response_hash,
        judge_model,
        protocol_id,
        json.dumps(config, sort_keys=True),
    ]
    # surrogatepass: any str hashes (lone surrogates from model output or JSON included);
    # well-formed text hashes exactly as plain UTF-8, so existing keys stay valid
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


_with_files: weakref.WeakSet[JudgmentCache] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    for cache in list(_with_files):
        cache.flush()


class JudgmentCache:
    """Judgments by key, in memory and (with ``path``) in SQLite.

    Writes never block the event loop: ``put`` stores in memory and queues the row; a writer
    thread inserts queued rows in batches, one transaction each (``flush`` waits for it; it
    also runs at exit). A process killed mid-run loses at most its last unflushed batch, which
    is judged again next time: SQLite's transactions keep every committed row whole.

    ``claim`` gives in-flight deduplication (single flight): the first caller of a key judges,
    later callers of the same key wait for its reply instead of judging again (GRPO groups
    repeat rollouts).
    """

    FLUSH_INTERVAL_S = 0.05
    """Longest a judgment waits in memory before the writer commits it."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._memory: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._path = str(path) if path is not None else None
        self._pending: list[tuple[str, str]] = []
        self._wake = threading.Condition(self._lock)
        self._writer: threading.Thread | None = None
        self._written = 0  # rows committed by the writer, for flush()
        self._queued = 0
        self._inflight: dict[tuple[int, str], asyncio.Future[Any]] = {}
        self.hits = 0
        self.misses = 0
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS judgments (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self._db.commit()
            self._writer = threading.Thread(target=self._write_loop, daemon=True)
            self._writer.start()
            _with_files.add(self)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            value = self._memory.get(key)
            if value is None and self._db is not None:
                row = self._db.execute(
                    "SELECT value FROM judgments WHERE key = ?", (key,)
                ).fetchone()
                if row is not None:
                    value = json.loads(row[0])
                    self._memory[key] = value
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._memory[key] = value
            if self._db is not None:
                self._pending.append((key, json.dumps(value)))
                self._queued += 1
                self._wake.notify()

    def flush(self) -> None:
        """Wait until every judgment put so far is committed to the SQLite file."""
        with self._lock:
            target = self._queued
            self._wake.notify()
            while self._written < target and self._writer is not None:
                self._wake.wait(0.1)

    def _write_loop(self) -> None:
        # its own connection: a commit never holds the lock the event loop's reads take
        assert self._path is not None
        db = sqlite3.connect(self._path, timeout=30)
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: a killed process never corrupts the file
        while True:
            with self._lock:
                while not self._pending:
                    self._wake.wait()
            time.sleep(self.FLUSH_INTERVAL_S)  # let a burst of judgments gather into one batch
            with self._lock:
                batch, self._pending = self._pending, []
            with db:  # one transaction per batch
                db.executemany("INSERT OR REPLACE INTO judgments (key, value) VALUES (?, ?)", batch)
            with self._lock:
                self._written += len(batch)
                self._wake.notify_all()

    def claim(self, key: str) -> tuple[asyncio.Future[Any], bool]:
        """(the future of ``key``'s judgment in this event loop, True if the caller is the
        first and must judge and then ``land`` it)."""
        slot = (id(asyncio.get_running_loop()), key)
        future = self._inflight.get(slot)
        if future is not None and not future.done():
            return future, False
        future = asyncio.get_running_loop().create_future()
        self._inflight[slot] = future
        return future, True

    def land(self, key: str, future: asyncio.Future[Any]) -> None:
        """The end of a claimed judgment (its future already resolved)."""
        slot = (id(asyncio.get_running_loop()), key)
        if self._inflight.get(slot) is future:
            del self._inflight[slot]

    def __len__(self) -> int:
        return len(self._memory)
