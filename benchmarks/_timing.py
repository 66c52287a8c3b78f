"""Timing helper shared by the benchmark scripts (run them as ``python benchmarks/X.py``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(step: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Return the best and median wall time of ``step`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)
