"""Counters and histograms the apps add to as they work, exported at /metrics (`config.metrics`).

Figures that live in the database or the broker (tender close lag, queue depth, webhook
deliveries) are read when /metrics is scraped instead, so every web server reports the same.
"""

from prometheus_client import Counter, Histogram

IMPORT_ROWS = Counter(
    "carehomes_import_rows",
    "Rows read by the imports, by import and outcome.",
    ["kind", "outcome"],
)
TASK_SECONDS = Histogram(
    "carehomes_celery_task_seconds",
    "How long a Celery task ran.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
TASK_WAIT_SECONDS = Histogram(
    "carehomes_celery_task_wait_seconds",
    "How long a Celery task waited between being due (sent, or its ETA) and starting.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)


def import_rows_count(kind: str, counts: dict[str, int]) -> None:
    """Add an import run's rows, `counts` by outcome (created, updated, refused...)."""
    for outcome, rows in counts.items():
        if rows:
            IMPORT_ROWS.labels(kind=kind, outcome=outcome).inc(rows)
