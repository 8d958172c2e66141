"""Benchmarks of target-iterable (run with ``bash scripts/benchmark.sh``; not part of the tests)."""
