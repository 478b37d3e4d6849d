"""Stored responses as an Inspect model: ``--model replay/<name> -M responses=FILE``.

Published model outputs (AlpacaEval ``model_outputs``, Arena-Hard ``model_answer``, IFBench
``sample_output``) and a team's own RL rollouts are responses without a live model. Replaying
them through the same tasks gives the same scoring, logs and viewer as a live model.

A stored response is found by the sample id (``key=id``), by the prompt (``key=prompt``: the
sample's last user message, surrounding whitespace ignored), or by either (``key=auto``, the
default: the id first, but a record found by id whose own prompt differs is not used). Before
any sample runs, ``with_replay_coverage`` checks every sample and lists all those without a
response in one error (``-M skip_missing=true`` drops them instead); nothing is made up.
Records are read strictly: a non-text response, two different responses for one id, invalid
UTF-8 or JSON are errors naming file:line.

Recognised records (JSONL, or a JSON list): ids from ``id``, ``sample_id``, ``key``, ``uid``,
``question_id``, ``index``; prompts from ``prompt``, ``instruction``, ``input``; responses from
``response``, ``output``, ``completion``, or the Arena-Hard schemas
(``messages[-1].content.answer`` and ``choices[0].turns[0].content``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspect_ai.dataset import Dataset
from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    Model,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    get_model,
    modelapi,
)
from inspect_ai.model._model import active_model
from inspect_ai.tool import ToolChoice, ToolInfo

from harness.data import DataError, DataFile, json_type, read_records, resolve

logger = logging.getLogger(__name__)

ID_FIELDS = ("id", "sample_id", "key", "uid", "question_id", "index")
PROMPT_FIELDS = ("prompt", "instruction", "input")
RESPONSE_FIELDS = ("response", "output", "completion")
MATCHING = (
    f"Records are matched by sample id ({', '.join(ID_FIELDS)}), "
    f"then by prompt ({', '.join(PROMPT_FIELDS)}: the sample's last user message)"
)


class ReplayError(DataError):
    """A stored-responses file, or a sample it cannot answer (a DataError: ``inspect eval``
    prints it as one line)."""


def response_of(record: dict[str, Any], where: str = "record") -> str | None:
    """The response text of a stored record in any recognised schema, or None when it has none.

    A response field that is present but not text (null, a number, a list) is an error naming
    ``where``: replaying it as str(value) would score "None" or "12345"."""
    for field in RESPONSE_FIELDS:
        if field in record:
            if isinstance(record[field], str):
                return record[field]
            raise DataError(
                f"{where}: field '{field}' must be a string, got {json_type(record[field])}"
            )
    try:  # Arena-Hard v2.0: messages[-1].content.answer (or plain content)
        content = record["messages"][-1]["content"]
        field = "messages[-1].content"
        if isinstance(content, dict):
            content, field = content.get("answer"), field + ".answer"
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    else:
        if isinstance(content, str):
            return content
        raise DataError(f"{where}: field '{field}' must be a string, got {json_type(content)}")
    try:  # Arena-Hard v0.1: choices[0].turns[0].content
        content = record["choices"][0]["turns"][0]["content"]
    except (KeyError, IndexError, TypeError):
        pass
    else:
        if isinstance(content, str):
            return content
        raise DataError(
            f"{where}: field 'choices[0].turns[0].content' must be a string, "
            f"got {json_type(content)}"
        )
    return None


@dataclass(frozen=True)
class StoredResponse:
    response: str
    line: int
    """Where the record starts in its file."""
    prompt: str | None
    """The record's own prompt, when it has one (to check an id match against)."""


