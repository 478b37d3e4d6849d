"""Stored responses as an Inspect model: ``--model replay/<name> -M responses=FILE``.

Published model outputs (AlpacaEval ``model_outputs``, Arena-Hard ``model_answer``, IFBench
``sample_output``) and a team's own RL rollouts are responses without a live model. Replaying
them through the same tasks gives the same scoring, logs and viewer as a live model.

A stored response is found by the sample id (``key=id``), by the prompt (``key=prompt``: the
last user message, exactly, then with surrounding whitespace ignored), or by either
(``key=auto``, the default). A sample with no stored response fails with an error naming it;
nothing is made up.

Recognised records (JSONL, or a JSON list): ids from ``id``, ``sample_id``, ``key``, ``uid``,
``question_id``, ``index``; prompts from ``prompt``, ``instruction``, ``input``; responses from
``response``, ``output``, ``completion``, or the Arena-Hard schemas
(``messages[-1].content.answer`` and ``choices[0].turns[0].content``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from inspect_ai._util.error import PrerequisiteError
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

from harness.data import DataFile, resolve

ID_FIELDS = ("id", "sample_id", "key", "uid", "question_id", "index")
PROMPT_FIELDS = ("prompt", "instruction", "input")
RESPONSE_FIELDS = ("response", "output", "completion")


class ReplayError(ValueError):
    pass


def response_of(record: dict[str, Any]) -> str | None:
    """The response text of a stored record, in any of the recognised schemas."""
    for field in RESPONSE_FIELDS:
        if isinstance(record.get(field), str):
            return record[field]
    try:  # Arena-Hard v2.0: messages[-1].content.answer (or plain content)
        content = record["messages"][-1]["content"]
        content = content.get("answer") if isinstance(content, dict) else content
        if isinstance(content, str):
            return content
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    try:  # Arena-Hard v0.1: choices[0].turns[0].content
        content = record["choices"][0]["turns"][0]["content"]
        if isinstance(content, str):
            return content
    except (KeyError, IndexError, TypeError):
        pass
    return None


def load_responses(path: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """(responses by id, responses by prompt) from a stored-responses file."""
    path = Path(path)
    if not path.is_file():
        raise ReplayError(f"replay: responses file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        records = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        records = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as ex:
                    raise ReplayError(f"replay: {path}:{lineno}: invalid JSON ({ex.msg})") from None
    by_id: dict[str, str] = {}
    by_prompt: dict[str, str] = {}
    for n, record in enumerate(records, start=1):
        response = response_of(record) if isinstance(record, dict) else None
        if response is None:
            raise ReplayError(f"replay: {path}: record {n} has no response field")
        for field in ID_FIELDS:
            if field in record and record[field] is not None:
                by_id[str(record[field])] = response
                break
        for field in PROMPT_FIELDS:
            if isinstance(record.get(field), str):
                by_prompt[record[field]] = response
                by_prompt.setdefault(record[field].strip(), response)
                break
    if not by_id and not by_prompt:
        raise ReplayError(f"replay: {path} has no records with an id or a prompt")
    return by_id, by_prompt


def stored_responses_model(name: str, file: DataFile) -> Model:
    """The replay model of a benchmark's published responses (a task's ``replay=`` argument)."""
    return get_model(f"replay/{name}", responses=str(resolve(file)))


def _current_sample_id() -> str | None:
    try:
        from inspect_ai.solver._task_state import sample_state
    except ImportError:  # pragma: no cover - internal API moved
        return None
    state = sample_state()
    return None if state is None else str(state.sample_id)


class ReplayAPI(ModelAPI):
    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        responses: str | None = None,
        key: str = "auto",
        skip_missing: bool = False,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
        if responses is None:
            raise ReplayError("replay: pass the stored responses with -M responses=FILE")
        if key not in ("auto", "id", "prompt"):
            raise ReplayError("replay: key must be auto, id or prompt")
        self.key = key
        self.skip_missing = skip_missing
        self.by_id, self.by_prompt = load_responses(responses)
        self.source = responses

    def find(self, sample_id: str | None, prompt: str) -> str | None:
        """The stored response of a sample, or None."""
        if self.key in ("auto", "id") and sample_id is not None and sample_id in self.by_id:
            return self.by_id[sample_id]
        if self.key in ("auto", "prompt"):
            for candidate in (prompt, prompt.strip()):
                if candidate in self.by_prompt:
                    return self.by_prompt[candidate]
        return None

    def lookup(self, sample_id: str | None, prompt: str) -> str:
        response = self.find(sample_id, prompt)
        if response is not None:
            return response
        raise ReplayError(
            f"replay: {self.source} has no response for sample {sample_id!r} (prompt {prompt[:80]!r}…)"
        )

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        response = self.lookup(_current_sample_id(), last_user_text(input))
        output = ModelOutput.from_content(model=self.model_name, content=response)
        output.usage = ModelUsage(
            input_tokens=0, output_tokens=0, total_tokens=0
        )  # nothing was generated
        return output


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


def check_coverage(dataset: Dataset) -> Dataset:
    """Before any sample runs: with a replay model, every sample must have a stored response.

    All missing samples are listed in one error; ``-M skip_missing=true`` drops them instead
    (the eval then covers fewer samples, and says so). Other models: the dataset unchanged.
    """
    model = active_model()
    api = getattr(model, "api", None)
    if not isinstance(api, ReplayAPI):
        return dataset
    missing = [
        str(s.id)
        for s in dataset
        if api.find(None if s.id is None else str(s.id), last_user_text(s.input)) is None
    ]
    if not missing:
        return dataset
    if not api.skip_missing:
        shown = ", ".join(missing[:20]) + (
            f", … ({len(missing) - 20} more)" if len(missing) > 20 else ""
        )
        raise PrerequisiteError(
            f"replay: {api.source} has no response for {len(missing)} of {len(dataset)} sample(s): "
            f"{shown}. Add them, or pass -M skip_missing=true to evaluate only the samples it has"
        )
    kept = set(str(s.id) for s in dataset) - set(missing)
    warnings.warn(
        f"replay: skipping {len(missing)} sample(s) without a stored response in {api.source}",
        stacklevel=2,
    )
    return dataset.filter(lambda s: str(s.id) in kept)
