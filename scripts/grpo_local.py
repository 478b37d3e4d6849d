"""Close the loop offline: GRPO with TRL on CPU, rewarded through the TRL adapter, then IFEval
before and after, compared.

The policy is the embedded SmolLM2-135M-Instruct (as a plain transformers checkpoint); prompts
are IFEval's, each with its native spec (the official checkers); the reward is the hybrid reward
served by ``harness.serving`` — the code component from the checkers, the judged components
unscored with their reason unless ``--grader`` binds a judge. A few steps run, the components
are logged, a checkpoint is saved; then ``harness/ifeval`` runs on the base model and on the
checkpoint with Inspect's ``hf/`` provider and ``harness compare`` reads the two logs.

    python scripts/grpo_local.py --out runs/grpo                      # small: minutes on CPU
    python scripts/grpo_local.py --out runs/grpo --steps 200 --prompts 256 --eval-limit 541 \\
        --grader vllm/Qwen/Qwen3-32B                                  # the longer recipe
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BASE_NAME, TUNED_NAME = "hf/smollm2-base", "hf/smollm2-grpo"


def train(args: argparse.Namespace, out: Path) -> Path:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from harness.benchmarks.instruction_following import dataset as ifd
    from harness.local_model import trainable_path
    from harness.serving.adapters import trl_reward_funcs
    from harness.serving.build import EngineSettings, build_engine
    from harness.serving.service import RewardService
    from harness.store import SpecStore

    specs = [ifd.native_spec(r, "ifeval") for r in ifd.load_records("ifeval")[: args.prompts]]
    store = SpecStore(out / "specs.jsonl", create=True)
    store.put_many(specs)
    engine = build_engine(EngineSettings(grader=args.grader, checker_runtime=args.checker_runtime))
    service = RewardService(engine, store, deadline_s=args.deadline)
    base = trainable_path()
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    dataset = Dataset.from_list(
        [{"prompt": [{"role": "user", "content": s.prompt}], "spec_id": s.prompt_id} for s in specs]
    )
    config = GRPOConfig(
        output_dir=str(out / "trainer"),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=args.generations,
        num_generations=args.generations,
        max_completion_length=args.max_completion_length,
        max_steps=args.steps,
        learning_rate=args.learning_rate,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        gradient_checkpointing=False,
        dataloader_num_workers=0,
        seed=args.seed,
    )
    trainer = GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        reward_funcs=trl_reward_funcs(service),
        args=config,
        train_dataset=dataset,
    )
    trainer.train()
    checkpoint = out / "checkpoint"
    trainer.save_model(str(checkpoint))
    tokenizer.save_pretrained(str(checkpoint))
    (out / "train_log.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    return base


def evaluate(args: argparse.Namespace, out: Path, base: Path) -> None:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from harness.cli import main as harness
    from harness.tasks.ifeval import ifeval

    logs = out / "logs"
    for name, path in ((BASE_NAME, base), (TUNED_NAME, out / "checkpoint")):
        [log] = inspect_eval(
            ifeval(checker_runtime=args.checker_runtime),
            model=get_model(name, model_path=str(path)),
            limit=args.eval_limit,
            max_tokens=args.eval_max_tokens,
            seed=args.seed,
            log_dir=str(logs),
            display="none",
        )
        if log.status != "success":
            raise RuntimeError(f"{name}: {log.error}")
    rc = harness(["compare", str(logs), "--baseline", BASE_NAME, "--out", str(out / "compare")])
    if rc != 0:
        raise RuntimeError(f"harness compare exited with {rc}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--generations", type=int, default=4, help="rollouts per prompt")
    parser.add_argument("--max-completion-length", type=int, default=48)
    parser.add_argument("--learning-rate", type=float, default=1e-5)
    parser.add_argument("--grader", help="a judge model for the rubric and global components")
    parser.add_argument("--checker-runtime", default="auto")
    parser.add_argument("--deadline", type=float, default=300.0)
    parser.add_argument("--eval-limit", type=int, default=10)
    parser.add_argument("--eval-max-tokens", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = train(args, args.out)
    evaluate(args, args.out, base)
    print(f"checkpoint: {args.out / 'checkpoint'}\ncomparison: {args.out / 'compare'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