class StoredResponses:
    """The records of a stored-responses file (JSONL or a JSON list), by id and by prompt."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.by_id: dict[str, StoredResponse] = {}
        self.by_prompt: dict[str, list[StoredResponse]] = {}
        try:
            records = read_records(self.path)
        except DataError as ex:
            raise ReplayError(f"replay: {ex}") from None
        for line, record in records:
            where = f"{self.path}:{line}"
            try:
                response = response_of(record, where)
            except DataError as ex:
                raise ReplayError(f"replay: {ex}") from None
            if response is None:
                raise ReplayError(
                    f"replay: {where}: no response field "
                    f"({', '.join(RESPONSE_FIELDS)} or an Arena-Hard answer)"
                )
            ids = [record[f] for f in ID_FIELDS if record.get(f) is not None]
            prompts = [record[f] for f in PROMPT_FIELDS if isinstance(record.get(f), str)]
            if not ids and not prompts:
                raise ReplayError(
                    f"replay: {where}: no id ({', '.join(ID_FIELDS)}) "
                    f"and no text prompt ({', '.join(PROMPT_FIELDS)})"
                )
            stored = StoredResponse(response, line, prompts[0] if prompts else None)
            if ids:
                sid = str(ids[0])
                before = self.by_id.get(sid)
                if before is not None and before.response != response:
                    raise ReplayError(
                        f"replay: {where}: id {sid!r} already has a different response "
                        f"(line {before.line})"
                    )
                self.by_id.setdefault(sid, stored)
            if prompts:
                self.by_prompt.setdefault(prompts[0].strip(), []).append(stored)

    def match(self, sample_id: str | None, prompt: str, key: str = "auto") -> StoredResponse | str:
        """The stored response of a sample, or the reason there is none."""
        if key in ("auto", "id") and sample_id is not None and sample_id in self.by_id:
            stored = self.by_id[sample_id]
            if (
                key == "auto"
                and stored.prompt is not None
                and stored.prompt.strip() != prompt.strip()
            ):
                return (
                    f"line {stored.line} has its id but another prompt "
                    "(-M key=id trusts ids, -M key=prompt matches prompts only)"
                )
            return stored
        if key == "id":
            return "no record with its id"
        candidates = self.by_prompt.get(prompt.strip(), [])
        if len({c.response for c in candidates}) > 1:
            lines = ", ".join(str(c.line) for c in candidates)
            return f"its prompt has different responses on lines {lines}"
        return candidates[0] if candidates else "no record with its id or prompt"


def load_responses(path: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """(responses by id, responses by stripped prompt) of a stored-responses file."""
    stored = StoredResponses(path)
    return (
        {k: v.response for k, v in stored.by_id.items()},
        {k: v[-1].response for k, v in stored.by_prompt.items()},
    )


def stored_responses_model(name: str, file: DataFile) -> Model:
    """The replay model of a benchmark's published responses (a task's ``replay=`` argument)."""
    return get_model(f"replay/{name}", responses=str(resolve(file)))


def _current_sample() -> tuple[str | None, str | list[ChatMessage] | None]:
    """(id, dataset input) of the sample being run, if any."""
    try:
        from inspect_ai.solver._task_state import sample_state
    except ImportError:  # pragma: no cover - internal API moved
        return None, None
    state = sample_state()
    return (None, None) if state is None else (str(state.sample_id), state.input)


class OfflineModelAPI(ModelAPI):
    """A model answered in this process, with no provider, key or connection behind it
    (stored responses, published judgments, a simulated judge). Subclasses take their model
    arguments in ``setup`` and reply in ``answer``; an unknown model argument is an error."""

    provider = "offline"
    """The provider name it is registered under (for messages)."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
        self.setup(**model_args)

    def setup(self, **model_args: Any) -> None:
        if model_args:
            raise DataError(
                f"{self.provider}/{self.model_name}: unknown model argument(s) {sorted(model_args)}"
            )

    def answer(self, input: list[ChatMessage]) -> ModelOutput:
        raise NotImplementedError

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        return self.answer(input)


def offline_output(model: str, content: str) -> ModelOutput:
    """A reply with no tokens spent (nothing was generated)."""
    output = ModelOutput.from_content(model=model, content=content)
    output.usage = ModelUsage(input_tokens=0, output_tokens=0, total_tokens=0)
    return output


