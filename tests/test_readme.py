"""The README is the contract: its spec example parses and its commands exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.spec import RewardSpec

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_spec_example_is_a_valid_spec() -> None:
    block = re.search(r"```json\n(.*?)```", README, re.DOTALL).group(1)
    spec = RewardSpec.model_validate(json.loads(block))
    assert [c.weight for c in spec.criteria] == [3, 2, -1]
    assert spec.checkers[0].id == "lower"
    assert len(spec.version) == 64


def test_the_two_commands_exist_and_ci_runs_the_test_command() -> None:
    run_block = re.search(r"Run \(.*?```bash\n(.*?)\n```", README, re.DOTALL).group(1)
    test_block = re.search(r"Test \(.*?```bash\n(.*?)\n```", README, re.DOTALL).group(1)
    assert (run_block, test_block) == ("bash scripts/run.sh", "bash scripts/test.sh")
    assert (ROOT / "scripts" / "run.sh").is_file() and (ROOT / "scripts" / "test.sh").is_file()
    ci_commands = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci_commands == [test_block]  # CI runs exactly the README's test command
