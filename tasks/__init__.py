"""Inspect tasks (installed as ``harness.tasks``; each file also runs as ``inspect eval tasks/<name>.py``)."""
