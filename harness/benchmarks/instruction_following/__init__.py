"""IFEval (Google, 541 prompts) and IFBench (AllenAI, 300 prompts), checked by the official code.

- ``dataset``: the prompt files; a prompt's ``instruction_id_list`` + ``kwargs`` become a
  built-in spec with one checker per instruction.
- ``checkers``: the trusted checker source over the official checker implementation shipped in
  ``if-verifiable`` (its IFBench code reproduces the official IFBench verdicts exactly:
  tests/test_instruction_following.py), run in the checker runtime; the 8 loose variants.
- ``metric``: prompt- and instruction-level accuracy, strict and loose, with standard errors,
  from Score.value only (exact for any number of epochs).
- ``scorer``: the ``instruction_following`` scorer; ``task``: the task both benchmarks share.

See README.md.
"""

from harness.benchmarks.instruction_following.checkers import (
    TRUSTED_SOURCES,
    Following,
    checker_source,
    follow,
    loose_variants,
)
from harness.benchmarks.instruction_following.dataset import (
    SOURCES,
    SPEC_TEMPLATE,
    load_records,
    native_spec,
)
from harness.benchmarks.instruction_following.metric import (
    HEADLINE,
    OFFICIAL_METRIC,
    VALUE_KEYS,
    instruction_accuracy,
    instruction_unscored,
)
from harness.benchmarks.instruction_following.scorer import instruction_following
from harness.benchmarks.instruction_following.task import VERSION, build_task

__all__ = [
    "HEADLINE",
    "OFFICIAL_METRIC",
    "SOURCES",
    "SPEC_TEMPLATE",
    "TRUSTED_SOURCES",
    "VALUE_KEYS",
    "VERSION",
    "Following",
    "build_task",
    "checker_source",
    "follow",
    "instruction_accuracy",
    "instruction_following",
    "instruction_unscored",
    "load_records",
    "loose_variants",
    "native_spec",
]
