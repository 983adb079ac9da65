"""evolve's benchmark suite: a synthetic log generator and a runner that reports
ratios against baselines measured in the same run (``python -m benchmarks --help``)."""
