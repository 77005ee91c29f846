"""Percorso's benchmarks: each hot path next to a baseline run in the same process, as ratios.

`python -m bench` runs them all; see bench/README.md for what each figure means.
"""
