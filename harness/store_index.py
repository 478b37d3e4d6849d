"""Read-only, indexed access to a spec store: open in well under a second and with memory
independent of the store's size, whatever its size (100k specs and more).

``IndexedSpecStore(path)`` keeps, beside the JSONL file, a SQLite index
(``<store>.index.sqlite``: each spec line's version, prompt id, prompt hash and byte range)
and reads a spec only when it is asked for. The index is rebuilt when the store was rewritten,
and extended when lines were appended (the last indexed line still in place). A spec is fully
validated when it is used — its version hash checked against its content — so an edited
(tampered) line is an error naming the file and line, on use. Lookups answer as ``SpecStore``'s
do: the newest version of a prompt unless a version is asked for; a version stored twice
counts once, at its first line.

Where the index cannot be written beside the store (a read-only folder), it is built in memory.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from harness.data import DataError, MissingFileError, _decode, _json_error
from harness.spec import RewardSpec, describe_validation_error

INDEX_SUFFIX = ".index.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS specs (
    seq INTEGER PRIMARY KEY,
    version TEXT NOT NULL UNIQUE,
    prompt_id TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    line INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS by_prompt_id ON specs (prompt_id, seq);
CREATE INDEX IF NOT EXISTS by_prompt_hash ON specs (prompt_hash, seq);
"""
_FORMAT = "1"


