"""A scripted spec builder: stands in for the generator LLM (and only for it).

It reads each request and answers as a generator would: a task label, a rubric, or checkers
with probes. ``SCENARIO`` switches the checkers it writes (good, broken in various ways,
malicious). Registered as the Inspect model provider ``scripted/…`` so the CLI can use it;
``CRASH_AFTER`` makes the process die mid-build (to test resuming).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

SCENARIO = {"checkers": "good", "rubric": "good"}
CALLS: list[tuple[str, str]] = []  # (kind, prompt excerpt)

WORDS = "def check(response):\n    return len(response.split()) >= 5\n"
LOWER = "def check(response):\n    return response == response.lower()\n"

CHECKERS = {
    "good": [
        {
            "constraint": "At least 5 words.",
            "source": WORDS,
            "covers": ["c1"],
            "satisfying": ["one two three four five", "a b c d e f"],
            "violating": ["too short", ""],
        },
    ],
    "broken": [
        {
            "constraint": "At least 5 words.",
            "source": WORDS,
            "covers": ["c1"],
            "satisfying": ["one two three four five"],
            "violating": ["short"],
        },
        {
            "constraint": "Does not compile.",
            "source": "def check(response):\n    return (\n",
            "covers": [],
            "satisfying": ["x"],
            "violating": ["y"],
        },
        {
            "constraint": "Crashes.",
            "source": "def check(response):\n    return response.split()[3] == 'x'\n",
            "covers": [],
            "satisfying": ["a b c x"],
            "violating": ["a b c d"],
        },
        {
            "constraint": "Passes everything.",
            "source": "def check(response):\n    return True\n",
            "covers": [],
            "satisfying": ["x"],
            "violating": ["y"],
        },
        {
            "constraint": "Wrong verdicts.",
            "source": LOWER,
            "covers": [],
            "satisfying": ["UPPER"],
            "violating": ["lower"],
        },
        {
            "constraint": "Reads a host secret.",
            "source": "import os\ndef check(response):\n    return open('/etc/shadow').read() != ''\n",
            "covers": [],
            "satisfying": ["x"],
            "violating": ["y"],
        },
        {
            "constraint": "Fork bomb.",
            "source": "import os\ndef check(response):\n    while True:\n        os.fork()\n",
            "covers": [],
            "satisfying": ["x"],
            "violating": ["y"],
        },
        {
            "constraint": "Sleeps forever.",
            "source": "import time\ndef check(response):\n    time.sleep(60)\n    return True\n",
            "covers": [],
            "satisfying": ["x"],
            "violating": ["y"],
        },
        {
            "constraint": "No probes.",
            "source": LOWER,
            "covers": [],
            "satisfying": [],
            "violating": [],
        },
    ],
    "retry": [],  # first round: broken; second round: fixed (see below)
    "none": [],
}

RUBRIC = [
    {
        "text": "Has at least five words, as asked.",
        "weight": 3,
        "category": "explicit",
        "surface": True,
    },
    {
        "text": "Answers the question the prompt asks.",
        "weight": 5,
        "category": "explicit",
        "surface": False,
    },
    {
        "text": "answers the question the prompt asks",
        "weight": 4,
        "category": "implicit",
        "surface": False,
    },
    {
        "text": "Uses concrete, specific details.",
        "weight": 2,
        "category": "implicit",
        "surface": False,
    },
    {"text": "Pads the answer with filler.", "weight": -2, "category": "pitfall", "surface": False},
]


def reply(prompt: str) -> str:
    user = prompt.split("<prompt>\n", 1)[-1].split("\n</prompt>", 1)[0]
    if "You sort user prompts" in prompt:
        CALLS.append(("classify", user[:40]))
        crash_after = os.environ.get("CRASH_AFTER")
        if crash_after and sum(kind == "classify" for kind, _ in CALLS) > int(crash_after):
            os._exit(9)  # the process dies mid-build, as a kill would
        return json.dumps({"label": "instruction_following", "reason": "explicit constraints"})
    if "You write grading rubrics" in prompt:
        CALLS.append(("rubric", user[:40]))
        if SCENARIO["rubric"] == "malformed":
            return "Here are some thoughts about the rubric, but no JSON."
        return json.dumps({"criteria": RUBRIC})
    if "You turn the explicit surface constraints" in prompt:
        CALLS.append(("checkers", user[:40]))
        scenario = SCENARIO["checkers"]
        if scenario == "retry":
            if "failed validation" in prompt:
                return json.dumps({"checkers": CHECKERS["good"]})
            broken = dict(
                CHECKERS["good"][0],
                source="def check(response):\n    return len(response.split()) > 5\n",
            )
            return json.dumps({"checkers": [broken]})  # off by one: fails its satisfying probe
        return json.dumps({"checkers": CHECKERS[scenario]})
    raise AssertionError(f"unexpected request: {prompt[:200]}")


def script(prompt: str, n: int) -> str:  # for conftest.ScriptedJudge
    return reply(prompt)


def _text(messages: list[ChatMessage]) -> str:
    return "\n".join(m.text for m in messages)


@modelapi(name="scripted")
class ScriptedBuilderAPI(ModelAPI):
    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        text = _text(input)
        output = ModelOutput.from_content(model=self.model_name, content=reply(text))
        words = len(re.findall(r"\S+", text))
        output.usage = ModelUsage(
            input_tokens=words, output_tokens=len(output.completion.split()), total_tokens=words
        )
        return output
