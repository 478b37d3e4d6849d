"""The spec store: one JSON spec per line, append-only by version, written atomically
(a whole-file rewrite, or a single appended line).

Several versions of one prompt's spec may coexist (editing makes a new version); lookups by
prompt id or prompt hash return the newest version unless a version is asked for.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from harness.data import DataError, MissingFileError, read_jsonl_lines
from harness.spec import RewardSpec, describe_validation_error


class SpecStoreError(DataError, ValueError):
    """A spec file is malformed; the message names the file, line and field."""


def read_specs(path: str | Path) -> list[RewardSpec]:
    """Parse a JSONL spec file, failing on the first malformed line with its location.

    A stored criterion must state its weight: a hand-written line that leaves it out is an
    error, not a silent weight of 1 (specs built by the harness always write it)."""
    path = Path(path)
    try:
        lines = read_jsonl_lines(path)
    except MissingFileError:
        raise
    except DataError as ex:
        raise SpecStoreError(str(ex)) from None
    specs: list[RewardSpec] = []
    for lineno, data in lines:
        criteria = data.get("criteria")
        for i, criterion in enumerate(criteria if isinstance(criteria, list) else []):
            if isinstance(criterion, dict) and "weight" not in criterion:
                raise SpecStoreError(
                    f"{path}:{lineno}: field 'criteria.{i}.weight': Field required "
                    "(every stored criterion states its weight; negative for a pitfall)"
                )
        try:
            specs.append(RewardSpec.model_validate(data))
        except ValidationError as ex:
            raise SpecStoreError(f"{path}:{lineno}: {describe_validation_error(ex)}") from None
    return specs


class SpecStore:
    """A JSONL file of specs with lookup by prompt id, prompt hash and version."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._specs: list[RewardSpec] = []
        self._by_version: dict[str, RewardSpec] = {}
        self._newest_by_id: dict[str, RewardSpec] = {}
        self._newest_by_hash: dict[str, RewardSpec] = {}
        if self.path.exists():
            for spec in read_specs(self.path):
                self._index(spec)
        elif not create:
            raise MissingFileError(f"spec store {self.path} does not exist")

    def _index(self, spec: RewardSpec) -> None:
        if spec.version not in self._by_version:
            self._specs.append(spec)
            self._by_version[spec.version] = spec
            self._newest_by_id[spec.prompt_id] = spec
            self._newest_by_hash[spec.prompt_hash] = spec

    def __len__(self) -> int:
        return len(self._specs)

    def __iter__(self) -> Iterator[RewardSpec]:
        return iter(list(self._specs))

    def latest(self) -> list[RewardSpec]:
        """The newest version of each prompt's spec, in first-written order."""
        return list(self._newest_by_id.values())

    def get(self, prompt_id: str, version: str | None = None) -> RewardSpec | None:
        if version is not None:
            spec = self._by_version.get(version)
            return spec if spec is not None and spec.prompt_id == prompt_id else None
        return self._newest_by_id.get(prompt_id)

    def get_by_prompt_hash(self, prompt_hash: str) -> RewardSpec | None:
        return self._newest_by_hash.get(prompt_hash)

    def get_version(self, version: str) -> RewardSpec | None:
        return self._by_version.get(version)

    def put(self, spec: RewardSpec) -> None:
        self.put_many([spec])

    def append(self, spec: RewardSpec) -> bool:
        """Add one spec by appending its line (one write, then fsync): for incremental builds,
        where rewriting the file per spec would be quadratic. A kill loses at most this spec.
        Returns False when this version is already stored."""
        with self._lock:
            if spec.version in self._by_version:
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True)
            line = (spec.model_dump_json() + "\n").encode("utf-8")
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(f"short write to {self.path} ({written} of {len(line)} bytes)")
                os.fsync(fd)
            finally:
                os.close(fd)
            self._index(spec)
            return True

    def put_many(self, specs: Iterable[RewardSpec]) -> None:
        """Add specs (already-present versions are skipped) and rewrite the file atomically."""
        with self._lock:
            before = len(self._specs)
            for spec in specs:
                self._index(spec)
            if len(self._specs) == before and self.path.exists():
                return
            self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                for spec in self._specs:
                    f.write(spec.model_dump_json() + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
