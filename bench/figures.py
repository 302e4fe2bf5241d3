"""What a benchmark reports: each figure over repeated runs (min, median, max), and latency percentiles."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from pydantic import BaseModel, Field


class Figure(BaseModel):
    """One measured quantity over repeated runs; `runs` are the raw values, in the order measured."""

    workload: str
    name: str
    unit: str
    runs: list[float] = Field(default_factory=list)
    target: str | None = None  # the goal from the issue, as written there
    note: str | None = None

    @property
    def min(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def max(self) -> float:
        return max(self.runs)

    def summary(self) -> dict[str, float | int | str | None]:
        return {
            "workload": self.workload,
            "name": self.name,
            "unit": self.unit,
            "min": round(self.min, 3),
            "median": round(self.median, 3),
            "max": round(self.max, 3),
            "runs": len(self.runs),
            "target": self.target,
            "note": self.note,
        }


def percentile(values: Sequence[float], pct: float) -> float:
    """The value at `pct` (0–100) by the nearest-rank method; values need not be sorted."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def ratio(ours: float, theirs: float) -> float:
    return ours / theirs if theirs else float("inf")