class ReplayAPI(OfflineModelAPI):
    provider = "replay"

    def setup(  # type: ignore[override]
        self,
        responses: str | None = None,
        key: str = "auto",
        skip_missing: bool = False,
        **model_args: Any,
    ) -> None:
        super().setup(**model_args)
        if responses is None:
            raise ReplayError("replay: pass the stored responses with -M responses=FILE")
        if key not in ("auto", "id", "prompt"):
            raise ReplayError(f"replay: -M key must be auto, id or prompt, got {key!r}")
        if not isinstance(skip_missing, bool):
            raise ReplayError(
                f"replay: -M skip_missing must be true or false, got {skip_missing!r}"
            )
        self.key = key
        self.skip_missing = skip_missing
        self.stored = StoredResponses(responses)
        self.source = responses

    def match(self, sample_id: str | None, prompt: str) -> StoredResponse | str:
        """The stored response of a sample, or the reason there is none."""
        return self.stored.match(sample_id, prompt, self.key)

    def find(self, sample_id: str | None, prompt: str) -> str | None:
        """The stored response of a sample, or None."""
        found = self.match(sample_id, prompt)
        return found.response if isinstance(found, StoredResponse) else None

    def lookup(self, sample_id: str | None, prompt: str) -> str:
        found = self.match(sample_id, prompt)
        if isinstance(found, StoredResponse):
            return found.response
        raise ReplayError(
            f"replay: {self.source} has no response for sample {sample_id!r} ({found}; "
            f"prompt {prompt[:80]!r})"
        )

    def answer(self, input: list[ChatMessage]) -> ModelOutput:
        # Match on the sample's dataset input, as the coverage check does: solvers may have
        # rewritten the conversation since (templates, system messages).
        sample_id, sample_input = _current_sample()
        prompt = last_user_text(sample_input if sample_input is not None else input)
        return offline_output(self.model_name, self.lookup(sample_id, prompt))


@modelapi(name="replay")
def replay() -> type[ModelAPI]:
    """The ``replay/<name>`` model provider."""
    return ReplayAPI


def last_user_text(input: str | list[ChatMessage]) -> str:
    """The prompt a stored response is matched on: the last user message."""
    if isinstance(input, str):
        return input
    users = [m for m in input if m.role == "user"]
    return users[-1].text if users else ""


def with_replay_coverage(
    dataset: Dataset, task_args: dict[str, Any]
) -> tuple[Dataset, dict[str, Any]]:
    """Before any sample runs: with a replay model (the task's ``model=`` or the eval's), every
    sample must have a stored response.

    Every sample without one is listed in one error. With ``-M skip_missing=true`` they are
    dropped instead: a warning says so and the task's metadata records them under
    ``replay_skipped`` ({sample id: reason}). Inspect applies ``--limit`` / ``--sample-id``
    after the task is built, so they cannot narrow this check: a file covering only part of
    the dataset needs skip_missing. Other models: dataset and task_args unchanged.
    """
    model = task_args.get("model") or active_model()
    api = getattr(model, "api", None)
    if not isinstance(api, ReplayAPI):
        return dataset, task_args
    missing: dict[str, str] = {}
    kept: set[int] = set()  # samples by identity: ids may be absent (Inspect numbers them later)
    for index, sample in enumerate(dataset, start=1):
        sid = None if sample.id is None else str(sample.id)
        found = api.match(sid, last_user_text(sample.input))
        if isinstance(found, StoredResponse):
            kept.add(id(sample))
        else:
            missing[sid if sid is not None else f"#{index}"] = found
    if not missing:
        return dataset, task_args
    total = len(dataset)
    if len(missing) == total:
        first = ", ".join(list(missing)[:3]) + (", ..." if total > 3 else "")
        raise ReplayError(
            f"replay: {api.source} has a response for none of the {total} samples "
            f"({first}): is it this task's responses file? {MATCHING}"
        )
    plain = [sid for sid, reason in missing.items() if reason.startswith("no record")]
    other = [f"{sid} ({why})" for sid, why in missing.items() if not why.startswith("no record")]
    listed = "; ".join([*([", ".join(plain)] if plain else []), *other])
    if not api.skip_missing:
        raise ReplayError(
            f"replay: {api.source} has no response for {len(missing)} of {total} samples: "
            f"{listed}. Add them, or pass -M skip_missing=true to evaluate the "
            f"{total - len(missing)} it has (also for --limit / --sample-id with a partial "
            "file: Inspect applies them after this check)"
        )
    logger.warning(
        f"replay: skipping {len(missing)} of {total} samples without a stored response "
        f"in {api.source}: {listed}"
    )
    metadata = {**(task_args.get("metadata") or {}), "replay_skipped": missing}
    return dataset.filter(lambda s: id(s) in kept), {**task_args, "metadata": metadata}
