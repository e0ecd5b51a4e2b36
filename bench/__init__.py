"""Benchmarks of the hotline: classification throughput, webhook latency under load, search latency.

Each module is runnable (`python -m bench.classify --help`), prints a Markdown table and appends it to
`bench/results/latest.md`; `python -m bench.run` runs them all at reduced size (`make bench`). Benchmarks
measure performance; the test suite never times anything. Nothing here is imported by the application.
"""
