"""The published Creative Writing v3 results as a policy and a judge: before/after comparisons
of published models without running them.

- ``published_responses(model)``: a published model's 96 responses as stored responses for the
  task's samples (``-T replay=<model>`` of ``harness/creative_writing``);
- ``creative_writing_judge/<model>``: an Inspect model that answers the official judging prompt
  with the published judge reply to that model's response, so the scorer (official prompt,
  parser and item score) runs unchanged and reproduces the published item scores.

The result pages give each prompt's three items without saying which seed each one was
written for (their prompt shows the seed cut out), so the k-th published item of a prompt is
taken as iteration k. A comparison of two published models then pairs items of the same prompt
in page order: per-prompt means, and so every benchmark mean, difference and prompt-level test,
do not depend on that order.

Anything else put to the judge (another response, the hybrid reward's own judge prompts) gets
a reply that says why and that no parser accepts, so that judgment is unscored with the reason:
a verdict is never made up.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from inspect_ai.model import ChatMessage, ModelAPI, ModelOutput, modelapi

from harness.benchmarks.creative_writing.dataset import load_prompts, load_published_results
from harness.benchmarks.creative_writing.judge import judge_response_text
from harness.data import DataError, cache_dir
from harness.replay import OfflineModelAPI, offline_output

PROVIDER = "creative_writing_judge"
JUDGE_PREFIX = "Judge Evaluation:\n"
SCORES_SUFFIX = " \nScores: "
"""A published ``judge`` field is JUDGE_PREFIX + the judge's raw reply + SCORES_SUFFIX + the
official parse as ``name: value, ...``."""
_RESPONSE = re.compile(r"\[TEST MODEL RESPONSE\]\n\n(.*)\n\n\[TEST MODEL RESPONSE END\]", re.DOTALL)


def published_judge_reply(row: dict[str, Any]) -> tuple[str, str]:
    """(the judge's raw reply, the published "Scores: ..." line) of one published item."""
    text = row["judge"]
    if not text.startswith(JUDGE_PREFIX) or text.count(SCORES_SUFFIX) != 1:
        raise DataError(f"published item {row.get('title')!r}: judge field not in the page format")
    at = text.rfind(SCORES_SUFFIX)
    return text[len(JUDGE_PREFIX) : at], text[at + len(SCORES_SUFFIX) :]


def published_rows(model: str) -> list[dict[str, Any]]:
    """The published items of ``model`` (all 96), each with its ``id`` (``<prompt id>-<k>``,
    the k-th item of its prompt in page order)."""
    rows = [r for r in load_published_results() if r["model"] == model]
    if not rows:
        models = sorted({r["model"] for r in load_published_results()})
        raise DataError(f"no published Creative Writing v3 results for {model!r}; have {models}")
    by_title = {p["title"]: pid for pid, p in load_prompts().items()}
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        title = row["title"].split(": ", 1)[-1]
        if title not in by_title:
            raise DataError(f"published item {row['title']!r}: no prompt with this title")
        pid = by_title[title]
        seen[pid] = seen.get(pid, 0) + 1
        out.append({**row, "id": f"{pid}-{seen[pid]}", "prompt_id": pid})
    return out


def published_responses(model: str) -> Path:
    """A stored-responses file (JSONL: id, response) of ``model``'s published items, written
    into the cache directory, for the ``replay/`` model provider."""
    path = cache_dir() / "creative-writing-v3" / f"{model}.responses.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"id": r["id"], "response": r["response"]}) for r in published_rows(model)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _reply(content: str) -> ModelOutput:
    return offline_output(PROVIDER, content)


class CreativeWritingJudgeAPI(OfflineModelAPI):
    """Answers the official judging prompt with a published reply (see the module doc)."""

    provider = PROVIDER

    def setup(self, **model_args: Any) -> None:
        super().setup(**model_args)
        model_name = self.model_name
        self.replies: dict[str, str] = {}
        for row in published_rows(model_name):
            # the judge saw the response as the official run stores it
            key = judge_response_text(row["response"])
            reply = published_judge_reply(row)[0]
            if self.replies.setdefault(key, reply) != reply:
                raise DataError(f"{PROVIDER}/{model_name}: one response has two published replies")

    def answer(self, input: list[ChatMessage]) -> ModelOutput:
        """The published reply for an official judging prompt, or a refusal saying why not."""
        text = "\n".join(m.text for m in input if m.role == "user")
        found = _RESPONSE.search(text)
        if found is None:
            return _reply(f"{PROVIDER}: not the Creative Writing v3 judging prompt")
        reply = self.replies.get(found.group(1))
        if reply is None:
            return _reply(f"{PROVIDER}: no published judge reply for this response")
        return _reply(reply)


@modelapi(name=PROVIDER)
def creative_writing_judge() -> type[ModelAPI]:
    """The ``creative_writing_judge/<model>`` model provider (published judge replies)."""
    return CreativeWritingJudgeAPI
