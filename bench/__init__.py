"""Benchmarks: `python -m bench [name ...]` runs them and prints figures and ratios to a baseline
measured in the same run. Each module `bench/<name>.py` with a `main(argv)` is one benchmark."""
