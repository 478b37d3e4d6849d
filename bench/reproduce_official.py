"""Published benchmark numbers reproduced from published per-item data, in one report.

- IFBench: the official sample outputs checked by our built-in checkers (run in host runners,
  which take only built-in checkers) vs the official strict/loose verdict files;
- AlpacaEval 2: our win-rate code on the published per-item GPT-4-turbo verdicts vs the
  published leaderboard;
- Creative Writing v3: our parser and item scoring on the published judge replies vs the
  published item scores.

    HARNESS_DATA_DIR=../shared/data python bench/reproduce_official.py --out results/official_reproduction.md
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from harness.benchmarks import alpaca_eval as ae
from harness.benchmarks import creative_writing as cw
from harness.benchmarks import instruction_following as inf
from harness.checkers.runtime import LocalRuntime
from harness.data import DataFile, read_jsonl, resolve

JUDGE_PREFIX, SCORES_SUFFIX = "Judge Evaluation:\n", " \nScores: "


def ifbench_rows() -> list[str]:
    inputs = {r["prompt"].strip(): r for r in inf.load_records("ifbench")}
    outputs = read_jsonl(resolve(DataFile("IFBench", "ifbench/sample_output.jsonl")))
    strict = {
        r["prompt"]: r
        for r in read_jsonl(resolve(DataFile("IFBench", "ifbench/eval_results_strict.jsonl")))
    }
    loose = {
        r["prompt"]: r
        for r in read_jsonl(resolve(DataFile("IFBench", "ifbench/eval_results_loose.jsonl")))
    }
    matched = [
        (inputs[o["prompt"].strip()], o)
        for o in outputs
        if o["prompt"].strip() in inputs
        and inputs[o["prompt"].strip()]["instruction_id_list"]
        == strict[o["prompt"]]["instruction_id_list"]
    ]
    runtime = LocalRuntime(size=1)
    try:

        async def run() -> list[inf.Following]:
            return await asyncio.gather(
                *(
                    inf.follow(runtime, inf.native_spec(r, "ifbench"), o["response"])
                    for r, o in matched
                )
            )

        results = asyncio.run(run())
    finally:
        runtime.close()
    rows = []
    mismatched = 0
    for mode, official in (("strict", strict), ("loose", loose)):
        ours = [getattr(f, mode) for f in results]
        theirs = [official[o["prompt"]]["follow_instruction_list"] for _, o in matched]
        mismatched += sum(a != b for a, b in zip(ours, theirs, strict=True))
        for level, fn in (
            ("prompt", lambda ls: sum(all(x) for x in ls) / len(ls)),
            ("instruction", lambda ls: sum(map(sum, ls)) / sum(map(len, ls))),
        ):
            rows.append(
                f"| IFBench {level}-level {mode} | {fn(theirs):.4f} | {fn(ours):.4f} | {len(matched)} prompts |"
            )
    rows.append(
        f"| IFBench prompts whose verdict lists differ | 0 | {mismatched} | strict and loose, {sum(len(f.strict) for f in results)} instructions |"
    )
    return rows


def alpaca_rows() -> list[str]:
    board = ae.load_leaderboard()
    rows = []
    for path in sorted((Path(resolve(ae.annotations_file("alpaca-7b"))).parent).glob("*.json")):
        model = path.stem
        got = ae.get_winrate([a["preference"] for a in ae.load_annotations(model)])
        row = board.loc[model]
        rows.append(
            f"| AlpacaEval 2 win rate, {model} | {row['win_rate']:.4f} ± {row['standard_error']:.4f} | {got['win_rate']:.4f} ± {got['standard_error']:.4f} | 805 published verdicts |"
        )
    return rows


def creative_rows() -> list[str]:
    negative = cw.load_negative_criteria()
    published = cw.load_published_results()
    matched = 0
    for row in published:
        text = row["judge"]
        raw = text[len(JUDGE_PREFIX) : text.rfind(SCORES_SUFFIX)]
        matched += (
            cw.published_item_score(cw.parse_judge_scores(raw), negative) == row["item_score"]
        )
    return [
        f"| Creative Writing v3 item scores (5 models × 96 items) | {len(published)} published | {matched} reproduced | from the published judge replies |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    lines = [
        "# Official numbers reproduced from published per-item data",
        "",
        "Command: `HARNESS_DATA_DIR=../shared/data python bench/reproduce_official.py"
        + (f" --out {args.out}`" if args.out else "`"),
        "",
        "| what | published | ours | on |",
        "|---|---|---|---|",
        *ifbench_rows(),
        *alpaca_rows(),
        *creative_rows(),
        "",
        "IFBench: 293 of the 294 official sample outputs match a prompt of the current IFBench_test file; the",
        "294th was graded upstream against an older version of its prompt (custom:csv_city) and matches too",
        "when checked against that instruction (tests/test_instruction_following.py). AlpacaEval's",
        "length-controlled win rate is not reproduced: its GLM needs instruction-difficulty data that is",
        "published only on the Hugging Face hub.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report)


if __name__ == "__main__":
    sys.exit(main())
