"""A gunicorn threaded worker that notes when each request had arrived in full.

gunicorn's `gthread` worker accepts connections on its main thread and queues them for a pool
of threads. In a burst a request can wait for seconds, first in the kernel's listen queue until
the main thread accepts it and then in the worker's own queue until a thread takes it; Django's
first middleware only runs after both. This worker asks the kernel to stamp each packet as it
arrives (`SO_TIMESTAMPNS` on the listening sockets, inherited by every accepted connection) and
looks at the socket as it queues the connection: when the whole request (headers and a body of
the stated length) is already there, the moment its last packet arrived (the kernel's stamp) is
handed, on the monotonic clock, to `core.clock.ReceiptTimeMiddleware` through the thread that
takes the request. A connection accepted before its request had all come is looked at again
when a thread takes it, with the same kernel stamp. When it is still not all there (a slow
client, a chunked or large body, TLS terminated by gunicorn itself), nothing is stamped here and
the middleware stamps the request once it has read it, as without this worker.

The kernel stamps with its real-time clock; it is moved to the monotonic clock at once, by the
time that has passed since (both clocks of the same host, read moments apart), so a wrong wall
clock changes nothing. A kernel that gives no stamp falls back to the moment of the look.

Use it with `gunicorn --worker-class config.gunicorn_worker.ReceiptThreadWorker --threads N`.
"""

import contextlib
import re
import socket
import struct
import time

from gunicorn.workers.gthread import ThreadWorker

from core.clock import receipt_stamp, server_receipt_set

PEEK_BYTES = 65536
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_CHUNKED = re.compile(rb"^transfer-encoding:.*chunked", re.IGNORECASE | re.MULTILINE)


# Linux's SO_TIMESTAMPNS (and SCM_TIMESTAMPNS): nanosecond receive stamps (not exported by `socket`).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("@qq")


def _peek(sock) -> tuple[bytes, float | None]:
    """The bytes waiting in the socket, unread, and the kernel's real-time stamp of the last packet."""
    data, ancillary, _, _ = sock.recvmsg(
        PEEK_BYTES, socket.CMSG_SPACE(_TIMESPEC.size), socket.MSG_PEEK | socket.MSG_DONTWAIT
    )
    arrived = None
    for level, kind, raw in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack(raw[: _TIMESPEC.size])
            arrived = seconds + nanoseconds / 1e9
    return data, arrived


def _complete(data: bytes) -> bool:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[:end]
    if _CHUNKED.search(head):
        return False
    match = _CONTENT_LENGTH.search(head)
    length = int(match.group(1)) if match else 0
    return len(data) >= end + 4 + length


def request_received(sock) -> float | None:
    """When one whole HTTP/1.1 request waiting in the socket had arrived, on the monotonic clock
    (read without consuming it), or None when it has not all arrived."""
    try:
        data, arrived = _peek(sock)
    except (BlockingIOError, InterruptedError, OSError):
        return None
    if not _complete(data):
        return None
    now = receipt_stamp()
    if arrived is None:
        return now
    # Never later than now, and never earlier than the kernel says (a wall clock stepped back).
    return now - min(max(0.0, time.time() - arrived), 60.0)


def request_complete(sock) -> bool:
    """Whether one whole HTTP/1.1 request is waiting in the socket, read without consuming it."""
    return request_received(sock) is not None


def timestamp_arrivals(sock) -> None:
    """Ask the kernel to stamp each packet arriving at `sock` (and the connections it accepts)."""
    # Without stamps `request_received` falls back to the moment it looks.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


class ReceiptThreadWorker(ThreadWorker):
    def init_process(self):
        for listener in self.sockets:
            timestamp_arrivals(listener)
        super().init_process()

    def enqueue_req(self, conn):
        plain = not getattr(self.cfg, "is_ssl", False)
        conn.received_monotonic = request_received(conn.sock) if plain else None
        super().enqueue_req(conn)

    def handle(self, conn):
        stamp = getattr(conn, "received_monotonic", None)
        if stamp is None and not getattr(self.cfg, "is_ssl", False):
            # Accepted before its bytes came (or they came in parts): the kernel's stamp of the
            # last packet still says when it had arrived, however long it waited for this thread.
            stamp = request_received(conn.sock)
        server_receipt_set(stamp)
        try:
            return super().handle(conn)
        finally:
            conn.received_monotonic = None
            server_receipt_set(None)
