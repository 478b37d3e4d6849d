"""Judge input tokens per scored response: single-call vs per-criterion rubric grading.

Renders the real judge prompts for every HealthBench conversation (its physician rubric as
the spec, its ideal completion as the response) and counts tokens with tiktoken's o200k_base
encoding; no model is called. Usage:

    HARNESS_DATA_DIR=../shared/data python bench/judge_tokens.py [--subset sample_500] [--out results/judge_tokens_healthbench.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import tiktoken

from harness.benchmarks import healthbench as hb
from harness.judges.rubric import PerCriterionRubric, SingleCallRubric
from harness.spec import RewardSpec

# OpenAI's chat format adds about 3 tokens per message plus 3 to prime the reply.
PER_MESSAGE, PER_REQUEST = 3, 3


def count(enc: tiktoken.Encoding, messages: list) -> int:
    return PER_REQUEST + sum(
        PER_MESSAGE + len(enc.encode(m.text, disallowed_special=())) for m in messages
    )


def response_of(record: dict) -> str:
    data = record.get("ideal_completions_data") or {}
    return (
        data.get("ideal_completion")
        or "I am not able to give medical advice; please consult a doctor."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", default="sample_500")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    enc = tiktoken.get_encoding("o200k_base")
    single, ours_per, official_per = (
        SingleCallRubric(),
        PerCriterionRubric(),
        hb.HealthBenchRubric(),
    )
    rows = []
    for record in hb.load_records(args.subset):
        spec: RewardSpec = hb.native_spec(record)
        response = response_of(record)
        one = count(enc, single.messages(spec, response))
        ours = sum(count(enc, ours_per.messages(spec, c, response)) for c in spec.criteria)
        official = sum(count(enc, official_per.messages(spec, c, response)) for c in spec.criteria)
        # the part before the response is shared by every rollout of this prompt (prefix cache)
        user = single.messages(spec, response)[1].text
        prefix = count(enc, [single.messages(spec, response)[0]]) + len(
            enc.encode(user[: user.rindex(response)], disallowed_special=())
        )
        rows.append((len(spec.criteria), one, ours, official, prefix / one))

    n = len(rows)
    tot = [sum(r[i] for r in rows) for i in range(4)]
    ratio_ours = [r[2] / r[1] for r in rows]
    ratio_official = [r[3] / r[1] for r in rows]
    lines = [
        f"# Judge input tokens per response: single-call vs per-criterion (HealthBench `{args.subset}`)",
        "",
        f"Command: `HARNESS_DATA_DIR=../shared/data python bench/judge_tokens.py --subset {args.subset}"
        + (f" --out {args.out}`" if args.out else "`"),
        "",
        f"{n} conversations, {tot[0]} rubric criteria ({tot[0] / n:.1f} per conversation); response = each "
        "conversation's ideal completion; tokens = tiktoken o200k_base over the rendered judge messages "
        f"(+{PER_MESSAGE}/message, +{PER_REQUEST}/request). No model is called.",
        "",
        "| grading | judge calls / response | input tokens / response (mean) | total input tokens | ratio to single-call |",
        "|---|---|---|---|---|",
        f"| single call, all criteria (`rubric_single@1`) | 1 | {tot[1] / n:,.0f} | {tot[1]:,} | 1.00× |",
        f"| per criterion, our template (`rubric_per_criterion@1`) | {tot[0] / n:.1f} | {tot[2] / n:,.0f} | {tot[2]:,} | **{tot[2] / tot[1]:.2f}×** |",
        f"| per criterion, HealthBench reference template (`healthbench_official@1`) | {tot[0] / n:.1f} | {tot[3] / n:,.0f} | {tot[3]:,} | **{tot[3] / tot[1]:.2f}×** |",
        "",
        f"Per conversation, per-criterion / single-call: our template median {statistics.median(ratio_ours):.2f}× "
        f"(min {min(ratio_ours):.2f}×, max {max(ratio_ours):.2f}×); reference template median "
        f"{statistics.median(ratio_official):.2f}× (min {min(ratio_official):.2f}×, max {max(ratio_official):.2f}×).",
        "",
        f"Single-call prompts put the response last: on average {100 * statistics.mean(r[4] for r in rows):.0f}% of a "
        "single-call judge prompt is a prefix shared by every rollout of the same prompt (cacheable by "
        "providers with prefix caching, e.g. vLLM automatic prefix caching).",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)


if __name__ == "__main__":
    sys.exit(main())
