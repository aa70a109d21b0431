"""The timeliness summary (`TimelinessMonth`) equals the live aggregate over placements after
every kind of write, including concurrent ones, because the database keeps it in step."""

import threading
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from dashboards.models import TimelinessMonth
from dashboards.reports.timeliness import timeliness_live_counts, timeliness_summary_counts
from placements.models import Placement

from .factories import PaidPlacementFactory, lot

FIRST, LAST = date(2000, 1, 1), date(2099, 12, 1)
LONDON = ZoneInfo("Europe/London")


def figures(counts) -> dict:
    """{(month, lot number): (sourced, within target)} for the months with placements."""
    return {
        (_month(entry["month"]), entry["lot__number"]): (entry["sourced"], entry["within_target"])
        for entry in counts
        if entry["sourced"]
    }


def _month(value) -> date:
    return value.astimezone(LONDON).date() if isinstance(value, datetime) else value


def live(commissioner) -> dict:
    return figures(timeliness_live_counts(commissioner=commissioner, month_from=FIRST, month_to=LAST))


def summary(commissioner) -> dict:
    return figures(timeliness_summary_counts(commissioner=commissioner, month_from=FIRST, month_to=LAST))


def placed(commissioner, sourced_at: datetime, target: date, lot_number: int = 1, **extra) -> Placement:
    return PaidPlacementFactory(
        commissioner=commissioner,
        lot=lot(lot_number),
        sourced_at=sourced_at,
        target_date=target,
        start_date=target,
        **extra,
    )


@pytest.mark.django_db
def test_every_kind_of_write_keeps_the_summary_equal_to_the_live_figures(council_a, council_b):
    # 23:30 UTC on 31 March 2024 is 00:30 on 1 April in London: an April placement, late for a
    # 31 March target.
    boundary = placed(council_a, datetime(2024, 3, 31, 23, 30, tzinfo=UTC), date(2024, 3, 31))
    early = placed(council_a, datetime(2024, 3, 10, 9, tzinfo=UTC), date(2024, 3, 12), lot_number=2)
    placed(council_b, datetime(2024, 3, 10, 9, tzinfo=UTC), date(2024, 3, 12))
    Placement.objects.bulk_create(
        [
            Placement(
                commissioner=council_a,
                case_reference=f"BULK-{n}",
                lot=lot(3),
                source=Placement.Source.IMPORTED,
                sourced_at=datetime(2024, 5, 1 + n, 12, tzinfo=UTC),
                target_date=date(2024, 5, 3),
                start_date=date(2024, 5, 3),
                weekly_fee=0,
                council_weekly_amount=0,
                in_county=True,
            )
            for n in range(5)
        ]
    )
    assert summary(council_a) == live(council_a)
    assert summary(council_a)[(date(2024, 4, 1), 1)] == (1, 0)
    assert summary(council_a)[(date(2024, 5, 1), 3)] == (5, 3)

    # Moved across a month, to another lot, another body; fees changed; cancelled; deleted.
    Placement.objects.filter(pk=boundary.pk).update(sourced_at=datetime(2024, 3, 30, 9, tzinfo=UTC))
    Placement.objects.filter(pk=early.pk).update(lot=lot(4), target_date=date(2024, 3, 1))
    Placement.objects.filter(lot=lot(3), sourced_at__day=1).update(commissioner=council_b)
    Placement.objects.filter(commissioner=council_a).update(weekly_fee=900, council_weekly_amount=900)
    Placement.objects.filter(lot=lot(3), sourced_at__day=2).update(
        cancelled_at=timezone.now(), cancel_reason="The award lapsed before the move-in."
    )
    Placement.objects.filter(lot=lot(3), sourced_at__day=3).delete()

    for body in (council_a, council_b):
        assert summary(body) == live(body)
    assert summary(council_a)[(date(2024, 3, 1), 1)] == (1, 1)
    assert summary(council_a)[(date(2024, 3, 1), 4)] == (1, 0)
    assert summary(council_a)[(date(2024, 5, 1), 3)] == (2, 0)
    assert summary(council_b)[(date(2024, 5, 1), 3)] == (1, 1)


