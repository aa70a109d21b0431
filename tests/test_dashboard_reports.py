"""The other dashboards: weekly cost, CQC rating mix, bids per tender, market view, at-risk requests, block beds."""

import io
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from bidding.models import Award, Bid, Tender
from contracts.services import fee_change_record
from lots.models import LotRules
from placements.models import Placement, PlacementRequest
from providers.models import Admission

from .factories import (
    AdmissionFactory,
    BidFactory,
    BlockContractFactory,
    CareHomeFactory,
    InvitationFactory,
    PlacementRequestFactory,
    TenderFactory,
    lot,
)

LONDON = ZoneInfo("Europe/London")


def make_placement(commissioner, lot_number, fee, start, end=None, **extra):
    return Placement(
        commissioner=commissioner,
        case_reference=extra.get("case_reference", "CASE"),
        lot=lot(lot_number),
        source=Placement.Source.IMPORTED,
        weekly_fee=Decimal(fee),
        council_weekly_amount=Decimal(fee),
        start_date=start,
        end_date=end,
        in_county=True,
        target_date=start,
        sourced_at=datetime.combine(start, datetime.min.time(), tzinfo=LONDON),
    )


def closed_tender(commissioner, lot_number, *, closes_at, status=Tender.Status.EVALUATED, **request_fields):
    request = PlacementRequestFactory(
        commissioner=commissioner, lot=lot(lot_number), status=PlacementRequest.Status.TENDERING, **request_fields
    )
    return TenderFactory(
        request=request,
        opened_at=closes_at - timedelta(hours=48),
        closes_at=closes_at,
        closed_at=closes_at if status != Tender.Status.OPEN else None,
        status=status,
    )


def bid(tender, fee, *, local_authority="Staffordshire", status=Bid.Status.SUBMITTED):
    home = CareHomeFactory(local_authority=local_authority)
    return BidFactory(
        invitation=InvitationFactory(tender=tender, care_home=home), weekly_fee=Decimal(fee), status=status
    )


