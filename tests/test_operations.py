"""What a council's IT team watches: /metrics, liveness and readiness, JSON logs with a request id."""

import json
import logging
from datetime import timedelta

import pytest
import structlog
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django_structlog.celery.receivers import CeleryReceiver

from bidding.models import Tender
from bidding.services import database_now, tender_publish
from bidding.tasks import tender_close_task
from config.celery import app as celery_app
from lots.models import LotRules

from .factories import PlacementRequestFactory, admitted_home

PROBE_QUEUE = "metrics-probe"


def _metric(text: str, name: str, labels: str = "") -> float:
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{wanted} not in /metrics")


@pytest.mark.django_db
def test_metrics_show_tender_close_lag_and_queue_depth(council_a, broker_a, provider_a, settings):
    settings.CELERY_METRICS_QUEUES = ["celery", PROBE_QUEUE]
    LotRules.objects.filter(commissioner=council_a, lot__number=1).update(min_window_hours=0)
    admitted_home(council_a, provider=provider_a)
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    tender = tender_publish(actor=broker_a, request=request, closes_at=database_now() + timedelta(hours=1))
    now = database_now()
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=now - timedelta(hours=1), closes_at=now - timedelta(seconds=90)
    )
    with celery_app.connection_for_write() as conn:
        conn.default_channel.client.delete(PROBE_QUEUE)
    for _ in range(3):
        tender_close_task.apply_async((tender.pk,), queue=PROBE_QUEUE)
    try:
        text = Client().get("/metrics").content.decode()
    finally:
        with celery_app.connection_for_write() as conn:
            conn.default_channel.client.delete(PROBE_QUEUE)

    assert 90 <= _metric(text, "carehomes_tender_close_lag_seconds", 'state="overdue"') < 300
    assert _metric(text, "carehomes_celery_queue_depth", f'queue="{PROBE_QUEUE}"') == 3
    assert _metric(text, "carehomes_webhook_deliveries", 'status="failed"') == 0
    assert "django_http_requests_latency_seconds_by_view_method" in text


@pytest.mark.django_db
def test_metrics_answer_only_the_monitoring_addresses_or_the_token(settings):
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8"]
    settings.METRICS_TOKEN = "scrape-secret"

    assert Client().get("/metrics").status_code == 404
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(HTTP_AUTHORIZATION="Bearer scrape-secret").get("/metrics").status_code == 200
    assert Client(HTTP_AUTHORIZATION="Bearer wrong").get("/metrics").status_code == 404


@pytest.mark.django_db
def test_readiness_fails_while_migrations_are_pending_and_liveness_does_not():
    assert Client().get("/health/ready").json()["status"] == "ok"

    latest = MigrationRecorder.Migration.objects.filter(app="bidding").latest("applied", "id")
    latest.delete()  # as after a deployment whose migrations have not run yet
    ready = Client().get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["migrations"] == "1 migrations not applied"
    assert Client().get("/health/live").status_code == 200


@pytest.mark.django_db
def test_readiness_fails_when_redis_is_unreachable_and_liveness_does_not(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    ready = Client().get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["cache"].startswith("cache unreachable")
    assert Client().get("/health/live").json() == {"status": "ok"}


@pytest.mark.django_db
def test_log_lines_are_json_with_the_request_id_which_tasks_carry(caplog):
    formatter = logging.getLogger().handlers[0].formatter
    headers = {}
    with caplog.at_level(logging.INFO):
        Client(HTTP_X_REQUEST_ID="req-4711").get("/health/live")
        # What a task queued inside that request would carry: django_structlog's publish hook.
        structlog.contextvars.bind_contextvars(request_id="req-4711")
        try:
            CeleryReceiver().receiver_before_task_publish(headers=headers, properties={})
        finally:
            structlog.contextvars.clear_contextvars()
    lines = [json.loads(formatter.format(record)) for record in caplog.records if "request_" in str(record.msg)]

    assert lines, "the request was logged"
    assert all(line["request_id"] == "req-4711" for line in lines)
    assert headers["__django_structlog__"]["request_id"] == "req-4711"


def test_a_worker_logs_json_lines_as_the_web_does():
    from config.celery import app

    # What `celery worker` does as it starts: set up logging, which by Celery's default would put
    # its own format on the root logger.
    app.log.already_setup = False
    app.log.setup(loglevel="INFO")
    handlers = [h for h in logging.getLogger().handlers if not type(h).__module__.startswith("_pytest")]
    formatters = [handler.formatter for handler in handlers]
    assert formatters and all(isinstance(f, structlog.stdlib.ProcessorFormatter) for f in formatters)
