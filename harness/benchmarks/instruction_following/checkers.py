"""The official IFEval / IFBench checks: trusted checker source over ``if-verifiable``, loose variants.

Each instruction becomes one checker whose (fixed, trusted) source calls the official checker
implementation shipped in the ``if-verifiable`` package. Checkers run through the checker
runtime (the sandbox), never in this process. A response that is empty after stripping
follows nothing, as in the reference ``evaluation_lib``.

Strict = the response as is; loose = an instruction counts as followed if any of 8 variants
passes (the response, without its first line, last line, or both, each also with ``*``
removed).

One deviation, deterministic by design: for IFEval's ``keywords:letter_frequency`` with a
non-letter "letter" (keys 1122 and 1129: ``#`` and ``!``), the reference code checks a random
letter drawn from an unseeded generator; like Google's current code, we count the character
itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.checkers import TRUSTED_SOURCES, CheckerRuntime, CheckItem
from harness.spec import RewardSpec

BENCHMARKS = ("ifeval", "ifbench")

_CHECKER = '''\
import importlib


def check(response, instruction_id, kwargs, prompt):
    """Official {benchmark} check of one instruction (strict: the response as given)."""
    registry = importlib.import_module("if_verifiable.{benchmark}.instructions_registry")
    instruction = registry.INSTRUCTION_DICT[instruction_id](instruction_id)
    instruction.build_description(**kwargs)
    args = instruction.get_instruction_args()
    if args and "prompt" in args:
        instruction.build_description(prompt=prompt)
{fix}    return bool(response.strip() and instruction.check_following(response))
'''
_LETTER_FIX = """\
    letter = kwargs.get("letter")
    if instruction_id == "keywords:letter_frequency" and letter and not letter.isalpha():
        instruction._letter = letter.strip().lower()  # count the character itself, not a random letter
"""


def checker_source(benchmark: str) -> str:
    return _CHECKER.format(benchmark=benchmark, fix=_LETTER_FIX if benchmark == "ifeval" else "")


for _benchmark in BENCHMARKS:
    TRUSTED_SOURCES.add(checker_source(_benchmark))


def loose_variants(response: str) -> list[str]:
    """The 8 responses of the reference loose evaluation; the first is the response itself."""
    lines = response.split("\n")
    remove_first = "\n".join(lines[1:]).strip()
    remove_last = "\n".join(lines[:-1]).strip()
    remove_both = "\n".join(lines[1:-1]).strip()
    return [
        response,
        response.replace("*", ""),
        remove_first,
        remove_last,
        remove_both,
        remove_first.replace("*", ""),
        remove_last.replace("*", ""),
        remove_both.replace("*", ""),
    ]


@dataclass
class Following:
    instructions: list[str]
    strict: list[bool]
    loose: list[bool]
    errors: list[str]
    """Checker errors (any variant); a sample with errors has no official score."""
    errored: set[int]
    """Indices of the instructions whose checker errored on some variant."""


async def follow(runtime: CheckerRuntime, spec: RewardSpec, response: str) -> Following:
    """Strict and loose verdicts of every instruction of a built-in spec on one response."""
    variants = await runtime.check([CheckItem(spec, v) for v in loose_variants(response)])
    errors, errored = [], set()
    for variant, verdicts in enumerate(variants):
        for i, (checker, v) in enumerate(zip(spec.checkers, verdicts, strict=True)):
            if v.status == "error":
                errors.append(f"{checker.id} (variant {variant}): {v.error_kind}: {v.message}")
                errored.add(i)
    strict = [v.status == "pass" for v in variants[0]]
    loose = [any(vs[i].status == "pass" for vs in variants) for i in range(len(spec.checkers))]
    instructions = [c.kwargs["instruction_id"] for c in spec.checkers]
    return Following(instructions, strict, loose, errors, errored)
