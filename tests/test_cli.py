"""The `harness` command: exit codes, one-line errors on bad input, judges, progress, help."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import make_spec

from harness.cli import main
from harness.store import SpecStore

LOWER = ("lower", "All lowercase.", "def check(r):\n    return r == r.lower()\n")


@pytest.fixture
def store(tmp_path: Path) -> SpecStore:
    s = SpecStore(tmp_path / "specs.jsonl", create=True)
    s.put_many(
        [
            make_spec(prompt_id="a"),
            make_spec(
                prompt_id="b", prompt="Explain tides.", criteria=[("m", "Mentions the moon.", 2.0)]
            ),
            make_spec(prompt_id="c", prompt="Whisper about the sea.", checkers=[LOWER]),
        ]
    )
    return s


def write_lines(path: Path, *lines: str | dict) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def score(store: SpecStore, responses: Path, out: Path, *extra: str) -> int:
    return main(["score", str(responses), "--specs", str(store.path), "--out", str(out), *extra])


def one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_validate_and_show(store: SpecStore, capsys) -> None:
    assert main(["spec", "validate", str(store.path)]) == 0
    assert "3 spec version(s) for 3 prompt(s); 7 criteria and 1 checkers" in capsys.readouterr().out
    assert main(["spec", "show", "b", "--store", str(store.path)]) == 0
    out = capsys.readouterr().out
    assert "Explain tides." in out and "Mentions the moon." in out and "+2" in out
    assert main(["spec", "show", "zzz", "--store", str(store.path)]) == 1
    assert one_line(capsys.readouterr().err) == f"error: no spec for 'zzz' in {store.path}"


# -- bad spec stores: one line, file:line: field, exit 1 ------------------------------------


def test_validate_reports_file_line_field(tmp_path: Path, capsys) -> None:
    data = make_spec().model_dump(mode="json", exclude={"version"})
    data["criteria"][0]["weight"] = 0
    bad = write_lines(tmp_path / "bad.jsonl", "", data)  # the blank line counts
    assert main(["spec", "validate", str(bad)]) == 1
    assert one_line(capsys.readouterr().err) == (
        f"error: {bad}:2: field 'criteria.0.weight': "
        "Value error, weight must be a finite non-zero number, got 0.0"
    )


def test_a_stored_criterion_without_weight_is_an_error(tmp_path: Path, capsys) -> None:
    data = make_spec().model_dump(mode="json", exclude={"version", "prompt_hash"})
    del data["criteria"][1]["weight"]
    bad = write_lines(tmp_path / "hand.jsonl", data)
    assert main(["spec", "validate", str(bad)]) == 1
    assert one_line(capsys.readouterr().err) == (
        f"error: {bad}:1: field 'criteria.1.weight': Field required "
        "(every stored criterion states its weight; negative for a pitfall)"
    )


def test_invalid_utf8_in_a_spec_store(store: SpecStore, capsys) -> None:
    lines = store.path.read_bytes().splitlines(keepends=True)
    store.path.write_bytes(lines[0] + lines[1].replace(b"Explain", b"Expl\xe9in") + lines[2])
    assert main(["spec", "validate", str(store.path)]) == 1
    column = lines[1].index(b"Explain") + 5
    assert one_line(capsys.readouterr().err) == (
        f"error: {store.path}:2: invalid UTF-8 (byte 0xe9 at column {column}); "
        "save the file as UTF-8"
    )


def test_missing_store(tmp_path: Path, capsys) -> None:
    assert main(["spec", "validate", str(tmp_path / "none.jsonl")]) == 1
    assert one_line(capsys.readouterr().err) == (
        f"error: spec store {tmp_path / 'none.jsonl'} does not exist"
    )


# -- harness score: judges ------------------------------------------------------------------


def test_score_writes_results_and_reports_unscored(
    store: SpecStore, tmp_path: Path, capsys
) -> None:
    responses = write_lines(
        tmp_path / "responses.jsonl",
        {"prompt_id": "a", "response": "waves"},
        {"prompt_id": "b", "response": "moon"},
    )
    out = tmp_path / "out" / "results.jsonl"
    assert score(store, responses, out, "--grader", "mockllm/model") == 0
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["prompt_id"] for r in results] == ["a", "b"]
    assert all(r["reward"] is None and r["rubric"]["status"] == "unscored" for r in results)
    assert "malformed judge output" in results[0]["global"]["reason"]
    assert "reward: mean n/a over 0 scored, 2 unscored/absent" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flags, message",
    [
        ([], "no judge bound for the rubric and global component(s)"),
        (["--rubric-grader", "mockllm/model"], "no judge bound for the global component(s)"),
        (["--global-grader", "mockllm/model"], "no judge bound for the rubric component(s)"),
    ],
)
def test_an_unbound_judge_is_an_error_before_scoring(
    store: SpecStore, tmp_path: Path, capsys, flags: list[str], message: str
) -> None:
    responses = write_lines(tmp_path / "r.jsonl", {"prompt_id": "c", "response": "quiet sea"})
    out = tmp_path / "o.jsonl"
    assert score(store, responses, out, "--checker-runtime", "local-unsafe", *flags) == 2
    assert one_line(capsys.readouterr().err) == (
        f"harness: error: {message}: pass --grader MODEL (or --rubric-grader / "
        "--global-grader), or --no-judge to score with checkers only"
    )
    assert not out.exists()  # nothing scored, nothing written


def test_no_judge_scores_with_checkers_only_and_says_so(
    store: SpecStore, tmp_path: Path, capsys
) -> None:
    responses = write_lines(tmp_path / "r.jsonl", {"prompt_id": "c", "response": "quiet sea"})
    out = tmp_path / "o.jsonl"
    args = ["--no-judge", "--checker-runtime", "local-unsafe"]
    assert score(store, responses, out, *args) == 0
    [result] = [json.loads(line) for line in out.read_text().splitlines()]
    assert result["code"]["value"] == 1.0 and result["code"]["checks"][0]["status"] == "pass"
    assert result["reward"] == 1.0
    assert result["rubric"]["status"] == result["global"]["status"] == "unscored"
    assert "no rubric judge model bound" in result["rubric"]["reason"]
    assert "combined without unscored rubric, global" in result["reward_reason"]
    assert capsys.readouterr().out.splitlines()[-1] == (
        "  the reward is code-only: --no-judge left the rubric and global components unscored"
    )
    # the host runtime refuses generated code, and the reason says how to get Docker
    assert (
        score(store, responses, out, "--no-judge", "--checker-runtime", "local", "--overwrite") == 0
    )
    [refused] = [json.loads(line) for line in out.read_text().splitlines()]
    assert (
        refused["code"]["status"] == "unscored" and "setup_docker.sh" in refused["code"]["reason"]
    )


def test_no_judge_conflicts_and_no_checkers(store: SpecStore, tmp_path: Path, capsys) -> None:
    responses = write_lines(tmp_path / "r.jsonl", {"prompt_id": "a", "response": "waves"})
    out = tmp_path / "o.jsonl"
    assert score(store, responses, out, "--no-judge", "--grader", "mockllm/model") == 2
    assert one_line(capsys.readouterr().err) == "harness: error: --no-judge conflicts with --grader"
    assert score(store, responses, out, "--no-judge") == 1
    assert one_line(capsys.readouterr().err) == (
        f"error: --no-judge, and no spec in {store.path} for these responses has checkers: "
        "nothing to score"
    )


def test_missing_api_key_is_one_line_before_scoring(
    store: SpecStore, tmp_path: Path, capsys, monkeypatch
) -> None:
    for key in ("OPENAI_API_KEY", "AZUREAI_OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    responses = write_lines(tmp_path / "r.jsonl", {"prompt_id": "a", "response": "waves"})
    out = tmp_path / "o.jsonl"
    assert score(store, responses, out, "--grader", "openai/gpt-4.1-mini") == 1
    assert one_line(capsys.readouterr().err) == (
        "error: judge rubric_grader=openai/gpt-4.1-mini: Unable to initialise OpenAI client: "
        "No OPENAI_API_KEY, "
        "AZUREAI_OPENAI_API_KEY, or managed identity (Entra ID) defined in the environment."
    )
    assert not out.exists()


# -- harness score: bad responses files -----------------------------------------------------


@pytest.mark.parametrize(
    "response, got",
    [(None, "null"), (12345, "number"), (["the sea"], "array"), ({"text": "x"}, "object")],
)
def test_a_response_must_be_text(
    store: SpecStore, tmp_path: Path, capsys, response: object, got: str
) -> None:
    responses = write_lines(
        tmp_path / "r.jsonl",
        {"prompt_id": "a", "response": "waves"},
        "",  # blank lines do not shift the numbers
        {"prompt_id": "a", "response": response},
    )
    out = tmp_path / "o.jsonl"
    assert score(store, responses, out, "--grader", "mockllm/model") == 1
    assert one_line(capsys.readouterr().err) == (
        f"error: {responses}:3: field 'response' must be a string, got {got}"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    "line, message",
    [
        ({"prompt_id": None, "response": "x"}, "field 'prompt_id' must be a non-empty string or an integer, got null"),
        ({"prompt_id": ["a"], "response": "x"}, "field 'prompt_id' must be a non-empty string or an integer, got array"),
        ({"prompt_id": "a", "response": "x", "spec_version": 3}, "field 'spec_version' must be a string, got number"),
        ({"prompt_id": "nope", "response": "x"}, "no spec for prompt 'nope' in {store}"),
        ({"prompt_id": "a", "response": "x", "spec_version": "v9"}, "no spec for prompt 'a' version 'v9' in {store}"),
        ({"prompt_id": "a"}, "missing field(s) ['response']"),
        ('{"prompt_id": "a", "response": "x"', "invalid JSON: Expecting ',' delimiter (column 35)"),
        ("[1, 2]", "expected a JSON object, got array"),
    ],
)  # fmt: skip
def test_bad_response_lines_are_located(
    store: SpecStore, tmp_path: Path, capsys, line: object, message: str
) -> None:
    responses = write_lines(tmp_path / "r.jsonl", "", line)
    assert score(store, responses, tmp_path / "o.jsonl", "--grader", "mockllm/model") == 1
    expected = message.format(store=store.path)
    assert one_line(capsys.readouterr().err) == f"error: {responses}:2: {expected}"


def test_invalid_utf8_in_responses(store: SpecStore, tmp_path: Path, capsys) -> None:
    bad = b'{"prompt_id": "a", "response": "caf\xff"}'
    responses = tmp_path / "r.jsonl"
    responses.write_bytes(b'{"prompt_id": "a", "response": "ok"}\n\n' + bad + b"\n")
    assert score(store, responses, tmp_path / "o.jsonl", "--grader", "mockllm/model") == 1
    column = bad.index(b"\xff") + 1
    assert one_line(capsys.readouterr().err) == (
        f"error: {responses}:3: invalid UTF-8 (byte 0xff at column {column}); "
        "save the file as UTF-8"
    )


# -- spec build inputs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, message",
    [
        ({"id": "p", "prompt": 12345}, "field 'prompt' must be text or a list of messages, got number"),
        ({"id": "p", "prompt": [{"role": "robot", "content": "hi"}]}, "field 'prompt.0.role': Input should be 'system', 'user' or 'assistant'"),
        ({"id": None, "prompt": "hi"}, "field 'id' must be a non-empty string or an integer, got null"),
    ],
)  # fmt: skip
def test_spec_build_rejects_bad_prompts(tmp_path: Path, capsys, line: dict, message: str) -> None:
    prompts = write_lines(tmp_path / "p.jsonl", line)
    code = main(
        ["spec", "build", str(prompts), "--out", str(tmp_path / "s.jsonl")]
        + ["--model-role", "spec_builder=mockllm/model"]
    )
    assert code == 1
    assert one_line(capsys.readouterr().err) == f"error: {prompts}:1: {message}"


def test_spec_build_usage_errors(tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "s.jsonl")
    assert main(["spec", "build", "--out", out, "--model-role", "spec_builder=m/x"]) == 2
    assert one_line(capsys.readouterr().err) == (
        "harness: error: give a prompts file or --benchmark NAME (one of them)"
    )
    assert main(["spec", "build", "--benchmark", "ifeval", "--out", out]) == 2
    assert one_line(capsys.readouterr().err) == (
        "harness: error: bind the generator: --model-role spec_builder=<model>"
    )


# -- progress bars on long jobs -----------------------------------------------------------------


def test_long_jobs_draw_progress_bars(
    store: SpecStore, tmp_path: Path, capsys, monkeypatch
) -> None:
    import scripted_builder  # noqa: F401  (registers the scripted/ generator)

    monkeypatch.setenv("FORCE_COLOR", "1")  # rich draws bars only on a terminal
    monkeypatch.setenv("COLUMNS", "120")
    ansi = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

    responses = write_lines(
        tmp_path / "r.jsonl",
        {"prompt_id": "c", "response": "quiet sea"},
        {"prompt_id": "c", "response": "LOUD SEA"},
    )
    args = ["--no-judge", "--checker-runtime", "local-unsafe", "--batch-size", "1"]
    assert score(store, responses, tmp_path / "o.jsonl", *args) == 0
    err = ansi.sub("", capsys.readouterr().err)
    assert re.search(r"responses .*0/2", err) and re.search(r"responses .*2/2", err)

    prompts = write_lines(
        tmp_path / "p.jsonl",
        {"id": "p1", "prompt": "Describe the sea in at least five words."},
        {"id": "p2", "prompt": "Describe a river in at least five words."},
    )
    built = tmp_path / "built.jsonl"
    code = main(
        ["spec", "build", str(prompts), "--out", str(built), "--no-checkers", "--label", "advice"]
        + ["--model-role", "spec_builder=scripted/builder", "--concurrency", "1"]
    )
    assert code == 0
    err = ansi.sub("", capsys.readouterr().err)
    assert "2 prompts: 0 already built, 2 to build" in err  # the pipeline's lines, above the bar
    assert re.search(r"specs .*2/2", err)

    probed = SpecStore(tmp_path / "probed.jsonl", create=True)
    probes = [{"response": "quiet", "expected": True}, {"response": "LOUD", "expected": False}]
    checker = {"id": "lower", "constraint": "All lowercase.", "source": LOWER[2], "probes": probes}
    probed.put(make_spec(prompt_id="c").edit(checkers=(checker,)))
    run = [
        "spec",
        "validate",
        str(probed.path),
        "--run-probes",
        "--checker-runtime",
        "local-unsafe",
    ]
    assert main(run) == 0
    assert re.search(r"probes .*2/2", ansi.sub("", capsys.readouterr().err))


# -- help, version, bare command, import time ----------------------------------------------------


def test_bare_command_prints_help_and_exits_2(capsys) -> None:
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: harness [-h] [--version] {spec,score,unscored,rank,compare} ...")
    assert "examples:" in out and "harness score responses.jsonl" in out
    assert main(["spec"]) == 2
    assert capsys.readouterr().out.startswith("usage: harness spec [-h] {build,validate,show}")


def test_help_shows_defaults_and_examples(capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["score", "--help"])
    assert exit.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "responses per checker request (default: 64)" in out
    assert "(default: None)" not in out and "(default: False)" not in out
    assert "or --no-judge must say to score with the checkers only" in out and "examples:" in out


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"harness {version('reward-harness')} (reward-harness)\n"


def test_help_imports_nothing_heavy() -> None:
    """`harness --help` answers at once: no Inspect, Docker, pandas or numpy at import."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "harness.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and run.stdout.startswith("usage: harness")
    imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if "|" in line}
    heavy = {m for m in imported if m.split(".")[0] in ("inspect_ai", "docker", "pandas", "numpy")}
    assert "harness.data" in imported and not heavy  # harness.cli itself runs as __main__


