"""Judge input tokens per scored response, against the floor, and the prefix rollouts share.

Renders the real judge prompts for every HealthBench conversation (its physician rubric as the
spec, its ideal completion as a full-length response) and counts tokens with tiktoken's
o200k_base encoding; no model is called. The floor is the least any judge request must carry:
one message holding the conversation, the criterion texts and the response, each once.
Usage:

    HARNESS_DATA_DIR=../shared/data python bench/judge_tokens.py [--subset sample_500] [--out results/judge_tokens_healthbench.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import tiktoken

from harness.benchmarks import healthbench as hb
from harness.judges.holistic import GlobalJudge
from harness.judges.rubric import (
    _PITFALLS,
    PerCriterionRubric,
    SingleCallRubric,
    render_conversation,
)
from harness.spec import RewardSpec

# OpenAI's chat format adds about 3 tokens per message plus 3 to prime the reply.
PER_MESSAGE, PER_REQUEST = 3, 3


def count(enc: tiktoken.Encoding, messages: list) -> int:
    return PER_REQUEST + sum(PER_MESSAGE + tokens(enc, m.text) for m in messages)


def tokens(enc: tiktoken.Encoding, text: str) -> int:
    return len(enc.encode(text, disallowed_special=()))


def response_of(record: dict) -> str:
    data = record.get("ideal_completions_data") or {}
    return (
        data.get("ideal_completion")
        or "I am not able to give medical advice; please consult a doctor."
    )


@dataclass
class Row:
    criteria: int
    floor: int
    response: int
    single: int
    global_: int
    per_ours: int
    per_official: int
    prefix: int  # tokens of the single-call prompt before the response
    tail: int  # tokens after the response
    system: int  # the instructions message, with its framing
    ids: int  # "id:" labels
    headings: int
    delimiters: int


def measure(enc: tiktoken.Encoding, spec: RewardSpec, response: str) -> Row:
    single, per, official, glob = (
        SingleCallRubric(),
        PerCriterionRubric(),
        hb.HealthBenchRubric(),
        GlobalJudge(),
    )
    texts = sum(tokens(enc, c.text) for c in spec.criteria)
    conversation = tokens(enc, render_conversation(spec))
    n_response = tokens(enc, response)
    messages = single.messages(spec, response)
    user = messages[1].text
    cut = user.rindex(response)
    pitfalls = any(c.weight < 0 for c in spec.criteria)
    return Row(
        criteria=len(spec.criteria),
        floor=PER_REQUEST + PER_MESSAGE + conversation + texts + n_response,
        response=n_response,
        single=count(enc, messages),
        global_=count(enc, glob.messages(spec, response)),
        per_ours=sum(count(enc, per.messages(spec, c, response)) for c in spec.criteria),
        per_official=sum(count(enc, official.messages(spec, c, response)) for c in spec.criteria),
        prefix=count(enc, messages[:1]) + PER_REQUEST + PER_MESSAGE + tokens(enc, user[:cut]),
        tail=tokens(enc, user[cut + len(response) :]),
        system=count(enc, messages[:1]) - PER_REQUEST,
        ids=sum(tokens(enc, f"{c.id}:") for c in spec.criteria),
        headings=tokens(enc, "Criteria:") + (tokens(enc, f"{_PITFALLS}:") if pitfalls else 0),
        delimiters=tokens(enc, "<response>\n\n</response>"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", default="sample_500")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    enc = tiktoken.get_encoding("o200k_base")
    rows = [
        measure(enc, hb.native_spec(record), response_of(record))
        for record in hb.load_records(args.subset)
    ]
    n = len(rows)

    def total(field: str) -> int:
        return sum(getattr(r, field) for r in rows)

    floor = total("floor")

    def vs_floor(field: str, plus: str | None = None) -> str:
        ratios = [(getattr(r, field) + (getattr(r, plus) if plus else 0)) / r.floor for r in rows]
        mean_tokens = (total(field) + (total(plus) if plus else 0)) / n
        ratio = n * mean_tokens / floor
        return f"{mean_tokens:,.0f} | **{ratio:.3f}×** | {statistics.median(ratios):.3f}×"

    overhead = total("single") - floor
    named = {
        "instructions (system message, with its framing)": total("system"),
        "criterion ids (`id:`)": total("ids"),
        "section headings (`Criteria:`, `Pitfalls (…):`)": total("headings"),
        "response delimiters (`<response>…</response>`)": total("delimiters"),
    }
    named["line breaks and indented continuation lines"] = overhead - sum(named.values())
    prefix_share = [r.prefix / r.single for r in rows]
    bound = [1 - (r.response + r.tail) / r.floor for r in rows]
    command = f"HARNESS_DATA_DIR=../shared/data python bench/judge_tokens.py --subset {args.subset}"
    lines = [
        f"# Judge input tokens per response (HealthBench `{args.subset}`)",
        "",
        f"Command: `{command}" + (f" --out {args.out}`" if args.out else "`"),
        "",
        f"{n} conversations, {total('criteria')} physician-written criteria "
        f"({total('criteria') / n:.1f} per conversation); response = each conversation's ideal "
        "completion (real, full length); tokens = tiktoken o200k_base over the rendered judge "
        f"messages (+{PER_MESSAGE}/message, +{PER_REQUEST}/request). No model is called.",
        "",
        "**Floor** = the least any judge request must carry: one message with the conversation, the "
        f"criterion texts and the response, each once ({floor / n:,.0f} tokens per response on average).",
        "",
        "| judge input per response | calls | tokens (mean) | vs floor (all tokens) | vs floor (median conversation) |",
        "|---|---|---|---|---|",
        f"| rubric, one call (`{SingleCallRubric().id}`, the default) | 1 | {vs_floor('single')} |",
        f"| rubric + global judge (the default hybrid reward) | 2 | {vs_floor('single', 'global_')} |",
        f"| rubric per criterion, our template (`{PerCriterionRubric().id}`) | {total('criteria') / n:.1f} | {vs_floor('per_ours')} |",
        f"| rubric per criterion, HealthBench reference template (`{hb.HealthBenchRubric().id}`) | {total('criteria') / n:.1f} | {vs_floor('per_official')} |",
        "",
        "## Where the one-call rubric prompt's tokens above the floor go",
        "",
        "| part | tokens per response | share of the floor |",
        "|---|---|---|",
        *(
            f"| {name} | {value / n:.1f} | {100 * value / floor:.1f}% |"
            for name, value in named.items()
        ),
        f"| **total above the floor** | **{overhead / n:.1f}** | **{100 * overhead / floor:.1f}%** |",
        "",
        "Criterion ids and indented continuation lines keep the rubric unambiguous (HealthBench "
        "criteria often run over several lines, with their own `Step 1:` lines); weights are not shown, "
        "since they weigh the reward, not the verdict. The global judge repeats the conversation and the "
        "response in a second, independent call that never sees the rubric: that repetition is the price "
        "of its independence.",
        "",
        "## Prefix shared by every rollout of a prompt",
        "",
        f"Everything that does not depend on the response comes first, verbatim; after the response only "
        f"`</response>` follows ({total('tail') / n:.0f} tokens). The shared prefix is "
        f"{100 * sum(r.prefix for r in rows) / total('single'):.1f}% of all one-call rubric tokens "
        f"(mean per conversation {100 * statistics.mean(prefix_share):.1f}%). No prompt can share more "
        "than 1 − response / prompt: these full-length responses are "
        f"{100 * total('response') / floor:.1f}% of the floor, so even a prompt at the floor would "
        f"share at most {100 * statistics.mean(bound):.1f}% (mean per conversation). A higher share "
        "would come only from padding the prefix, which costs more tokens than it saves in cache.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)


if __name__ == "__main__":
    sys.exit(main())