class IndexedSpecStore:
    """A spec store file, read through its index (see the module doc). Read-only."""

    def __init__(self, path: str | Path, *, cached_specs: int = 1024) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise MissingFileError(f"spec store {self.path} does not exist")
        self._lock = threading.Lock()
        self._specs: OrderedDict[int, RewardSpec] = OrderedDict()
        self._cached_specs = cached_specs
        self._db = self._open_index()
        self._update()

    # -- the index ---------------------------------------------------------------------------

    def _open_index(self) -> sqlite3.Connection:
        target = str(self.path) + INDEX_SUFFIX
        try:
            db = sqlite3.connect(target, check_same_thread=False, timeout=30)
            db.executescript(_SCHEMA)
        except sqlite3.Error:
            db = sqlite3.connect(":memory:", check_same_thread=False)
            db.executescript(_SCHEMA)
        return db

    def _meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def _update(self) -> None:
        """Bring the index up to date with the file (rebuild, extend, or nothing)."""
        stat = os.stat(self.path)
        meta = self._meta()
        size = int(meta.get("size", -1))
        if (
            meta.get("format") == _FORMAT
            and size == stat.st_size
            and meta.get("mtime_ns") == str(stat.st_mtime_ns)
        ):
            return
        start, line = 0, 1
        if meta.get("format") == _FORMAT and 0 < size < stat.st_size and self._last_line_intact():
            start, line = size, int(meta["lines"]) + 1
        else:
            self._db.execute("DELETE FROM specs")
        with self._db:
            lines = self._index_from(start, line)
            self._db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [
                    ("format", _FORMAT),
                    ("size", str(stat.st_size)),
                    ("mtime_ns", str(stat.st_mtime_ns)),
                    ("lines", str(lines)),
                ],
            )

    def _last_line_intact(self) -> bool:
        row = self._db.execute(
            "SELECT version, offset, length FROM specs ORDER BY offset DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return False
        version, offset, length = row
        with self.path.open("rb") as f:
            f.seek(offset)
            raw = f.read(length)
        try:
            return json.loads(raw).get("version") == version
        except (ValueError, AttributeError):
            return False

    def _index_from(self, start: int, first_line: int) -> int:
        """Index the lines from byte ``start`` (line ``first_line``); the last line number."""
        rows = []
        lineno = first_line - 1
        offset = start
        with self.path.open("rb") as f:
            f.seek(start)
            for raw in f:
                lineno += 1
                length = len(raw)
                text = raw.strip()
                if lineno == 1 and text.startswith(b"\xef\xbb\xbf"):
                    text = text[3:]
                if text:
                    version, prompt_id, prompt_hash = self._keys(text, lineno)
                    rows.append((version, prompt_id, prompt_hash, offset, length, lineno))
                offset += length
                if len(rows) >= 10_000:
                    self._insert(rows)
                    rows = []
        self._insert(rows)
        return lineno

    def _insert(self, rows: list[tuple]) -> None:
        # the first line of a version counts (as SpecStore does)
        self._db.executemany(
            "INSERT OR IGNORE INTO specs (version, prompt_id, prompt_hash, offset, length, line)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def _keys(self, text: bytes, lineno: int) -> tuple[str, str, str]:
        """(version, prompt id, prompt hash) of a line: read from it, or (a hand-written line
        without them) from the validated spec."""
        where = f"{self.path}:{lineno}"
        line = _decode(text, self.path, lineno)  # invalid UTF-8: file, line and column
        try:
            data = json.loads(line)
        except json.JSONDecodeError as ex:
            raise _json_error(self.path, lineno, ex) from None
        if not isinstance(data, dict):
            raise DataError(f"{where}: expected a JSON object")
        keys = (data.get("version"), data.get("prompt_id"), data.get("prompt_hash"))
        if all(isinstance(k, str) and k for k in keys):
            return keys  # type: ignore[return-value]
        spec = self._validate(data, where)
        return spec.version, spec.prompt_id, spec.prompt_hash

    # -- specs -------------------------------------------------------------------------------

    def _validate(self, data: object, where: str) -> RewardSpec:
        try:
            return RewardSpec.model_validate(data)
        except ValidationError as ex:
            raise DataError(f"{where}: {describe_validation_error(ex)}") from None

    def _load(self, row: tuple[int, int, int, int] | None) -> RewardSpec | None:
        if row is None:
            return None
        seq, offset, length, lineno = row
        with self._lock:
            spec = self._specs.get(seq)
            if spec is not None:
                self._specs.move_to_end(seq)
                return spec
        with self.path.open("rb") as f:
            f.seek(offset)
            raw = f.read(length)
        where = f"{self.path}:{lineno}"
        try:
            data = json.loads(raw.strip().removeprefix(b"\xef\xbb\xbf"))
        except ValueError as ex:
            raise DataError(f"{where}: the store changed since it was opened ({ex})") from None
        spec = self._validate(data, where)  # the version hash is checked here
        with self._lock:
            self._specs[seq] = spec
            if len(self._specs) > self._cached_specs:
                self._specs.popitem(last=False)
        return spec

    def _one(self, sql: str, *args: str) -> tuple[int, int, int, int] | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def get(self, prompt_id: str, version: str | None = None) -> RewardSpec | None:
        if version is not None:
            return self._load(
                self._one(
                    "SELECT seq, offset, length, line FROM specs"
                    " WHERE version = ? AND prompt_id = ?",
                    version,
                    prompt_id,
                )
            )
        return self._load(
            self._one(
                "SELECT seq, offset, length, line FROM specs WHERE prompt_id = ?"
                " ORDER BY seq DESC LIMIT 1",
                prompt_id,
            )
        )

    def get_by_prompt_hash(self, prompt_hash: str) -> RewardSpec | None:
        return self._load(
            self._one(
                "SELECT seq, offset, length, line FROM specs WHERE prompt_hash = ?"
                " ORDER BY seq DESC LIMIT 1",
                prompt_hash,
            )
        )

    def get_version(self, version: str) -> RewardSpec | None:
        return self._load(
            self._one("SELECT seq, offset, length, line FROM specs WHERE version = ?", version)
        )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM specs").fetchone()[0])

    def __iter__(self) -> Iterator[RewardSpec]:
        """Every stored version, in file order, read one at a time."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, offset, length, line FROM specs ORDER BY seq"
            ).fetchall()
        for row in rows:
            spec = self._load(row)
            assert spec is not None
            yield spec
