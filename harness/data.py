"""Benchmark data files: canonical public source, local cache, and one local override.

``HARNESS_DATA_DIR`` names a folder laid out like the project's shared data folder
(``writingbench/benchmark_all.jsonl``, ``healthbench/...``). When it is set, every loader
reads from it and never downloads. Otherwise files are downloaded once from their canonical
source into ``HARNESS_CACHE_DIR`` (default ``~/.cache/reward-harness``).
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR_ENV = "HARNESS_DATA_DIR"
CACHE_DIR_ENV = "HARNESS_CACHE_DIR"


class DataError(RuntimeError):
    """A benchmark file is missing or malformed; the message says how to provide it."""


@dataclass(frozen=True)
class DataFile:
    dataset: str
    relative_path: str
    """Path under HARNESS_DATA_DIR (and under the download cache)."""
    url: str | None = None
    """Canonical public source, or None for files that exist only as local copies."""


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV) or Path.home() / ".cache" / "reward-harness")


def resolve(file: DataFile) -> Path:
    """Local path of a data file, downloading it into the cache when needed."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        path = Path(override) / file.relative_path
        if not path.is_file():
            raise DataError(
                f"{DATA_DIR_ENV}={override} has no {file.relative_path} ({file.dataset}); "
                f"put the file there, or unset {DATA_DIR_ENV} to download it"
                + (f" from {file.url}" if file.url else "")
            )
        return path
    cached = cache_dir() / file.relative_path
    if cached.is_file():
        return cached
    if file.url is None:
        raise DataError(
            f"{file.dataset}: {file.relative_path} has no public download; "
            f"set {DATA_DIR_ENV} to a folder that contains it"
        )
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cached.parent, prefix=f".{cached.name}.")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(file.url, timeout=120) as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        os.replace(tmp, cached)
    except Exception as ex:
        Path(tmp).unlink(missing_ok=True)
        raise DataError(
            f"could not download {file.dataset} from {file.url} ({type(ex).__name__}: {ex}); "
            f"download it to {cached}, or set {DATA_DIR_ENV} to a folder containing {file.relative_path}"
        ) from None
    return cached


def read_jsonl_lines(
    path: Path, required: tuple[str, ...] = ()
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) of a JSONL file; a malformed line or a missing field is an error
    naming the line."""
    records = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as ex:
                raise DataError(f"{path}:{lineno}: invalid JSON ({ex.msg})") from None
            if not isinstance(record, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object")
            missing = [k for k in required if k not in record]
            if missing:
                raise DataError(f"{path}:{lineno}: missing field(s) {missing}")
            records.append((lineno, record))
    return records


def read_jsonl(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Records of a JSONL file (see ``read_jsonl_lines``)."""
    return [record for _, record in read_jsonl_lines(path, required)]


def use_local_model_caches() -> None:
    """Point tiktoken and NLTK at the data folder's copies when the user has not chosen others.

    Offline, Inspect's token counting (tiktoken) and the official instruction checkers (NLTK)
    would try to download their data; a data folder laid out like the shared one carries both.
    """
    override = os.environ.get(DATA_DIR_ENV)
    if not override:
        return
    for env, sub in (("TIKTOKEN_CACHE_DIR", "tiktoken_cache"), ("NLTK_DATA", "nltk_data")):
        folder = Path(override) / sub
        if env not in os.environ and folder.is_dir():
            os.environ[env] = str(folder.resolve())
