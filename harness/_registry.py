"""Inspect extension entry point: registers `harness/<task>` and the reward scorers."""

from harness.benchmarks.alpaca_eval.verdict_replay import alpaca_verdicts  # noqa: F401  (the `alpaca_verdicts/` model provider)
from harness.benchmarks.creative_writing.published import creative_writing_judge  # noqa: F401  (the `creative_writing_judge/` model provider)
from harness.replay import replay  # noqa: F401  (the `replay/` model provider)
from harness.scorers import code, global_score, hybrid_reward, rubric  # noqa: F401
from harness.simulated import simulated  # noqa: F401  (the `simulated/` model provider)
from harness.tasks.alpaca_eval import alpaca_eval  # noqa: F401
from harness.tasks.arena_hard import arena_hard  # noqa: F401
from harness.tasks.creative_writing import creative_writing  # noqa: F401
from harness.tasks.healthbench import healthbench  # noqa: F401
from harness.tasks.ifbench import ifbench  # noqa: F401
from harness.tasks.ifeval import ifeval  # noqa: F401
from harness.tasks.prompts import prompts  # noqa: F401
from harness.tasks.rank import rank_hh_harmless, rank_judgebench, rank_llmbar, rank_rmbench  # noqa: F401
from harness.tasks.writingbench import writingbench  # noqa: F401