# -- streaming, resuming and bounded memory of `harness score` -------------------------------

SIMULATED = "{model: simulated/judge, model_args: {latency: 0.001}}"


def test_score_streams_in_input_order_and_a_rerun_scores_only_what_is_missing(
    store: SpecStore, tmp_path: Path, capsys
) -> None:
    lines = [{"prompt_id": "abc"[i % 3], "response": f"the quiet sea {i}"} for i in range(40)]
    responses = write_lines(tmp_path / "r.jsonl", *lines)
    out = tmp_path / "o.jsonl"
    flags = ["--grader", SIMULATED, "--checker-runtime", "local-unsafe", "--batch-size", "3"]
    flags += ["--max-in-flight", "9", "--max-connections", "4"]
    assert score(store, responses, out, *flags) == 0
    first = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["prompt_id"] for r in first] == [x["prompt_id"] for x in lines]  # input order
    assert all(r["reward"] is not None for r in first)
    # a run stopped after 25 results: the rerun scores the 15 others, appends, same results
    out.write_text("".join(line + "\n" for line in out.read_text().splitlines()[:25]))
    capsys.readouterr()
    assert score(store, responses, out, *flags) == 0
    captured = capsys.readouterr()
    assert "resuming: 25 response(s) already scored" in captured.err
    assert "scored 15 response(s)" in captured.out
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["response_hash"] for r in again] == [r["response_hash"] for r in first]
    assert [r["reward"] for r in again] == [r["reward"] for r in first]
    # --overwrite starts over
    assert score(store, responses, out, *flags, "--overwrite") == 0
    assert len(out.read_text().splitlines()) == 40


