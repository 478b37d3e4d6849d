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


def _warm_up() -> None:
    """Load now what the official checkers load lazily on first use, so that no item pays for
    it (or runs out of its time budget loading it): langdetect's language profiles, NLTK's
    punkt sentence tokenizer (cached per module), tagger and stopwords, emoji's and syllapy's
    tables. Each step is independent: data that is missing is reported by the checkers that
    need it, not here."""
    import langdetect
    from if_verifiable.ifbench import instructions_util as ifbench_util
    from if_verifiable.ifeval import instructions_util as ifeval_util
    from langdetect import detector_factory

    steps = (
        detector_factory.init_factory,  # the profiles, read from disk on the first detect()
        lambda: langdetect.detect("Warm up the language detector, please."),
        lambda: nltk.word_tokenize("Warm up the tokenizer, please. Twice."),
        lambda: nltk.sent_tokenize("Warm up. The sentence splitter."),
        lambda: nltk.pos_tag(["warm", "up"]),
        lambda: nltk.corpus.stopwords.words("english"),
        ifeval_util._get_sentence_tokenizer,  # lru_cache'd: loaded once, here
        ifbench_util._get_sentence_tokenizer,
        lambda: ifeval_util.count_sentences("One. Two."),
        lambda: ifbench_util.count_stopwords("the warm up"),
        lambda: __import__("emoji").is_emoji("x"),
        lambda: __import__("syllapy").count("syllable"),
    )
    for step in steps:
        try:
            step()
        except Exception:  # LookupError (data missing) and the like
            pass


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
    _warm_up()
