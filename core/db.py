"""Database session settings that depend on the kind of process: web requests or long jobs."""

import re

from django.conf import settings
from django.db import connections

STATEMENT_TIMEOUT = re.compile(r"-c statement_timeout=\d+")


def use_task_statement_timeout() -> None:
    """Let this process's statements run for DATABASE_TASK_STATEMENT_TIMEOUT instead of the web timeout.

    For the Celery worker and management commands, called before their work starts: connections
    opened from now on carry the longer timeout, and an open one (outside a transaction) is closed so
    that the next query reconnects with it.
    """
    option = f"-c statement_timeout={settings.DATABASE_TASK_STATEMENT_TIMEOUT * 1000}"
    for alias in connections:
        connection = connections[alias]
        options = connection.settings_dict.setdefault("OPTIONS", {})
        current = options.get("options", "")
        options["options"] = (
            STATEMENT_TIMEOUT.sub(option, current) if STATEMENT_TIMEOUT.search(current) else f"{current} {option}"
        ).strip()
        if not connection.in_atomic_block:
            connection.close()
