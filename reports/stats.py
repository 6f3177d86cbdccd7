"""Summary statistics over a narrow list of numbers, computed the same way on every database
(Python over the values the query returned: SQLite has no percentile function)."""

from __future__ import annotations


def quantile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, Excel's PERCENTILE.INC)."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def durations(values: list[float | None]) -> dict:
    present = sorted(v for v in values if v is not None)
    return {"median": quantile(present, 0.5), "p90": quantile(present, 0.9), "count": len(present)}


def rate(numerator: int, denominator: int) -> dict:
    return {"value": numerator / denominator if denominator else None, "numerator": numerator,
            "denominator": denominator}
