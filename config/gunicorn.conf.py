"""gunicorn's settings for every way the service is served: the container, `make load`, the
benchmarks and the several-servers test pass `-c config/gunicorn.conf.py` and add only where to
bind and how many workers.

- The threaded worker stamps each request's arrival before it waits for a thread, so a bid is
  judged by when it was received (`config/gunicorn_worker.py`).
- A worker is restarted after one request has run for `timeout`: a little longer than
  DATABASE_STATEMENT_TIMEOUT, so a slow statement is cancelled and answered before its worker
  is killed.
- An idle keep-alive connection is kept open longer than the clients and load balancers in
  front of the service keep theirs (commonly 60 s). If gunicorn closed it first, a client
  sending its next request on it at that moment would have the connection reset under it;
  with the other side closing first, a new connection is simply opened.
"""

import os

statement_timeout = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "5"))

worker_class = "config.gunicorn_worker.ReceiptThreadWorker"
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = 2 * statement_timeout if statement_timeout else 30
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))