def test_score_memory_does_not_grow_with_the_input(store: SpecStore, tmp_path: Path) -> None:
    """Peak RSS of `harness score` in a child process at 1,500 and 6,000 responses (checkers
    only): streamed, the larger input costs about the same memory."""
    import subprocess
    import sys

    def peak_rss_kib(n: int) -> int:
        responses = tmp_path / f"r{n}.jsonl"
        with responses.open("w") as f:
            for i in range(n):
                f.write(
                    json.dumps({"prompt_id": "c", "response": f"a quiet sea, take {i} " * 20})
                    + "\n"
                )
        code = (
            "import sys\n"
            "from harness.cli import main\n"
            f"rc = main(['score', {str(responses)!r}, '--specs', {str(store.path)!r}, '--out',"
            f" {str(tmp_path / f'o{n}.jsonl')!r}, '--no-judge', '--checker-runtime',"
            " 'local-unsafe', '--max-in-flight', '256'])\n"
            # VmHWM, the child's own peak (ru_maxrss survives exec: it would be pytest's)
            "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n"
            "sys.exit(rc)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return int(done.stdout.splitlines()[-1])

    small, large = peak_rss_kib(1500), peak_rss_kib(6000)
    # holding every result would add roughly 4,500 × (result + request) ≈ 40+ MB
    assert large - small < 12 * 1024, (small, large)


def test_a_judge_given_as_inline_yaml_with_its_settings(store: SpecStore, tmp_path: Path) -> None:
    from harness.judges.roles import JudgeSetupError, load_judge

    model = load_judge(
        "{model: simulated/j, model_args: {latency: 0}, temperature: 0.5}", max_connections=7
    )
    assert model.config.temperature == 0.5 and model.config.max_connections == 7
    assert model.api.latency == 0
    with pytest.raises(JudgeSetupError, match="expected \\{model: NAME"):
        load_judge("{temperature: 1}")
    with pytest.raises(JudgeSetupError, match="unknown model argument"):
        load_judge("{model: simulated/j, model_args: {nope: 1}}")
