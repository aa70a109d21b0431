"""Timing helpers: medians and percentiles of time.perf_counter over repeats, and EXPLAIN reading."""

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection


@dataclass
class Timings:
    seconds: list[float]

    @property
    def median_ms(self) -> float:
        return round(statistics.median(self.seconds) * 1000, 3)

    @property
    def p95_ms(self) -> float:
        return round(percentile(self.seconds, 95) * 1000, 3)


def percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def timed(function: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def compare(subject: Callable[[], object], baseline: Callable[[], object], *, repeats: int) -> tuple[Timings, Timings]:
    """Run both alternately (after one warm-up each) so drift on a shared machine hits both alike."""
    subject()
    baseline()
    subject_times, baseline_times = [], []
    for _ in range(repeats):
        subject_times.append(timed(subject)[0])
        baseline_times.append(timed(baseline)[0])
    return Timings(subject_times), Timings(baseline_times)


def compare_many(*functions: Callable[[], object], repeats: int) -> list[Timings]:
    """`compare` for several paths at once, each timed in turn within every repeat."""
    for function in functions:
        function()
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(repeats):
        for index, function in enumerate(functions):
            times[index].append(timed(function)[0])
    return [Timings(seconds) for seconds in times]


def ratio(subject: Timings, baseline: Timings) -> float:
    return round(subject.median_ms / baseline.median_ms, 2) if baseline.median_ms else float("inf")


INDEX_IN_PLAN = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)")


def indexes_in_plan(sql: str, params) -> list[str]:
    """Index names in the plan PostgreSQL chooses for this query."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return sorted(set(INDEX_IN_PLAN.findall(plan)))
