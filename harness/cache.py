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
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


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


class _JudgmentFile:
    """One SQLite judgment file, shared by every cache of this process on that path: the rows
    not yet committed (readable at once by all of them) and the thread that commits them."""

    FLUSH_INTERVAL_S = 0.05
    """Longest a judgment waits before the writer commits it (a burst becomes one batch)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.pending: dict[str, str] = {}
        self.queued = self.written = 0
        self.db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS judgments (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self.db.commit()
        threading.Thread(target=self._write_loop, name=f"judgments {path}", daemon=True).start()

    def get(self, key: str) -> str | None:
        with self.lock:
            text = self.pending.get(key)
            if text is None:
                row = self.db.execute(
                    "SELECT value FROM judgments WHERE key = ?", (key,)
                ).fetchone()
                text = row[0] if row is not None else None
            return text

    def put(self, key: str, text: str) -> None:
        with self.lock:
            self.pending[key] = text
            self.queued += 1
            self.wake.notify_all()

    def flush(self) -> None:
        with self.lock:
            target = self.queued
            while self.written < target:
                self.wake.wait(0.1)

    def _write_loop(self) -> None:
        # its own connection: a commit never holds the lock that reads take
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: a killed process never corrupts the file
        while True:
            with self.lock:
                while not self.pending:
                    self.wake.wait()
            time.sleep(self.FLUSH_INTERVAL_S)
            with self.lock:
                batch = list(self.pending.items())
                counted = self.queued
            try:
                with db:  # one transaction per batch
                    db.executemany(
                        "INSERT OR REPLACE INTO judgments (key, value) VALUES (?, ?)", batch
                    )
            except sqlite3.Error as ex:  # e.g. the disk is full: keep the rows, try again
                logger.warning("judgment cache %s: cannot write (%s); retrying", self.path, ex)
                time.sleep(1.0)
                continue
            with self.lock:
                for key, text in batch:
                    if self.pending.get(key) is text:
                        del self.pending[key]
                self.written = max(self.written, counted)
                self.wake.notify_all()


_files: dict[str, _JudgmentFile] = {}
_files_lock = threading.Lock()


def _judgment_file(path: str | Path) -> _JudgmentFile:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    resolved = str(Path(path).resolve())
    with _files_lock:
        if resolved not in _files:
            _files[resolved] = _JudgmentFile(resolved)
        return _files[resolved]


@atexit.register
def _flush_all() -> None:
    for file in list(_files.values()):
        file.flush()


class JudgmentCache:
    """Judgments by key: the most recent ``memory_entries`` in memory, all of them in the SQLite
    file at ``path`` (when given; shared across processes and runs).

    Writes never block the event loop: ``put`` keeps the row in memory and a writer thread
    commits queued rows in batches, one transaction each (``flush`` waits for it; it also runs
    at exit). Every cache of this process on the same file sees a row at once. A process killed
    mid-run loses at most its last batch (judged again next time); SQLite's transactions keep
    every committed row whole.

    ``claim`` / ``land`` give in-flight deduplication (single flight): the first caller of a
    key judges, later callers of the same key wait for its reply instead of judging again (a
    GRPO group repeats rollouts).
    """

    def __init__(self, path: str | Path | None = None, *, memory_entries: int = 100_000) -> None:
        if memory_entries < 1:
            raise ValueError("memory_entries must be >= 1")
        self._memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._memory_entries = memory_entries
        self._lock = threading.Lock()
        self._file = _judgment_file(path) if path is not None else None
        self._inflight: dict[tuple[int, str], asyncio.Future[Any]] = {}
        self.hits = 0
        self.misses = 0

    def _remember(self, key: str, value: dict[str, Any]) -> None:
        self._memory[key] = value
        self._memory.move_to_end(key)
        if len(self._memory) > self._memory_entries:
            self._memory.popitem(last=False)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            value = self._memory.get(key)
            if value is not None:
                self._memory.move_to_end(key)
            elif self._file is not None:
                text = self._file.get(key)
                if text is not None:
                    value = json.loads(text)
                    self._remember(key, value)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._remember(key, value)
        if self._file is not None:
            self._file.put(key, json.dumps(value))

    def flush(self) -> None:
        """Wait until every judgment put so far is committed to the SQLite file."""
        if self._file is not None:
            self._file.flush()

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
