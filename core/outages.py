"""The failures that mean a service we depend on is not answering, rather than a fault in our code.

PostgreSQL holds everything; Redis is the cache (request budgets, sign-in throttling) and the
Celery broker. When one of them is unreachable the request cannot be served now but can be
later, so people and council systems are told "unavailable, try again" (503 with Retry-After)
instead of "server error" (500), and the log gets one warning line instead of a traceback.
"""

import logging

import kombu.exceptions
import redis.exceptions
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

# Django wraps the driver's errors: a refused or dropped connection, a statement or lock
# timeout and a deadlock are all OperationalError; a connection already closed is InterfaceError.
DATABASE_ERRORS = (OperationalError, InterfaceError)
CACHE_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# Publishing a task wraps the transport's connection errors in kombu's OperationalError.
BROKER_ERRORS = (kombu.exceptions.OperationalError,)
UNAVAILABLE_ERRORS = DATABASE_ERRORS + CACHE_ERRORS + BROKER_ERRORS

# Long enough for a restarted Redis or a database fail-over, short enough for a bid near its deadline.
RETRY_AFTER_SECONDS = 30


def unavailable_part(error: BaseException) -> str:
    if isinstance(error, DATABASE_ERRORS):
        return "database"
    if isinstance(error, BROKER_ERRORS):
        return "broker"
    return "cache"


def log_unavailable(error: BaseException, request) -> None:
    logger.warning(
        "%s unreachable: %s %s answered 503 (%s: %s)",
        unavailable_part(error),
        request.method,
        request.path,
        error.__class__.__name__,
        error,
    )
