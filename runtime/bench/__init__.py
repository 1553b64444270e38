"""Benchmarks: model-only, pipeline and glass-to-glass latency, with the host recorded.

May import ``pipeline`` and everything below it; never ``cli``. The random-weight models it can
make need the export package (torch), imported lazily and only when asked for.
"""
