"""Service-wide pages: health. Here rather than in core because it checks the Celery app, which is
config's."""

import logging

from django.db import connection
from django.http import JsonResponse

from .celery import app as celery_app

logger = logging.getLogger(__name__)


def _database_ok() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "unreachable" to a health check
        return f"database unreachable: {exc.__class__.__name__}"
    return None


def _broker_ok() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:  # kombu raises several transport-specific errors
        return f"broker unreachable: {exc.__class__.__name__}"
    return None


def healthz(request):
    problems = {"database": _database_ok(), "broker": _broker_ok()}
    failing = {name: why for name, why in problems.items() if why}
    for why in failing.values():
        logger.warning("health check: %s", why)
    body = {
        "status": "fail" if failing else "ok",
        "checks": {name: (why or "ok") for name, why in problems.items()},
    }
    return JsonResponse(body, status=503 if failing else 200)
