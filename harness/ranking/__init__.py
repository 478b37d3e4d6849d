"""Ranking: does a reward order responses the way people (or benchmarks) do?

``groups`` (comparison groups), ``datasets`` (loaders of ranking benchmarks), ``metrics``
(accuracies, confidence intervals, paired significance, bias probes), ``judgebench``
(JudgeBench's published reward-model scores), ``scoring`` (one pointwise scoring pass with
every ablation variant).
"""
