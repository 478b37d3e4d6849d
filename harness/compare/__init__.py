"""Checkpoint comparison: did the policy get better, where, and is it real?

``samples`` (per-sample values of every checkpoint's logs, paired by benchmark, sample and
epoch), ``stats`` (paired differences: bootstrap intervals, McNemar / Wilcoxon / paired t,
win-tie-loss, multiple-comparison correction, noise floor).
"""
