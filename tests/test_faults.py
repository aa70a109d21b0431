"""Faults with real processes, each bounded in time and only on 127.0.0.1: a worker killed during
evaluation, Redis gone while bids arrive, the database dropping a worker's connection mid-close,
and a burst of bids in the last second before a deadline."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import pools

from bidding.models import Bid, Invitation, Tender
from bidding.services import bid_submit, database_now
from bidding.tasks import tender_close_task, tenders_close_overdue_task
from config.celery import app
from core.audit import audit_record
from core.errors import ConflictError
from core.models import AuditEvent
from providers.models import Admission, CareHome

from .factories import (
    BidFactory,
    CareHomeFactory,
    InvitationFactory,
    PlacementRequestFactory,
    TenderFactory,
    ensure_reference_data,
    lot,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

ROOT = Path(__file__).resolve().parent.parent
PRIVATE_REDIS_PORT = 6390


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Gave up after {timeout:.0f} s waiting for {what}")


@contextmanager
def worker(broker_url: str, *, visibility_timeout: int = 3600):
    """A real `celery -A config worker` process on the test database; killed when done."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": "",
        "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def own_connection():
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, autocommit=False
    )


@contextmanager
def tender_row_locked(tender_id: int):
    """Hold the tender's row lock from another connection, so a worker touching it waits there."""
    with own_connection() as locker:
        locker.execute("SELECT id FROM bidding_tender WHERE id = %s FOR UPDATE", [tender_id])
        yield locker
        locker.rollback()


def backend_waiting_on_tender() -> int | None:
    with own_connection() as watcher:
        row = watcher.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query ILIKE '%%bidding_tender%%'"
        ).fetchone()
        return row[0] if row else None


def terminate(pid: int) -> None:
    with own_connection() as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        admin.commit()


def use_broker(url: str):
    """Point this process's task producer at another broker (connections are pooled per broker;
    Celery reads the environment's broker URL before its configuration)."""
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_reset():
    original = os.environ.get("CELERY_BROKER_URL", settings.CELERY_BROKER_URL)
    yield
    use_broker(original)


