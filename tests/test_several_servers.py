"""Two web servers, two Celery workers and beat on one PostgreSQL and one Redis: no node affinity.

Everything runs as it would in production, as separate processes on loopback: two gunicorn
servers (the receipt-stamping threaded worker), two Celery workers and one beat, sharing this
test's PostgreSQL database and a Redis of their own (a private `redis-server` on a free port, so
nothing else's workers take their tasks). Requests are spread over both servers, and the checks
are the ones a single server passes: a session made on one works on the other, a retried
`Idempotency-Key` gives one object, a client's budget is one budget, each tender is closed and
evaluated once although beat queues its close repeatedly and both workers take them, and each
webhook event is delivered once.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.utils import timezone

from bidding.models import Tender
from bidding.services import database_now
from core.models import AuditEvent
from integrations.models import WebhookDelivery, WebhookSubscription
from lots.models import LotRules
from organisations.services import api_client_create

from .factories import TEST_PASSWORD, PlacementRequestFactory, admitted_home

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TENDERS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


class Hooks:
    """A webhook receiver on loopback that counts deliveries by event id."""

    def __init__(self):
        self.ids: list[str] = []
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                hooks.ids.append(self.headers["webhook-id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def cluster(tmp_path, transactional_db):
    """Start the processes; yields the two servers' base URLs. Stops everything it started."""
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        pytest.skip("redis-server is not installed")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    redis_port, ports = _free_port(), [_free_port(), _free_port()]
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": "",
        "DEBUG": "false",
        "SECRET_KEY": "several-servers-test-key",
        "SECURE_COOKIES": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "VAR_DIR": str(tmp_path),
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        "WEBHOOK_BACKOFF_BASE_SECONDS": "0.2",
        "API_THROTTLE_RATE_CLIENT": "600/min",
        "BID_RECEIPT_GRACE_SECONDS": "1",
        # Beat queues each close every second while its deadline is within 3 s: duplicates on purpose.
        "TENDER_CLOSE_QUEUE_AHEAD_SECONDS": "3",
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "processes.log").open("w")
    processes = []

    def start(*command, cwd=ROOT):
        processes.append(subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT))

    start(redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
    try:
        for port in ports:
            start(
                str(BIN / "gunicorn"),
                "config.wsgi",
                "-c",
                "config/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "30",
            )
        for name in ("one", "two"):
            start(
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--hostname",
                f"{name}@%h",
                "--loglevel",
                "WARNING",
            )
        start(
            str(BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        )
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            _wait(lambda url=url: _answers(f"{url}/health/live"), timeout=240, what=f"{url} to answer")
        yield urls
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


@pytest.mark.celery_worker
def test_two_servers_two_workers_and_beat_behave_as_one(
    cluster, council_a, broker_a, commissioner_a, provider_a, provider_user_a
):
    server_a, server_b = cluster
    LotRules.objects.filter(commissioner=council_a, lot__number=1).update(min_window_hours=0)
    homes = [admitted_home(council_a, provider=provider_a, name=f"Home {n}") for n in range(4)]
    _, council_token = api_client_create(
        organisation=council_a, name="Case system", scopes=["read", "placement-requests", "webhooks"]
    )
    _, provider_token = api_client_create(organisation=provider_a, name="Provider system", scopes=["read", "bids"])
    council = {"Authorization": f"Bearer {council_token}"}
    provider = {"Authorization": f"Bearer {provider_token}"}

    # Sessions: sign in on one server, carry on on the other.
    browser = requests.Session()
    browser.get(f"{server_a}/sign-in/")
    signed_in = browser.post(
        f"{server_a}/sign-in/",
        data={
            "username": broker_a.email,
            "password": TEST_PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": f"{server_a}/sign-in/"},
        allow_redirects=False,
    )
    assert signed_in.status_code == 302
    assert browser.get(f"{server_b}/broker/", allow_redirects=False).status_code == 200
    browser.post(
        f"{server_b}/sign-out/",
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{server_b}/broker/"},
    )
    assert browser.get(f"{server_a}/broker/", allow_redirects=False).status_code == 302

    # Idempotency: the same key sent to both servers at once creates one subscription.
    body = {"url": "", "events": ["tender.closed", "tender.evaluated"]}
    hooks = Hooks()
    body["url"] = hooks.url
    answers = []

    def subscribe(url):
        answers.append(
            requests.post(
                f"{url}/api/v1/webhooks/subscriptions/",
                json=body,
                headers={**council, "Idempotency-Key": "subscribe-once"},
                timeout=30,
            )
        )

    threads = [threading.Thread(target=subscribe, args=(url,)) for url in (server_a, server_b, server_a, server_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [201] * 4
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert WebhookSubscription.objects.filter(organisation=council_a).count() == 1

    # Tenders published on alternate servers, bids spread over both; beat and two workers close them.
    tenders = []
    for number in range(TENDERS):
        server = (server_a, server_b)[number % 2]
        request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, status="new")
        published = requests.post(
            f"{server}/api/v1/placement-requests/{request.pk}/publish/",
            json={"closes_at": (database_now() + timedelta(minutes=10)).isoformat()},
            headers=council,
            timeout=30,
        )
        assert published.status_code == 201, published.content
        tenders.append(published.json()["id"])
    for index, home in enumerate(homes):
        for number, tender_id in enumerate(tenders):
            server = (server_a, server_b)[(index + number) % 2]
            bid = requests.post(
                f"{server}/api/v1/tenders/{tender_id}/bids/",
                json={
                    "care_home": home.pk,
                    "weekly_fee": f"{800 + index}.00",
                    "earliest_start": timezone.localdate().isoformat(),
                    "needs_confirmed": True,
                },
                headers=provider,
                timeout=30,
            )
            assert bid.status_code == 201, bid.content

    # Every bid is in: the deadlines come near, and beat starts queueing each close every second.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE bidding_tender SET closes_at = clock_timestamp() + interval '2 seconds' WHERE id = ANY(%s)",
            [tenders],
        )

    def all_evaluated():
        return Tender.objects.filter(pk__in=tenders, status=Tender.Status.EVALUATED).count() == TENDERS

    _wait(all_evaluated, timeout=90, what="the workers to close and evaluate every tender")
    time.sleep(4)  # beat keeps queueing closes for a few more seconds: none may do the work again
    for tender_id in tenders:
        closes = AuditEvent.objects.filter(verb="bidding.tender.closed", detail__tender=tender_id).count()
        evaluations = AuditEvent.objects.filter(verb="bidding.tender.evaluated", detail__tender=tender_id).count()
        assert (closes, evaluations) == (1, 1), tender_id
        assert Tender.objects.get(pk=tender_id).bids.filter(rank__isnull=False).count() == len(homes)

    # One delivery per event: a close and an evaluation per tender.
    _wait(lambda: len(hooks.ids) >= 2 * TENDERS, timeout=60, what="the webhook deliveries")
    time.sleep(2)
    assert sorted(Counter(hooks.ids).values()) == [1] * (2 * TENDERS)
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SUCCEEDED).count() == 2 * TENDERS

    # Budgets: one client's budget is shared by both servers.
    _, budget_token = api_client_create(organisation=council_a, name="Budgeted", scopes=["read"])
    statuses = [
        requests.get(
            f"{(server_a, server_b)[n % 2]}/api/v1/lots/",
            headers={"Authorization": f"Bearer {budget_token}"},
            timeout=30,
        ).headers.get("RateLimit-Remaining")
        for n in range(6)
    ]
    assert [int(left) for left in statuses] == [599, 598, 597, 596, 595, 594]
