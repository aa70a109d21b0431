"""/metrics for Prometheus, and the Celery worker's own task metrics.

What the web servers count in memory (requests and latency by view, from django-prometheus;
imports, `core.metrics`) is joined by figures read from PostgreSQL and the broker at each scrape,
the same from any server:

- `carehomes_tender_close_lag_seconds{state="overdue"}`: how far past its deadline the most
  overdue tender still marked open is (0 when none is); the close runs `BID_RECEIPT_GRACE_SECONDS`
  after the deadline, so a healthy service stays near that figure. `state="recent"`: the
  longest gap between deadline and close among tenders closed in the last hour.
- `carehomes_celery_queue_depth{queue=...}`: messages waiting in the broker, and
  `carehomes_celery_tasks_reserved` those workers hold unacknowledged (ETA tasks among them).
- `carehomes_webhook_deliveries{status="failed"|"retrying"}`: deliveries that failed for good,
  or are waiting to try again.
"""

import ipaddress
import os
import time
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from bidding.models import Tender
from core.metrics import TASK_SECONDS, TASK_WAIT_SECONDS
from integrations.models import WebhookDelivery
from organisations.signin import client_address

from .celery import app as celery_app


def _close_lag() -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(
        "carehomes_tender_close_lag_seconds",
        "Seconds past the deadline: the most overdue open tender, and the slowest close of the last hour.",
        labels=["state"],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - MIN(closes_at)), 0) FROM bidding_tender "
            "WHERE status = %s AND closes_at <= clock_timestamp()",
            [Tender.Status.OPEN],
        )
        gauge.add_metric(["overdue"], float(cursor.fetchone()[0]))
        cursor.execute(
            "SELECT COALESCE(MAX(EXTRACT(EPOCH FROM closed_at - closes_at)), 0) FROM bidding_tender "
            "WHERE closed_at >= clock_timestamp() - interval '1 hour'"
        )
        gauge.add_metric(["recent"], float(cursor.fetchone()[0]))
    return gauge


def _queue_depth() -> list[GaugeMetricFamily]:
    depth = GaugeMetricFamily("carehomes_celery_queue_depth", "Messages waiting in the broker.", labels=["queue"])
    reserved = GaugeMetricFamily(
        "carehomes_celery_tasks_reserved", "Messages workers hold unacknowledged (running or waiting for an ETA)."
    )
    with celery_app.connection_for_read() as conn:
        client = getattr(conn.default_channel, "client", None)
        if client is None:  # not Redis (the demo's filesystem broker): nothing to read cheaply
            return []
        for queue in settings.CELERY_METRICS_QUEUES:
            depth.add_metric([queue], client.llen(queue))
        reserved.add_metric([], client.hlen("unacked"))
    return [depth, reserved]


def _webhook_failures() -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(
        "carehomes_webhook_deliveries", "Webhook deliveries that failed or wait to retry.", labels=["status"]
    )
    statuses = [WebhookDelivery.Status.FAILED, WebhookDelivery.Status.RETRYING]
    counts = dict(
        WebhookDelivery.objects.filter(status__in=statuses).values_list("status").annotate(n=Count("pk")).order_by()
    )
    for status in statuses:
        gauge.add_metric([status.value], counts.get(status, 0))
    return gauge


class ServiceCollector:
    """Figures read from PostgreSQL and the broker at scrape time."""

    def collect(self):
        yield _close_lag()
        yield from _queue_depth()
        yield _webhook_failures()


def _process_registry():
    """What this process (or, in multiprocess mode, every worker on this host) has counted."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def metrics_allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token and request.headers.get("Authorization", "") == f"Bearer {token}":
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(allowed, strict=False) for allowed in settings.METRICS_ALLOWED_ADDRESSES)


def metrics(request):
    if not metrics_allowed(request):
        raise Http404
    service = CollectorRegistry(auto_describe=False)
    service.register(ServiceCollector())
    body = generate_latest(_process_registry()) + generate_latest(service)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


# --- The worker's side: how long tasks wait and run -------------------------------------------

_started: dict[str, float] = {}


def task_published(headers=None, **kwargs) -> None:
    if headers is not None:
        headers.setdefault("published_at", time.time())


def task_started(task_id=None, task=None, **kwargs) -> None:
    now = time.time()
    _started[task_id] = now
    request = task.request
    due = getattr(request, "published_at", None)
    eta = getattr(request, "eta", None)
    if eta:
        due = max(due or 0, datetime.fromisoformat(eta).timestamp() if isinstance(eta, str) else eta.timestamp())
    if due:
        TASK_WAIT_SECONDS.labels(task=task.name).observe(max(0.0, now - due))


def task_finished(task_id=None, task=None, **kwargs) -> None:
    started = _started.pop(task_id, None)
    if started is not None and task is not None:
        TASK_SECONDS.labels(task=task.name).observe(time.time() - started)
