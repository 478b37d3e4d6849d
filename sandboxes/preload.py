"""Run once in the checker runner's zygote, before any checker code: load the libraries that
built-in checkers use, so workers find them imported instead of importing them each time.

Trusted code (it ships with the runner). Built-in checkers: the official IFEval and IFBench
instruction checkers from the `if-verifiable` package and the NLTK data they need.
"""

import importlib
import importlib.util
import os
import sys
import types


def _package_without_init(name: str) -> bool:
    """Make ``name``'s subpackages importable without running its ``__init__`` (if-verifiable's
    imports Hugging Face `datasets`, used only to download data, which the sandbox lacks)."""
    if name in sys.modules:
        return True
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return False
    package = types.ModuleType(name)
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = package
    return True


# Host runners start without site-packages (a lighter plain zygote); they pass the paths here.
for path in os.environ.get("HARNESS_CHECKER_PATH", "").split(os.pathsep):
    if path and path not in sys.path:
        sys.path.append(path)

if _package_without_init("if_verifiable"):
    import nltk

    if os.environ.get(
        "NLTK_DATA"
    ):  # host runners; the image keeps its data in /usr/share/nltk_data
        nltk.data.path[:0] = os.environ["NLTK_DATA"].split(os.pathsep)
    for module in (
        "if_verifiable.ifeval.instructions_registry",
        "if_verifiable.ifbench.instructions_registry",
    ):
        importlib.import_module(module)
    try:  # loaded lazily on first use otherwise, in every worker
        nltk.word_tokenize("Warm up the tokenizer, please.")
        nltk.pos_tag(["warm", "up"])
        nltk.corpus.stopwords.words("english")
    except LookupError:
        pass  # data missing: the checkers that need it report the error themselves
