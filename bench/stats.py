"""Medians, percentiles and ratios: the only way figures leave a workload."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return float(ordered[rank - 1])


def ratio(numerator: float, denominator: float) -> float:
    if not denominator or math.isnan(denominator) or math.isnan(numerator):
        return math.nan
    return numerator / denominator


def counts_difference(after: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    """Requests made between two RequestCounter snapshots, zero kinds left out."""
    keys = [*before, *(key for key in after if key not in before)]
    difference = {key: after.get(key, 0) - before.get(key, 0) for key in keys}
    return {key: value for key, value in difference.items() if value}


def median_counts(runs: Sequence[Mapping[str, int]]) -> dict[str, float]:
    """Per-kind median over runs; the counts are deterministic up to polling, so the median hides a stray poll."""
    keys = sorted({key for run in runs for key in run})
    return {key: median([run.get(key, 0) for run in runs]) for key in keys}
