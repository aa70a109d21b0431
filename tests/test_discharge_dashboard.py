"""The discharge dashboard against figures worked out by hand over the Europe/London calendar.

Every time below is written in UTC, with the London wall-clock time beside it. British Summer Time
(UTC+1) ended at 01:00 UTC on Sunday 25 October 2026, the last Sunday of October, so that day had
25 hours in London.

Hospital discharges sourced in October 2026 (London), hours from ready for discharge to sourced,
and Europe/London calendar days between the two (the delayed days):

    A  ready 5 Oct 10:00 BST (09:00Z), sourced 5 Oct 16:00 BST (15:00Z):    6.0 h, 0 days
    B  ready 6 Oct 22:00 BST (21:00Z), sourced 7 Oct 01:30 BST (00:30Z):    3.5 h, 1 day (crosses midnight)
    C  ready 24 Oct 12:00 BST (11:00Z), sourced 25 Oct 12:00 GMT (12:00Z): 25.0 h, 1 day (the clock change:
       the wall clock says 24 hours, but 25 passed, so it misses the 24-hour target)
    D  ready 10 Oct 09:00 BST (08:00Z), sourced 12 Oct 09:00 BST (08:00Z): 48.0 h, 2 days
    E  ready 20 Oct 08:00 BST (07:00Z), sourced 20 Oct 20:00 BST (19:00Z): 12.0 h, 0 days
    F  ready 30 Sep 20:00 BST (19:00Z), sourced 1 Oct 00:30 BST (30 Sep 23:30Z): 4.5 h, 1 day; October in
       London although 30 September in UTC

    Sorted hours: 3.5, 4.5, 6, 12, 25, 48 (n = 6).
    Median: between the 3rd and 4th, (6 + 12) / 2 = 9.0.
    90th percentile (linear between closest ranks): rank (6 - 1) x 0.9 = 4.5, between the 5th (25) and
    6th (48): 25 + 0.5 x (48 - 25) = 36.5.
    Within the 24-hour target (sourced by ready + 24 h): A, B, E, F = 4 of 6 = 66.7%.
    Delayed days: 0 + 1 + 1 + 2 + 0 + 1 = 5.
    Referrals made in October: A, B, C, D, E, H (made 31 Oct 23:10Z) and J = 7; F's was made in September.

    J's placement (a lapsed award's, cancelled) is not a sourcing: its referral counts, its wait does not.

    H  ready 31 Oct 23:00 GMT, sourced 1 Nov 00:30 GMT: November, 1.5 h (median and 90th percentile
       of one value), within target, 1 delayed day.

Urgent (community), October: I requested 15 Oct 10:00 BST (09:00Z), no ready time, sourced 14:00 BST
(13:00Z): 4.0 h from the request, within its 48-hour target; no delayed days (nobody waited in hospital).

Planned, October: K imported history with no request, requested 1 Oct 09:00Z, sourced 3 Oct 09:00Z:
48.0 h, target date 2 October, so not within target; L imported with no request time, sourced 20 Oct
by its target of 25 October: within target, but no wait to measure. So 2 sourced, 1 within (50.0%),
median and 90th percentile 48.0 h (K's alone).

Discharge to assess: A's stay went long-term in the same home on 29 October, B's went home on
2 November; C's review was due on 20 November with no outcome, overdue on 7 December.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dashboards.reports.discharge import discharge
from lots.models import Urgency
from placements.models import Pathway

from .factories import (
    BlockRequestFactory,
    CareHomeFactory,
    DischargeRequestFactory,
    PaidPlacementFactory,
)

pytestmark = pytest.mark.django_db


def utc(month, day, hour, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def sourced(council, broker, *, ready, at, made=None, hours=24, **placement):
    request = DischargeRequestFactory(
        commissioner=council,
        created_by=broker,
        requested_at=made or ready + timedelta(minutes=10),
        ready_for_discharge_at=ready,
        target_at=ready + timedelta(hours=hours),
        target_date=(ready + timedelta(hours=hours)).date(),
    )
    return PaidPlacementFactory(
        commissioner=council,
        request=request,
        case_reference=request.case_reference,
        care_home=CareHomeFactory(),
        requested_at=request.requested_at,
        sourced_at=at,
        target_date=request.target_date,
        start_date=at.date(),
        **placement,
    )


@pytest.fixture
def worked_example(council_a, broker_a, council_b, broker_b):
    d2a = {"pathway": Pathway.PATHWAY_3_ASSESSMENT}
    sourced(
        council_a,
        broker_a,
        ready=utc(10, 5, 9),
        at=utc(10, 5, 15),
        assessment_outcome="long_term_same_home",
        assessment_outcome_on=date(2026, 10, 29),
        **d2a,
    )
    sourced(
        council_a,
        broker_a,
        ready=utc(10, 6, 21),
        at=utc(10, 7, 0, 30),
        assessment_outcome="home",
        assessment_outcome_on=date(2026, 11, 2),
        **d2a,
    )
    sourced(council_a, broker_a, ready=utc(10, 24, 11), at=utc(10, 25, 12), review_on=date(2026, 11, 20), **d2a)
    sourced(council_a, broker_a, ready=utc(10, 10, 8), at=utc(10, 12, 8))
    sourced(council_a, broker_a, ready=utc(10, 20, 7), at=utc(10, 20, 19))
    sourced(council_a, broker_a, ready=utc(9, 30, 19), at=utc(9, 30, 23, 30))
    sourced(council_a, broker_a, ready=utc(10, 31, 23), at=utc(11, 1, 0, 30))
    sourced(
        council_a,
        broker_a,
        ready=utc(10, 8, 9),
        at=utc(10, 8, 10),
        cancelled_at=utc(10, 9, 9),
        cancel_reason="The home withdrew before the move-in",
    )
    urgent = BlockRequestFactory(
        commissioner=council_a,
        created_by=broker_a,
        urgency=Urgency.URGENT_COMMUNITY,
        requested_at=utc(10, 15, 9),
        target_at=utc(10, 17, 9),
        target_date=date(2026, 10, 17),
    )
    PaidPlacementFactory(
        commissioner=council_a,
        request=urgent,
        requested_at=urgent.requested_at,
        sourced_at=utc(10, 15, 13),
        target_date=urgent.target_date,
    )
    PaidPlacementFactory(
        commissioner=council_a,
        source="imported",
        requested_at=utc(10, 1, 9),
        sourced_at=utc(10, 3, 9),
        target_date=date(2026, 10, 2),
    )
    PaidPlacementFactory(
        commissioner=council_a,
        source="imported",
        requested_at=None,
        sourced_at=utc(10, 20, 12),
        target_date=date(2026, 10, 25),
    )
    # Another body's discharge in the same month counts only for that body.
    sourced(council_b, broker_b, ready=utc(10, 5, 9), at=utc(10, 5, 10))
    return council_a


def cell(report, month: date, urgency: str):
    row = next(row for row in report.rows if row.month == month)
    return row.cells[[value for value, _ in report.urgencies].index(urgency)]


def test_the_discharge_figures_equal_the_hand_worked_example(worked_example):
    report = discharge(
        commissioner=worked_example, month_from=date(2026, 9, 1), month_to=date(2026, 11, 1), today=date(2026, 12, 7)
    )
    october = cell(report, date(2026, 10, 1), Urgency.HOSPITAL_DISCHARGE)
    assert (october.referrals, october.sourced) == (7, 6)
    assert (october.median_hours, october.p90_hours) == (Decimal("9.0"), Decimal("36.5"))
    assert (october.within_target, october.percent_within_target) == (4, Decimal("66.7"))
    assert october.delayed_days == 5
    september = cell(report, date(2026, 9, 1), Urgency.HOSPITAL_DISCHARGE)
    assert (september.referrals, september.sourced, september.median_hours, september.delayed_days) == (
        1,
        0,
        None,
        None,
    )
    november = cell(report, date(2026, 11, 1), Urgency.HOSPITAL_DISCHARGE)
    assert (november.referrals, november.sourced, november.median_hours, november.p90_hours) == (
        0,
        1,
        Decimal("1.5"),
        Decimal("1.5"),
    )
    assert (november.within_target, november.delayed_days) == (1, 1)

    urgent = cell(report, date(2026, 10, 1), Urgency.URGENT_COMMUNITY)
    assert (urgent.referrals, urgent.sourced, urgent.median_hours, urgent.p90_hours) == (
        1,
        1,
        Decimal("4.0"),
        Decimal("4.0"),
    )
    assert (urgent.percent_within_target, urgent.delayed_days) == (Decimal("100.0"), None)
    planned = cell(report, date(2026, 10, 1), Urgency.PLANNED)
    assert (planned.referrals, planned.sourced, planned.median_hours, planned.p90_hours) == (
        0,
        2,
        Decimal("48.0"),
        Decimal("48.0"),
    )
    assert (planned.within_target, planned.percent_within_target, planned.delayed_days) == (1, Decimal("50.0"), None)

    outcomes = dict(zip([value for value, _ in report.outcomes], october.outcomes, strict=True))
    assert outcomes == {"home": 0, "long_term_same_home": 1, "long_term_elsewhere": 0, "died": 0, "readmitted": 0}
    assert next(r for r in report.rows if r.month == date(2026, 11, 1)).outcomes == [1, 0, 0, 0, 0]
    assert report.reviews_overdue == 1


def test_the_api_csv_and_page_show_the_same_figures(worked_example, commissioner_a, as_user):
    client = as_user(commissioner_a)
    body = client.get("/api/v1/dashboards/discharge/?from=2026-09&to=2026-11").json()
    october = next(m for m in body["months"] if m["month"] == "2026-10")
    hospital = next(c for c in october["urgencies"] if c["urgency"] == "hospital_discharge")
    assert hospital == {
        "urgency": "hospital_discharge",
        "referrals": 7,
        "sourced": 6,
        "median_hours": "9.0",
        "p90_hours": "36.5",
        "within_target": 4,
        "percent_within_target": "66.7",
        "delayed_days": 5,
        "assessment_outcomes": {
            "home": 0,
            "long_term_same_home": 1,
            "long_term_elsewhere": 0,
            "died": 0,
            "readmitted": 0,
        },
    }
    response = client.get("/dashboards/discharge/?from=2026-09&to=2026-11&format=csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert "2026-10,Hospital discharge,7,6,9.0,36.5,4,66.7,5,0,1,0,0,0" in lines
    assert "2026-10,Planned,0,2,48.0,48.0,1,50.0,,0,0,0,0,0" in lines
    page = client.get("/dashboards/discharge/?from=2026-09&to=2026-11").content.decode()
    assert "36.5" in page and "4 (66.7%)" in page


def test_the_timeliness_dashboard_filters_by_urgency(worked_example, commissioner_a, as_user):
    client = as_user(commissioner_a)
    every = client.get("/api/v1/dashboards/timeliness/?from=2026-10&to=2026-10").json()
    urgent = client.get("/api/v1/dashboards/timeliness/?from=2026-10&to=2026-10&urgency=urgent_community").json()
    discharges = client.get("/api/v1/dashboards/timeliness/?from=2026-10&to=2026-10&urgency=hospital_discharge").json()
    planned = client.get("/api/v1/dashboards/timeliness/?from=2026-10&to=2026-10&urgency=planned").json()
    assert every["total"]["sourced"] == 9
    assert (urgent["urgency"], urgent["total"]["sourced"]) == ("urgent_community", 1)
    assert discharges["total"]["sourced"] == 6
    assert planned["total"]["sourced"] == 2
    bad = client.get("/api/v1/dashboards/timeliness/?urgency=soon")
    assert bad.status_code == 400
    assert "urgency" in bad.json()["errors"]
    page = client.get("/dashboards/timeliness/?from=2026-10&to=2026-10&urgency=soon")
    assert page.status_code == 400
    assert b"Select a valid choice" in page.content


def test_free_beds_show_by_area_and_kind_fresh_or_stale_for_the_bodys_open_homes(
    council_a, council_b, provider_a, commissioner_a, as_user
):
    from django.utils import timezone

    from .factories import AdmissionClosureFactory, BedVacancyFactory, admitted_home

    stafford = admitted_home(council_a, provider=provider_a, local_authority="Staffordshire")
    stoke = admitted_home(council_a, provider=provider_a, local_authority="Stoke-on-Trent")
    closed = admitted_home(council_a, provider=provider_a, local_authority="Staffordshire")
    elsewhere = admitted_home(council_b, provider=provider_a, local_authority="Staffordshire")
    now = timezone.now()
    BedVacancyFactory(care_home=stafford, beds=2, confirmed_at=now - timedelta(hours=2))
    BedVacancyFactory(care_home=stafford, beds=1, confirmed_at=now - timedelta(hours=30))
    BedVacancyFactory(care_home=stafford, lot=None, setting="nursing", room_type="shared", beds=1)
    BedVacancyFactory(care_home=stoke, beds=3, confirmed_at=now - timedelta(days=3))
    BedVacancyFactory(care_home=closed, beds=4)
    AdmissionClosureFactory(care_home=closed)
    BedVacancyFactory(care_home=elsewhere, beds=5)
    body = as_user(commissioner_a).get("/api/v1/dashboards/discharge/").json()["vacancies"]
    assert body["fresh_hours"] == 24
    rows = [
        (r["area"], r["setting"], r["room_type"], r["homes"], r["fresh_beds"], r["stale_beds"]) for r in body["rows"]
    ]
    assert rows == [
        ("Staffordshire", "Nursing", "Shared room", 1, 1, 0),
        ("Staffordshire", "Residential", "Single room", 1, 2, 1),
        ("Stoke-on-Trent", "Residential", "Single room", 1, 0, 3),
    ]
    page = as_user(commissioner_a).get("/dashboards/discharge/").content.decode()
    assert "3 stale" in page
