"""Judgment cache: re-scoring an identical (spec version, response) pair costs no judge call.

Keys are (component, spec version, response hash, judge model, judge protocol id, judge
config). Editing a rubric changes the spec version, so old judgments no longer match. Only
successful judgments are stored; failures are retried next time. The cache lives in memory
and, when given a path, in a SQLite file shared across processes and runs.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
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


class JudgmentCache:
    def __init__(self, path: str | Path | None = None) -> None:
        self._memory: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
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
                self._db.execute(
                    "INSERT OR REPLACE INTO judgments (key, value) VALUES (?, ?)",
                    (key, json.dumps(value)),
                )
                self._db.commit()

    def __len__(self) -> int:
        return len(self._memory)
