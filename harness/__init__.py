"""Prompt-level reward specifications and their scoring, built on Inspect AI."""

from harness.data import use_local_model_caches

use_local_model_caches()
