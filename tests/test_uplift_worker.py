"""Fee uplifts applied by real Celery workers: the normal path, and a worker killed midway."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from contracts.models import FeePeriod, ServiceAgreement, Uplift
from contracts.services import agreement_create_for_placement, uplift_apply, uplift_queue
from placements.models import Placement

from .factories import BlockContractFactory, CareHomeFactory, PaidPlacementFactory, backdated_uplift, lot

D = Decimal
APRIL = dt.date(2026, 4, 6)
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"Timed out waiting for {what}")


def _uplift_with_placements(commissioner, broker, council, provider, count=4):
    home = CareHomeFactory(provider=provider)
    placements = [
        PaidPlacementFactory(
            commissioner=council, care_home=home, lot=lot(1), start_date=dt.date(2025, 5, 1), council_weekly_amount=fee
        )
        for fee in (D("800.00") + n for n in range(count))
    ]
    agreements = [agreement_create_for_placement(placement=p, actor=broker) for p in placements]
    uplift = backdated_uplift(
        actor=commissioner,
        name="April 2026",
        basis=Uplift.Basis.INDEX_LINKED,
        effective_from=APRIL,
        rules=[{"lot": lot(1), "percentage": D("4")}],
    )
    return uplift, agreements


def test_a_queued_uplift_is_applied_by_the_worker(
    celery_worker, council_a, commissioner_a, broker_a, provider_a, provider_user_a
):
    uplift, _ = _uplift_with_placements(commissioner_a, broker_a, council_a, provider_a)
    block = BlockContractFactory(
        commissioner=council_a,
        care_home=CareHomeFactory(provider=provider_a),
        weekly_rate=D("750.00"),
        uplift_basis="index_linked",
        uplift_index="CPI",
        start_date=dt.date(2025, 1, 1),
        beds=1,
    )

    uplift_queue(uplift=uplift, actor=commissioner_a)

    _wait_for(lambda: Uplift.objects.get(pk=uplift.pk).status == Uplift.Status.APPLIED, "the uplift to apply")
    assert sorted(Placement.objects.values_list("weekly_fee", flat=True)) == [
        D("832.00"),
        D("833.04"),
        D("834.08"),
        D("835.12"),
    ]
    # The block contract is uplifted in the same task: 750.00 + 4% = 780.00 from the uplift's date.
    assert list(block.rates.order_by("effective_from").values_list("effective_from", "weekly_rate")) == [
        (dt.date(2025, 1, 1), D("750.00")),
        (APRIL, D("780.00")),
    ]
    assert Uplift.objects.get(pk=uplift.pk).block_contracts_uplifted == 1


def _test_database_dsn() -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_worker_killed_midway_through_an_uplift_leaves_none_of_it_applied(
    council_a, commissioner_a, broker_a, provider_a
):
    from config.celery import app

    uplift, agreements = _uplift_with_placements(commissioner_a, broker_a, council_a, provider_a)
    app.control.purge()
    dsn = _test_database_dsn()
    blocker = psycopg.connect(dsn)
    # Holding one agreement row stops the worker after it has written the new fee periods and
    # fees (uncommitted) and before it can version the agreements: midway through its transaction.
    blocker.execute("SELECT id FROM contracts_serviceagreement WHERE id = %s FOR UPDATE", [agreements[-1].pk])
    env = {**os.environ, "DATABASE_URL": dsn.replace("postgresql://", "postgres://")}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-l", "warning"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        uplift_queue(uplift=uplift, actor=commissioner_a)
        with psycopg.connect(dsn, autocommit=True) as watcher:

            def blocked_backend():
                row = watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE %s",
                    # The query text shown is cut at 1 kB, before its FROM and FOR UPDATE.
                    ['SELECT "contracts_serviceagreement".%'],
                ).fetchone()
                return row and row[0]

            backend = _wait_for(blocked_backend, "the worker to reach the agreements")
            written = watcher.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = %s AND mode = 'RowExclusiveLock'", [backend]
            ).fetchone()[0]
            assert written > 0, "the worker had already written part of the uplift"

            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            blocker.rollback()
            _wait_for(
                lambda: not watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]).fetchone(),
                "the killed worker's database session to end",
            )
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
        blocker.close()
        app.control.purge()

    assert not FeePeriod.objects.filter(uplift=uplift).exists()
    assert sorted(Placement.objects.values_list("weekly_fee", flat=True)) == [
        D("800.00"),
        D("801.00"),
        D("802.00"),
        D("803.00"),
    ]
    assert ServiceAgreement.objects.filter(version=2).count() == 0
    assert Uplift.objects.get(pk=uplift.pk).status == Uplift.Status.QUEUED

    # The message was never acknowledged, so the uplift is still queued: the next run applies all of it.
    assert uplift_apply(uplift_id=uplift.pk).placements_uplifted == 4
    assert ServiceAgreement.objects.filter(version=2, is_current=True).count() == 4
