"""Inspect extension entry point: registers `harness/<task>` and the reward scorers."""

from harness.scorers import code, global_score, hybrid_reward, rubric  # noqa: F401
from harness.tasks.healthbench import healthbench  # noqa: F401
from harness.tasks.prompts import prompts  # noqa: F401
from harness.tasks.writingbench import writingbench  # noqa: F401
