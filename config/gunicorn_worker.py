"""A gunicorn threaded worker that notes when each request had arrived in full.

gunicorn's `gthread` worker accepts connections on its main thread and queues them for a pool
of threads. In a burst the queue can hold a request for seconds before a thread takes it, and
Django's first middleware only runs then. This worker looks at the socket as it queues the
connection: when the whole request (headers and a body of the stated length) is already there,
it stamps that moment on the monotonic clock and hands it to `core.clock.ReceiptTimeMiddleware`
through the thread that takes the request. When it is not all there yet (a slow client, a
chunked or large body, TLS terminated by gunicorn itself), nothing is stamped here and the
middleware stamps the request once it has read it, as without this worker.

Use it with `gunicorn --worker-class config.gunicorn_worker.ReceiptThreadWorker --threads N`.
"""

import re
import socket

from gunicorn.workers.gthread import ThreadWorker

from core.clock import receipt_stamp, server_receipt_set

PEEK_BYTES = 65536
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_CHUNKED = re.compile(rb"^transfer-encoding:.*chunked", re.IGNORECASE | re.MULTILINE)


def request_complete(sock) -> bool:
    """Whether one whole HTTP/1.1 request is waiting in the socket, read without consuming it."""
    try:
        data = sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError, OSError):
        return False
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[:end]
    if _CHUNKED.search(head):
        return False
    match = _CONTENT_LENGTH.search(head)
    length = int(match.group(1)) if match else 0
    return len(data) >= end + 4 + length


class ReceiptThreadWorker(ThreadWorker):
    def enqueue_req(self, conn):
        plain = not getattr(self.cfg, "is_ssl", False)
        conn.received_monotonic = receipt_stamp() if plain and request_complete(conn.sock) else None
        super().enqueue_req(conn)

    def handle(self, conn):
        server_receipt_set(getattr(conn, "received_monotonic", None))
        try:
            return super().handle(conn)
        finally:
            conn.received_monotonic = None
            server_receipt_set(None)