BULK_INSERT = """
INSERT INTO placements_placement (
    commissioner_id, case_reference, lot_id, source, weekly_fee, council_weekly_amount, top_up_weekly_amount,
    top_up_payer, start_date, in_county, target_date, sourced_at, created_at, cancelled_at, cancel_reason
)
SELECT CASE WHEN n %% 7 = 0 THEN %(other)s ELSE %(body)s END,
       'SERIES-' || n,
       lots.id,
       'imported', 800, 800, 0, '',
       DATE '2023-01-01' + n %% 700,
       true,
       -- Targets a day either side of the London date, so about half are within target; the
       -- times run through every hour, late evenings in summer included.
       ((TIMESTAMPTZ '2023-01-01 00:30+00' + n * INTERVAL '97 minutes') AT TIME ZONE 'Europe/London')::date
           + (n %% 3 - 1),
       TIMESTAMPTZ '2023-01-01 00:30+00' + n * INTERVAL '97 minutes',
       now(),
       CASE WHEN n %% 11 = 0 THEN now() END,
       CASE WHEN n %% 11 = 0 THEN 'Cancelled in the series.' ELSE '' END
FROM generate_series(1, 10000) AS n
JOIN lots_lot AS lots ON lots.number = 1 + n %% 10
"""


@pytest.mark.django_db
def test_statements_writing_10000_rows_at_once_keep_the_summary_equal_to_the_live_figures(council_a, council_b):
    with connection.cursor() as cursor:
        cursor.execute(BULK_INSERT, {"body": council_a.pk, "other": council_b.pk})
        assert cursor.rowcount == 10_000

    for body in (council_a, council_b):
        assert summary(body) == live(body)
    assert sum(sourced for sourced, _ in summary(council_a).values()) == (
        Placement.objects.filter(commissioner=council_a, cancelled_at__isnull=True).count()
    )
    assert 0 < sum(within for _, within in summary(council_a).values()) < 10_000

    # One statement each: moved by a fortnight and to the next lot, fees changed, some handed to
    # another body, some cancelled, some restored, some deleted.
    series = Placement.objects.filter(case_reference__startswith="SERIES-")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE placements_placement SET sourced_at = sourced_at + INTERVAL '14 days', "
            "lot_id = (SELECT id FROM lots_lot WHERE number = 1 + lot_id %% 10) "
            "WHERE case_reference LIKE 'SERIES-%%' AND id %% 2 = 0",
            [],
        )
        cursor.execute(
            "UPDATE placements_placement SET commissioner_id = %s "
            "WHERE case_reference LIKE 'SERIES-%%' AND id %% 5 = 0",
            [council_b.pk],
        )
    series.update(weekly_fee=900, council_weekly_amount=900)
    series.filter(cancelled_at__isnull=True, sourced_at__month=6).update(
        cancelled_at=timezone.now(), cancel_reason="The award lapsed before the move-in."
    )
    series.filter(sourced_at__month=3).update(cancelled_at=None, cancel_reason="")
    series.filter(sourced_at__month=9).delete()

    for body in (council_a, council_b):
        assert summary(body) == live(body)
    assert series.count() > 8_000


@pytest.mark.django_db(transaction=True)
def test_concurrent_placements_in_one_month_and_lot_are_all_counted(council_a):
    sourced_at = datetime(2025, 6, 10, 9, tzinfo=UTC)
    start = threading.Barrier(12)
    failures = []

    def place():
        try:
            start.wait(timeout=30)
            placed(council_a, sourced_at, date(2025, 6, 20))
        except Exception as error:  # collected and reported by the test
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=place) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures
    assert TimelinessMonth.objects.get(commissioner=council_a, month=date(2025, 6, 1), lot=lot(1)).sourced == 12
    assert summary(council_a) == live(council_a) == {(date(2025, 6, 1), 1): (12, 12)}


@pytest.mark.django_db
def test_the_dashboard_reads_the_summary(council_a, commissioner_a, as_user):
    placed(council_a, datetime(2024, 3, 10, 9, tzinfo=UTC), date(2024, 3, 12))
    TimelinessMonth.objects.filter(commissioner=council_a).update(sourced=7, within_target=3)

    body = as_user(commissioner_a).get("/api/v1/dashboards/timeliness/?from=2024-03&to=2024-03").json()

    assert body["total"]["sourced"] == 7 and body["total"]["within_target"] == 3
