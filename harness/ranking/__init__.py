"""Ranking: does a reward order responses the way people (or benchmarks) do?

``groups`` (comparison groups), ``datasets`` (loaders of ranking benchmarks), ``scoring`` (one
pointwise scoring pass with every ablation variant, external scores), ``metrics`` (accuracies,
confidence intervals, paired significance, bias probes), ``pairwise`` (the pairwise judge
baseline: both orders, net vote), ``report`` (the tables and files of ``harness rank``),
``plots``, ``judgebench`` (JudgeBench's published reward-model outputs, its own rule), ``task``
(Inspect tasks: a sample is a comparison group, the model under evaluation is the judge).
"""
