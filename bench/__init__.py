"""Benchmarks of case56: `python -m bench [--full] [--pg]` (see bench/__main__.py and docs/benchmarks.md)."""
