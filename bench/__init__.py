"""Benchmarks: `make bench` prints one line per figure, `name: value unit (ratio vs anchor)`.

Each figure is measured side by side with its anchor in the same run, in interleaved rounds, so that
a noisy shared machine slows both alike. Ratios are what to compare between runs, not the raw values.
"""
