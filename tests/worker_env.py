"""Gives each pytest-xdist worker a Redis database of its own.

Loaded with `-p tests.worker_env` (pyproject's addopts), so it runs before pytest-django reads the
settings. The database names need nothing: pytest-django gives each worker its own test database.
Redis does: the cache, the request budget and the Celery workers that tests start would otherwise
share one database, and a worker could take another's tasks. Worker gwN uses database base + 1 + N.
"""

import os
from urllib.parse import urlsplit, urlunsplit

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_database(url: str, index: int) -> str:
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + 1 + index}"))


if WORKER.startswith("gw"):
    index = int(WORKER[2:])
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        value = os.environ.get(name, "")
        if value.startswith("redis://"):
            os.environ[name] = _worker_database(value, index)
