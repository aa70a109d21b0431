"""Service-wide pages: health. Here rather than in core because it checks the Celery app, which is
config's."""

import logging

from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
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


def _cache_ok() -> str | None:
    try:
        cache.set("readiness-probe", 1, timeout=5)
    except Exception as exc:  # redis and the cache backends raise their own errors
        return f"cache unreachable: {exc.__class__.__name__}"
    return None


def _migrations_ok() -> str | None:
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # the database being down shows here too
        return f"migrations unknown: {exc.__class__.__name__}"
    return f"{len(pending)} migrations not applied" if pending else None


def liveness(request):
    """The process answers: nothing else is checked, so an outage of PostgreSQL or Redis does not
    get every web server restarted (readiness takes it out of the load balancer instead)."""
    return JsonResponse({"status": "ok"})


def readiness(request):
    """Ready for traffic: PostgreSQL answers with every migration applied, Redis and the broker answer."""
    problems = {
        "database": _database_ok(),
        "migrations": None,
        "cache": _cache_ok(),
        "broker": _broker_ok(),
    }
    if problems["database"] is None:
        problems["migrations"] = _migrations_ok()
    else:
        problems["migrations"] = "not checked: database unreachable"
    failing = {name: why for name, why in problems.items() if why}
    for why in failing.values():
        logger.warning("readiness check: %s", why)
    body = {"status": "fail" if failing else "ok", "checks": {name: (why or "ok") for name, why in problems.items()}}
    return JsonResponse(body, status=503 if failing else 200)
