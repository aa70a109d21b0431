"""The service's one clock for deadlines, and the moment each request was received by it.

Deadlines are judged by the database's clock (`clock_timestamp()`), never a web server's: every
web server, worker and task shares one database, so they all agree at a deadline.

A request's receipt time is taken from the same clock without a query per request. The first
middleware (`ReceiptTimeMiddleware`) notes the server's monotonic clock once the request's body
has arrived in full; when a rule needs the receipt as a database time (a bid at its deadline),
`database_now_and_receipt` reads the database clock once and subtracts the monotonic time that
has passed since receipt. So:

- there is no extra query, no calibration to refresh and no drift between servers: the
  monotonic reading and the conversion happen in the same process, moments apart;
- the error is at most the one round trip of that database read (well under a millisecond on
  a local network), and it falls on the provider's side of caution only within that bound:
  the monotonic moment is taken *before* the read is sent, so the receipt is never stamped
  earlier than it was;
- a server whose wall clock is wrong changes nothing.

Reading `clock_timestamp()` at receipt instead would cost a query (and a database connection)
on every request, including the ones that never ask.
"""

import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, Func


class DatabaseNow(Func):
    """The database's clock as a query expression: `clock_timestamp()`, the moment the row is read.

    The same clock `database_now` reads. Not PostgreSQL's `now()` (the transaction's start) nor
    Django's `Now()` (the statement's start): either is earlier than the moment a statement that
    waited on a lock reads the row, so it could call a tender open that the bid path calls closed.
    """

    template = "clock_timestamp()"
    output_field = DateTimeField()


def database_now() -> datetime:
    """The database's clock at this moment (see `DatabaseNow`)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def receipt_stamp() -> float:
    """The moment of receipt on this server's monotonic clock (see `database_now_and_receipt`)."""
    return time.monotonic()


def database_now_and_receipt(received: float | None) -> tuple[datetime, datetime]:
    """The database clock now, and the receipt stamp `received` converted to that clock.

    Without a stamp (a Celery task, a management command, a shell) the receipt is now.
    """
    before = time.monotonic()
    now = database_now()
    return now, receipt_on_database_clock(received, now=now, read_after=before)


def receipt_on_database_clock(received: float | None, *, now: datetime, read_after: float) -> datetime:
    """The receipt stamp `received` on the database clock, given `now`, a reading of that clock
    (`DatabaseNow`) sent to the database at the monotonic moment `read_after` or later. For a
    caller that reads the clock in a query it runs anyway, instead of `database_now_and_receipt`'s
    own query. Without a stamp the receipt is `now`."""
    if received is None:
        return now
    return now - timedelta(seconds=max(0.0, read_after - received))


_server_receipt = threading.local()


def server_receipt_set(stamp: float | None) -> None:
    """An application server that saw the whole request arrive before a worker thread was free
    to take it (`config.gunicorn_worker`) hands the earlier stamp to the middleware this way."""
    _server_receipt.stamp = stamp


def _server_receipt_take() -> float | None:
    stamp = getattr(_server_receipt, "stamp", None)
    _server_receipt.stamp = None
    return stamp


def request_receipt(request) -> float | None:
    """The receipt stamp the first middleware put on a request (None outside a web request)."""
    return getattr(request, "received_monotonic", None)


class ReceiptTimeMiddleware:
    """First in the chain: stamp when the request has been received in full.

    The body of a small request (a bid is a few hundred bytes) is read before the stamp, so a
    client that sends its headers before a deadline and the rest after it is stamped after it.
    Larger bodies (file uploads) are left to stream and stamped on entry: no deadline rule reads them.
    Behind gunicorn with `config.gunicorn_worker`, the stamp is the moment the server found the
    whole request in its socket, before the request waited for a free thread.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        stamp = _server_receipt_take()
        if stamp is not None:
            request.received_monotonic = stamp
            return self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if 0 < length <= (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0):
                request.body  # noqa: B018 - reads the body in full before the stamp
        request.received_monotonic = receipt_stamp()
        return self.get_response(request)