@pytest.fixture
def overdue_tender(council_a, broker_a, provider_a):
    """A tender past its deadline with three bids and nothing closed yet."""
    ensure_reference_data()
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, status="tendering")
    tender = TenderFactory(
        request=request, opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    for fee in ("700.00", "750.00", "800.00"):
        home = CareHomeFactory(provider=provider_a, rating="Good")
        Admission.objects.create(commissioner=council_a, care_home=home, lot=lot(1), status=Admission.Status.ADMITTED)
        BidFactory(invitation=InvitationFactory(tender=tender, care_home=home), weekly_fee=Decimal(fee))
    return tender


def evaluated_once(tender: Tender) -> None:
    tender.refresh_from_db()
    assert tender.status == Tender.Status.EVALUATED
    assert AuditEvent.objects.filter(verb="bidding.tender.closed", detail__tender=tender.pk).count() == 1
    assert AuditEvent.objects.filter(verb="bidding.tender.evaluated", detail__tender=tender.pk).count() == 1
    assert sorted(tender.bids.values_list("rank", flat=True)) == [1, 2, 3]


def test_a_worker_killed_during_evaluation_has_the_task_redelivered_and_run_once(overdue_tender, broker_reset):
    tender = overdue_tender
    # The close has happened; the evaluation is what the worker is in the middle of.
    Tender.objects.filter(pk=tender.pk).update(status=Tender.Status.CLOSED, closed_at=timezone.now())
    audit_record(actor=None, verb="bidding.tender.closed", target=tender.request, detail={"tender": tender.pk})
    broker = settings.CELERY_BROKER_URL
    use_broker(broker)
    app.control.purge()

    with tender_row_locked(tender.pk):
        with worker(broker, visibility_timeout=2) as first:
            tender_close_task.delay(tender.pk)
            orphan = wait_for(backend_waiting_on_tender, timeout=30, what="the worker to be evaluating")
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            # A backend waiting on a lock does not notice its client died; left alone it would take
            # the lock and sit idle in its transaction. PostgreSQL's idle-in-transaction timeout ends
            # it in production; here it is ended at once.
            terminate(orphan)
            # The broker hands an unacknowledged message out again once it is older than the
            # visibility timeout, when a worker next looks for such messages (at its start).
            time.sleep(3)
        tender.refresh_from_db()
        assert tender.status == Tender.Status.CLOSED

    with worker(broker, visibility_timeout=2):
        wait_for(
            lambda: Tender.objects.filter(pk=tender.pk, status=Tender.Status.EVALUATED).exists(),
            timeout=60,
            what="the redelivered evaluation",
        )
    evaluated_once(tender)


@contextmanager
def private_redis():
    """A throwaway Redis on its own port (the machine's shared Redis is never touched)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    command = [binary, "--port", str(PRIVATE_REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]

    def start():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _port_open(PRIVATE_REDIS_PORT), timeout=10, what="Redis to listen")
        return process

    server = {"process": start()}

    def stop():
        server["process"].terminate()
        server["process"].wait(timeout=10)

    def restart():
        server["process"] = start()

    try:
        yield stop, restart
    finally:
        if server["process"].poll() is None:
            server["process"].terminate()
            server["process"].wait(timeout=10)


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_bids_are_accepted_while_redis_is_down_and_the_sweeper_closes_when_it_returns(
    council_a, broker_a, provider_a, provider_user_a, broker_reset
):
    ensure_reference_data()
    broker = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, status="tendering")
    tender = TenderFactory(request=request, closes_at=timezone.now() + timedelta(seconds=4))
    homes = []
    for _ in range(3):
        home = CareHomeFactory(provider=provider_a, rating="Good")
        Admission.objects.create(commissioner=council_a, care_home=home, lot=lot(1), status=Admission.Status.ADMITTED)
        InvitationFactory(tender=tender, care_home=home)
        homes.append(home)

    with private_redis() as (stop_redis, restart_redis):
        use_broker(broker)
        # The deadline's own close task waits in Redis, which then loses it.
        tender_close_task.apply_async((tender.pk,), eta=tender.closes_at)
        stop_redis()
        for index, home in enumerate(homes):
            bid_submit(
                actor=provider_user_a,
                tender=tender,
                care_home=home,
                weekly_fee=Decimal(700 + index),
                earliest_start=timezone.localdate(),
                needs_confirmed=True,
            )
        assert Bid.objects.filter(tender=tender, status=Bid.Status.SUBMITTED).count() == 3
        wait_for(lambda: database_now() > tender.closes_at, timeout=10, what="the deadline")
        tender.refresh_from_db()
        assert tender.status == Tender.Status.OPEN

        restart_redis()
        with worker(broker):
            # What beat sends every minute once the broker is back, sent here every few seconds;
            # the sweeper is idempotent, so repeats are harmless.
            use_broker(broker)
            last_sent = 0.0

            def evaluated() -> bool:
                nonlocal last_sent
                if time.monotonic() - last_sent > 5:
                    tenders_close_overdue_task.delay()
                    last_sent = time.monotonic()
                return Tender.objects.filter(pk=tender.pk, status=Tender.Status.EVALUATED).exists()

            wait_for(evaluated, timeout=90, what="the sweeper to close and evaluate")
    tender.refresh_from_db()
    assert tender.status == Tender.Status.EVALUATED
    assert tender.bids.filter(rank__isnull=False).count() == 3


def test_a_close_survives_the_database_dropping_the_workers_connection(overdue_tender, broker_reset):
    tender = overdue_tender
    broker = settings.CELERY_BROKER_URL
    use_broker(broker)
    app.control.purge()

    with worker(broker):
        with tender_row_locked(tender.pk):
            tender_close_task.delay(tender.pk)
            terminate(wait_for(backend_waiting_on_tender, timeout=30, what="the worker to be closing"))
        wait_for(
            lambda: Tender.objects.filter(pk=tender.pk, status=Tender.Status.EVALUATED).exists(),
            timeout=60,
            what="the retried close",
        )
    evaluated_once(tender)


BURST = 500
BIDDING_THREADS = 16


def test_a_burst_of_bids_in_the_last_second_loses_none_and_accepts_none_late(council_a, broker_a, provider_a):
    """500 submissions spread over the second before the deadline and a little after, from
    separate connections: each is either stored before the deadline or refused, saying why."""
    ensure_reference_data()
    from organisations.models import Role

    from .factories import UserFactory

    bidder = UserFactory(organisation=provider_a, role=Role.PROVIDER)
    homes = CareHome.objects.bulk_create(CareHomeFactory.build_batch(BURST, provider=provider_a))
    Admission.objects.bulk_create(
        Admission(commissioner=council_a, care_home=home, lot=lot(1), status=Admission.Status.ADMITTED)
        for home in homes
    )
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, status="tendering")
    tender = TenderFactory(request=request, closes_at=database_now() + timedelta(seconds=4))
    Invitation.objects.bulk_create(Invitation(tender=tender, care_home=home) for home in homes)
    closes_at = tender.closes_at
    # Attempt i is due at deadline - 1 s + i * 1.2 s / BURST: most before the deadline, some after.
    first_due = time.monotonic() + (closes_at - database_now()).total_seconds() - 1.0
    results: dict[int, tuple] = {}
    start = threading.Barrier(BIDDING_THREADS)

    def bid_in_turn(offset: int):
        try:
            start.wait()
            for index in range(offset, BURST, BIDDING_THREADS):
                delay = first_due + index * 1.2 / BURST - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                before = database_now()
                try:
                    bid = bid_submit(
                        actor=bidder,
                        tender=tender,
                        care_home=homes[index],
                        weekly_fee=Decimal("700.00"),
                        earliest_start=timezone.localdate(),
                        needs_confirmed=True,
                    )
                    results[index] = ("accepted", before, database_now(), bid.pk, "")
                except ConflictError as error:
                    results[index] = ("refused", before, database_now(), error.code, error.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=bid_in_turn, args=(n,)) for n in range(BIDDING_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == BURST, "every submission has an answer"
    accepted = [r for r in results.values() if r[0] == "accepted"]
    refused = [r for r in results.values() if r[0] == "refused"]
    assert accepted and refused, "the burst must straddle the deadline"
    assert all(before < closes_at for _, before, _, _, _ in accepted)
    assert all(code == "tender_closed" and "closed" in message for _, _, _, code, message in refused)
    assert all(after >= closes_at for _, _, after, _, _ in refused)
    stored = Bid.objects.filter(tender=tender)
    assert sorted(stored.values_list("pk", flat=True)) == sorted(r[3] for r in accepted), "0 lost"
    assert not stored.filter(submitted_at__gte=closes_at).exists(), "0 accepted late"
