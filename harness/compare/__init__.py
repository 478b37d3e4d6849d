"""Checkpoint comparison: did the policy get better, where, and is it real?

``samples`` (every checkpoint's logs read once through ``inspect_ai.analysis``: per-sample
values paired by benchmark, sample and epoch; items; checker-judge agreement), ``stats``
(paired differences: bootstrap intervals, McNemar / paired t / Wilcoxon, win-tie-loss,
multiple-comparison correction, noise floor, the five-benchmark average), ``report`` (the
tables and plots ``harness compare`` writes).
"""
