"""Summary figures of a latency sample, shared by the benchmark and evaluation scripts."""

import statistics


def percentiles(samples: list[float]) -> dict:
    """p50 / p95 / p99 / max / mean of `samples` (nearest rank), rounded to 0.01; zeros for an empty sample."""
    ordered = sorted(samples) or [0.0]
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": round(ordered[-1], 2),
            "mean": round(statistics.fmean(ordered), 2)}