def api(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_mean_weekly_cost_averages_placements_active_in_each_month(council_a, commissioner_a, as_user):
    Placement.objects.bulk_create(
        [
            make_placement(council_a, 1, "800.00", date(2023, 1, 10), date(2023, 2, 5)),
            make_placement(council_a, 2, "900.00", date(2023, 2, 20)),
            make_placement(council_a, 6, "1000.01", date(2023, 3, 1)),
            make_placement(council_a, 3, "1500.00", date(2022, 12, 1), date(2022, 12, 31)),
            make_placement(council_a, 8, "1700.00", date(2023, 1, 31), date(2023, 1, 31)),
            # Imported history with no known fee is stored at zero and left out.
            make_placement(council_a, 1, "0.00", date(2023, 1, 1)),
        ]
    )

    body = api(as_user(commissioner_a), "/api/v1/dashboards/mean-weekly-cost/?from=2023-01&to=2023-03")

    older = [month["client_groups"][0] for month in body["months"]]
    assert [o["mean_weekly_cost"] for o in older] == ["800.00", "850.00", "950.01"]  # 950.005 rounds up
    assert [o["placements"] for o in older] == [1, 2, 2]
    learning = [month["client_groups"][2] for month in body["months"]]
    assert [lg["mean_weekly_cost"] for lg in learning] == ["1700.00", None, None]
    assert body["months"][0]["total"] == {"placements": 2, "mean_weekly_cost": "1250.00"}


@pytest.mark.django_db
def test_mean_weekly_cost_counts_each_fee_change_from_the_month_it_takes_effect(
    council_a, broker_a, commissioner_a, as_user
):
    first = make_placement(council_a, 1, "800.00", date(2023, 1, 10))
    second = make_placement(council_a, 1, "1000.00", date(2023, 1, 2), date(2023, 3, 10))
    Placement.objects.bulk_create([first, second])
    # From 1 March the first costs 880; the second's change on 20 March comes after it ended.
    fee_change_record(
        placement=first, actor=broker_a, effective_from=date(2023, 3, 1), council_weekly_amount=Decimal("880.00")
    )
    fee_change_record(
        placement=second, actor=broker_a, effective_from=date(2023, 2, 15), council_weekly_amount=Decimal("1100.00")
    )

    body = api(as_user(commissioner_a), "/api/v1/dashboards/mean-weekly-cost/?from=2023-01&to=2023-04")

    older = [month["client_groups"][0] for month in body["months"]]
    # January 800 and 1000; February 800 and 1100; March 880 and 1100 (its last day, the 10th);
    # April 880 alone.
    assert [o["mean_weekly_cost"] for o in older] == ["900.00", "950.00", "990.00", "880.00"]
    assert [o["placements"] for o in older] == [2, 2, 2, 1]


@pytest.mark.django_db
def test_rating_mix_counts_admitted_homes_by_setting_and_share_outstanding_or_good(
    council_a, council_b, commissioner_a, as_user
):
    residential = [CareHomeFactory(rating=r) for r in ("Outstanding", "Good", "Requires improvement")]
    residential.append(CareHomeFactory())
    nursing = [
        CareHomeFactory(rating=r, provides_residential=False, provides_nursing=True) for r in ("Good", "Inadequate")
    ]
    for home in residential + nursing:
        AdmissionFactory(commissioner=council_a, care_home=home, lot=lot(1))
    AdmissionFactory(commissioner=council_a, care_home=residential[0], lot=lot(2))
    AdmissionFactory(commissioner=council_b, care_home=CareHomeFactory(rating="Outstanding"), lot=lot(1))
    AdmissionFactory(
        commissioner=council_a, care_home=CareHomeFactory(rating="Good"), lot=lot(1), status=Admission.Status.APPLIED
    )

    body = api(as_user(commissioner_a), "/api/v1/dashboards/rating-mix/")

    res, nur = body["settings"]
    assert res["homes"] == 4 and res["rated"] == 3 and res["outstanding_or_good"] == 2
    assert res["percent_outstanding_or_good"] == "66.7"
    assert res["ratings"] == {
        "Outstanding": 1,
        "Good": 1,
        "Requires improvement": 1,
        "Inadequate": 0,
        "Not yet rated": 1,
    }
    assert (nur["homes"], nur["percent_outstanding_or_good"]) == (2, "50.0")
    page = as_user(commissioner_a).get("/dashboards/rating-mix/").content.decode()
    assert ">Requires improvement</th>" in page and "66.7%" in page


@pytest.mark.django_db
def test_bids_per_tender_and_no_bid_rate_by_lot_count_closed_tenders_only(council_a, commissioner_a, as_user):
    closes = datetime(2023, 6, 15, 12, tzinfo=LONDON)
    first = closed_tender(council_a, 1, closes_at=closes)
    bid(first, "800.00")
    bid(first, "820.00")
    bid(first, "830.00", status=Bid.Status.WITHDRAWN)
    closed_tender(council_a, 1, closes_at=closes, status=Tender.Status.NO_BIDS)
    bid(closed_tender(council_a, 2, closes_at=closes), "900.00")
    bid(closed_tender(council_a, 1, closes_at=timezone.now() + timedelta(days=1), status=Tender.Status.OPEN), "700.00")
    closed_tender(council_a, 1, closes_at=datetime(2023, 8, 1, 12, tzinfo=LONDON))

    body = api(as_user(commissioner_a), "/api/v1/dashboards/bids-per-tender/?from=2023-06&to=2023-07")

    lots = {row["lot"]: row for row in body["lots"]}
    assert lots[1] == {
        "lot": 1,
        "tenders": 2,
        "bids": 2,
        "bids_per_tender": "1.0",
        "no_bid_tenders": 1,
        "no_bid_percent": "50.0",
    }
    assert lots[2]["no_bid_percent"] == "0.0" and lots[2]["bids"] == 1
    assert lots[3]["tenders"] == 0 and lots[3]["no_bid_percent"] is None
    assert body["total"] == {
        "tenders": 3,
        "bids": 3,
        "bids_per_tender": "1.0",
        "no_bid_tenders": 1,
        "no_bid_percent": "33.3",
    }


@pytest.mark.django_db
def test_market_view_shows_closed_tenders_bids_and_awards_against_the_guide_fee_never_open_bids(
    council_a, commissioner_a, broker_a, as_user
):
    LotRules.objects.filter(commissioner=council_a, lot__number=1).update(guide_weekly_fee=Decimal("860.00"))
    closes = datetime(2023, 6, 15, 12, tzinfo=LONDON)
    tender = closed_tender(council_a, 1, closes_at=closes, status=Tender.Status.AWARDED)
    bids = [bid(tender, fee) for fee in ("800.00", "850.00", "900.00", "1000.00")]
    Award.objects.create(tender=tender, bid=bids[1], awarded_by=broker_a, top_ranked=True)
    bid(closed_tender(council_a, 1, closes_at=closes), "780.00", local_authority="Derby")
    open_tender = closed_tender(council_a, 1, closes_at=timezone.now() + timedelta(days=1), status=Tender.Status.OPEN)
    bid(open_tender, "4321.00")

    response = as_user(commissioner_a).get("/api/v1/dashboards/market/?from=2023-06&to=2023-06")

    assert not re.search(r"(?<![\d.])4321(?!\d)", response.content.decode()), "no open bid's amount"
    rows = {(row["lot"], row["area"]): row for row in response.json()["rows"]}
    assert set(rows) == {(1, "Derby"), (1, "Staffordshire")}
    staffs = rows[(1, "Staffordshire")]
    assert staffs["guide_weekly_fee"] == "860.00"
    assert staffs["bids"] == {
        "count": 4,
        "min": "800.00",
        "lower_quartile": "837.50",
        "median": "875.00",
        "upper_quartile": "925.00",
        "max": "1000.00",
    }
    assert staffs["bids_above_guide_fee"] == 2
    assert staffs["awarded"]["count"] == 1 and staffs["awarded"]["median"] == "850.00"
    assert staffs["awards_above_guide_fee"] == 0
    page = as_user(commissioner_a).get("/dashboards/market/?from=2023-06&to=2023-06").content.decode()
    assert "£875.00" in page and "4321" not in page


@pytest.mark.django_db
def test_at_risk_lists_open_unsourced_requests_near_or_past_target_with_the_reason(
    council_a, council_b, broker_a, as_user
):
    today = timezone.localdate()
    now = timezone.now()

    def request(reference, days, status=PlacementRequest.Status.TENDERING, commissioner=council_a):
        return PlacementRequestFactory(
            commissioner=commissioner, case_reference=reference, target_date=today + timedelta(days=days), status=status
        )

    request("NEW-LATE", -1, status=PlacementRequest.Status.NEW)
    quiet = request("OPEN-QUIET", 1)
    TenderFactory(request=quiet, opened_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=20))
    busy = request("OPEN-BUSY", 0)
    bid(TenderFactory(request=busy, opened_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=5)), "900.00")
    waiting = request("CLOSED-WAITING", -3)
    TenderFactory(
        request=waiting,
        opened_at=now - timedelta(days=3),
        closes_at=now - timedelta(days=1),
        closed_at=now - timedelta(days=1),
        status=Tender.Status.EVALUATED,
    )
    request("LATER", 10)
    request("PLACED", -5, status=PlacementRequest.Status.PLACED)
    request("CANCELLED", -5, status=PlacementRequest.Status.CANCELLED)
    request("OTHER-COUNCIL", -5, commissioner=council_b)

    body = api(as_user(broker_a), "/api/v1/dashboards/at-risk/")

    got = [(r["case_reference"], r["days_to_target"], r["reason"]) for r in body["requests"]]
    assert got == [
        ("CLOSED-WAITING", -3, "Window closed, awaiting award"),
        ("NEW-LATE", -1, "Not yet out to tender"),
        ("OPEN-BUSY", 0, "Window still open"),
        ("OPEN-QUIET", 1, "Window still open, no bids yet"),
    ]
    page = as_user(broker_a).get("/dashboards/at-risk/").content.decode()
    assert "3 days overdue" in page and "Due today" in page and "OTHER-COUNCIL" not in page
    wider = api(as_user(broker_a), "/api/v1/dashboards/at-risk/?within_days=10")
    assert "LATER" in [r["case_reference"] for r in wider["requests"]]


