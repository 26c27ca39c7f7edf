"""Benchmarks for Newsroom Command against its peers, run side by side on loopback.

`python -m bench [scenario ...] [--quick]`; see docs/performance.md.
"""
