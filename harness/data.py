"""Input files: benchmark data (canonical public source, local cache, one local override) and
the one set of readers every input goes through (errors name file:line).

``HARNESS_DATA_DIR`` names a folder laid out like the project's shared data folder
(``writingbench/benchmark_all.jsonl``, ``healthbench/...``). When it is set, every loader
reads from it and never downloads. Otherwise files are downloaded once from their canonical
source into ``HARNESS_CACHE_DIR`` (default ``~/.cache/reward-harness``).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR_ENV = "HARNESS_DATA_DIR"
CACHE_DIR_ENV = "HARNESS_CACHE_DIR"


class DataError(RuntimeError):
    """An input file is missing or malformed; the message names it (file:line: what is wrong)
    and says how to fix it.

    Once Inspect is loaded, a DataError is raised as Inspect's ``PrerequisiteError`` as well
    (still a DataError): ``inspect eval`` then prints the message alone — no traceback — and
    exits 1 when a task cannot be built from its inputs, in any task, with no wrapper needed.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> DataError:
        if "inspect_ai" in sys.modules and not getattr(cls, "_prerequisite", False):
            cls = _as_prerequisite(cls)
        return super().__new__(cls, *args, **kwargs)


@functools.cache
def _as_prerequisite(cls: type[DataError]) -> type[DataError]:
    from inspect_ai._util.error import PrerequisiteError
    from rich.markup import escape

    def message(self: DataError) -> str:
        return escape(str(self))  # Inspect prints it as rich markup: brackets stay literal

    def reduce(self: DataError) -> tuple[Any, ...]:
        return cls, self.args  # pickles as the plain class

    namespace = {
        "_prerequisite": True,
        "__module__": cls.__module__,
        "message": property(message),
        "__reduce__": reduce,
    }
    return type(cls.__name__, (cls, PrerequisiteError), namespace)


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
    import urllib.request  # only when downloading

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


class MissingFileError(DataError):
    """An input file does not exist."""


def json_type(value: Any) -> str:
    """A value's JSON type name, for error messages (``null``, ``number``, ``array``, ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def read_bytes(path: Path) -> bytes:
    """A whole input file; a missing or unreadable file is a DataError naming it."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise MissingFileError(f"{path} does not exist") from None
    except OSError as ex:
        raise DataError(f"{path}: cannot read ({ex.strerror or ex})") from None


def _decode(data: bytes, path: Path, first_line: int = 1) -> str:
    """UTF-8 text (a leading byte-order mark dropped); invalid bytes are an error naming the
    line and column where they are."""
    try:
        return data.decode("utf-8-sig" if first_line == 1 else "utf-8")
    except UnicodeDecodeError as ex:
        line = first_line + data.count(b"\n", 0, ex.start)
        column = ex.start - (data.rfind(b"\n", 0, ex.start) + 1) + 1
        raise DataError(
            f"{path}:{line}: invalid UTF-8 (byte 0x{data[ex.start]:02x} at column {column}); "
            "save the file as UTF-8"
        ) from None


def read_text(path: Path) -> str:
    """A UTF-8 text file; invalid UTF-8 is an error naming the line."""
    return _decode(read_bytes(path), path)


def _json_error(path: Path, line: int, ex: json.JSONDecodeError) -> DataError:
    return DataError(f"{path}:{line}: invalid JSON: {ex.msg} (column {ex.colno})")


def read_json(path: Path) -> Any:
    """A whole-file JSON document; errors name the file and line."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as ex:
        raise _json_error(path, ex.lineno, ex) from None


def read_jsonl_lines(
    path: Path, required: tuple[str, ...] = ()
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) of a JSONL file; blank lines are skipped (numbers stay the file's).

    Invalid UTF-8, invalid JSON, a line that is not a JSON object, or a missing required field
    is an error naming the file and line."""
    return list(iter_jsonl_lines(path, required))