@pytest.mark.django_db
def test_block_bed_utilisation_panel_reports_the_bodys_contracts(council_a, commissioner_a, commissioner_b, as_user):
    BlockContractFactory(commissioner=council_a, beds=3)

    mine = api(as_user(commissioner_a), "/api/v1/dashboards/block-bed-utilisation/")
    theirs = api(as_user(commissioner_b), "/api/v1/dashboards/block-bed-utilisation/")

    assert mine["contracted"] == 3 and mine["live"] == 3 and mine["void"] == 3
    assert theirs["contracted"] == 0
    page = as_user(commissioner_a).get("/dashboards/block-bed-utilisation/").content.decode()
    assert "Occupancy of live block-booked beds by month" in page


@pytest.mark.django_db
def test_every_dashboard_exports_csv_and_json_from_the_command(council_a):
    for name in (
        "timeliness",
        "placements-by-client-group",
        "mean-weekly-cost",
        "rating-mix",
        "bids-per-tender",
        "market",
        "at-risk",
        "block-bed-utilisation",
    ):
        as_csv, as_json = io.StringIO(), io.StringIO()
        call_command("export_dashboard", name, "--commissioner", council_a.slug, stdout=as_csv)
        call_command("export_dashboard", name, "--commissioner", council_a.slug, "--format", "json", stdout=as_json)
        assert as_csv.getvalue().splitlines(), name
        assert isinstance(json.loads(as_json.getvalue()), dict), name


@pytest.mark.django_db
def test_export_command_refuses_bad_filters(council_a):
    with pytest.raises(CommandError, match="Enter a month"):
        call_command("export_dashboard", "timeliness", "--from", "2023-13", "--commissioner", council_a.slug)
    with pytest.raises(CommandError, match="takes no --at"):
        call_command("export_dashboard", "timeliness", "--at", "2023-01-01", "--commissioner", council_a.slug)