def iter_jsonl_lines(
    path: Path, required: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``read_jsonl_lines`` one line at a time: memory does not grow with the file."""
    path = Path(path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise MissingFileError(f"{path} does not exist") from None
    except OSError as ex:
        raise DataError(f"{path}: cannot read ({ex.strerror or ex})") from None
    with handle:
        for lineno, raw in enumerate(handle, start=1):
            line = _decode(raw.rstrip(b"\n"), path, lineno)
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as ex:
                raise _json_error(path, lineno, ex) from None
            if not isinstance(record, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object, got {json_type(record)}")
            missing = [k for k in required if k not in record]
            if missing:
                raise DataError(f"{path}:{lineno}: missing field(s) {missing}")
            yield lineno, record


def read_jsonl(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Records of a JSONL file (see ``read_jsonl_lines``)."""
    return [record for _, record in read_jsonl_lines(path, required)]


def read_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) of a file holding either a JSON list of objects or JSONL.

    A file whose first character (after whitespace) is ``[`` is a JSON list; each record is
    located by the line its object starts on."""
    text = read_text(path)
    if not text.lstrip().startswith("["):
        return read_jsonl_lines(path)
    decoder = json.JSONDecoder()
    records: list[tuple[int, dict[str, Any]]] = []
    pos, line = text.index("[") + 1, 1 + text.count("\n", 0, text.index("["))

    def skip_space(pos: int, line: int) -> tuple[int, int]:
        while pos < len(text) and text[pos] in " \t\r\n":
            line += text[pos] == "\n"
            pos += 1
        return pos, line

    try:
        pos, line = skip_space(pos, line)
        if text.startswith("]", pos):
            pos += 1
        else:
            while True:
                record, end = decoder.raw_decode(text, pos)
                if not isinstance(record, dict):
                    raise DataError(
                        f"{path}:{line}: expected a JSON object, got {json_type(record)}"
                    )
                records.append((line, record))
                line += text.count("\n", pos, end)
                pos, line = skip_space(end, line)
                if text.startswith("]", pos):
                    pos += 1
                    break
                if not text.startswith(",", pos):
                    raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
                pos, line = skip_space(pos + 1, line)
        pos, line = skip_space(pos, line)
        if pos != len(text):
            raise json.JSONDecodeError("Extra data", text, pos)
    except json.JSONDecodeError as ex:
        raise _json_error(path, ex.lineno, ex) from None
    return records


def text_field(
    record: dict[str, Any],
    field: str,
    where: str,
    *,
    id_like: bool = False,
    optional: bool = False,
) -> str | None:
    """A record's field that must be text (``id_like``: or an integer, as ids often are).

    Anything else — null, a number where text is meant, a list — is an error naming ``where``
    (file:line) and the field: turning it into text with str() would score "None" or "12345"."""
    value = record.get(field)
    if value is None and optional:
        return None
    if isinstance(value, str) and (value or not id_like):
        return value
    if id_like and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    expected = "a non-empty string or an integer" if id_like else "a string"
    got = "an empty string" if value == "" else json_type(value)
    raise DataError(f"{where}: field '{field}' must be {expected}, got {got}")


@dataclass(frozen=True)
class PromptRecord:
    """One line of a prompts file: ``{"id", "prompt": text or messages, "label"?, "metadata"?}``."""

    line: int
    id: str
    prompt: Any
    """``harness.spec.Prompt``: a string or a tuple of ``PromptMessage``."""
    label: str | None
    metadata: dict[str, Any]


def read_prompts(path: Path) -> list[PromptRecord]:
    """A prompts file (JSONL); every malformed value is an error naming file:line and field."""
    from harness.spec import parse_prompt  # pydantic: kept off this module's import

    records = []
    lines: dict[str, int] = {}
    for lineno, record in read_jsonl_lines(path, required=("id", "prompt")):
        where = f"{path}:{lineno}"
        pid = str(text_field(record, "id", where, id_like=True))
        if pid in lines:
            raise DataError(f"{where}: id {pid!r} is already used on line {lines[pid]}")
        lines[pid] = lineno
        label = text_field(record, "label", where, optional=True)
        metadata = record.get("metadata", {})
        if not isinstance(metadata, dict):
            raise DataError(
                f"{where}: field 'metadata' must be an object, got {json_type(metadata)}"
            )
        try:
            prompt = parse_prompt(record["prompt"])
        except ValueError as ex:
            raise DataError(f"{where}: {ex}") from None
        records.append(PromptRecord(lineno, pid, prompt, label, metadata))
    return records


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
