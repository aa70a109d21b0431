"""The published tables reproduced from placements: timeliness (Table 2) and client groups (Table 1)."""

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from lots.models import Lot
from placements.models import Placement

DATA = Path(__file__).parent / "data"
LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
LOTS_BY_GROUP = {
    "Older people": [1, 2, 6, 7],
    "Physical disability": [4, 9],
    "Learning disability": [3, 8],
    "Adult mental health": [5, 10],
}
# Table 1 of the council's cabinet report (January 2024): in county, out of county, total.
TABLE_1 = {
    "Older people": (2291, 441, 2732),
    "Physical disability": (98, 53, 151),
    "Learning disability": (244, 157, 401),
    "Adult mental health": (61, 27, 88),
    "Total": (2694, 678, 3372),
}


def placement(commissioner, lot_number, *, sourced_at, target_date, start_date=None, end_date=None, **extra):
    fee = extra.pop("weekly_fee", Decimal("850.00"))
    return Placement(
        commissioner=commissioner,
        case_reference=extra.pop("case_reference", "CASE"),
        lot_id=_lot_ids()[lot_number],
        source=Placement.Source.IMPORTED,
        weekly_fee=fee,
        council_weekly_amount=fee,
        top_up_weekly_amount=Decimal("0.00"),
        start_date=start_date or sourced_at.astimezone(LONDON).date(),
        end_date=end_date,
        in_county=extra.pop("in_county", True),
        requested_at=sourced_at - timedelta(days=3),
        target_date=target_date,
        sourced_at=sourced_at,
    )


def _lot_ids() -> dict[int, int]:
    return dict(Lot.objects.values_list("number", "pk"))


def published_table_2() -> dict:
    with open(DATA / "seed_table2_published.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {row.pop("month"): row for row in rows}


def build_table_2(commissioner) -> None:
    """Placements whose counts (derived once to fit every published figure) are in the data file."""
    placements = []
    with open(DATA / "seed_table2_counts.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            year, month = map(int, row["month"].split("-"))
            for index in range(int(row["sourced"])):
                day = date(year, month, 1 + index % 28)
                sourced_at = datetime.combine(day, time(10, 30), tzinfo=LONDON)
                on_time = index < int(row["within_target"])
                target = day + timedelta(days=index % 3) if on_time else day - timedelta(days=1 + index % 4)
                placements.append(placement(commissioner, int(row["lot"]), sourced_at=sourced_at, target_date=target))
    Placement.objects.bulk_create(placements, batch_size=2000)


def as_published(value) -> str:
    return "" if value is None else value


@pytest.mark.django_db
def test_timeliness_api_and_command_reproduce_every_cell_of_the_published_table(council_a, commissioner_a, as_user):
    build_table_2(council_a)
    published = published_table_2()

    response = as_user(commissioner_a).get("/api/v1/dashboards/timeliness/?from=2022-08&to=2024-01")

    assert response.status_code == 200
    body = response.json()
    assert [m["month"] for m in body["months"]] == [m for m in published if m != "total"]
    for month in body["months"]:
        expected = published[month["month"]]
        got = {f"lot_{cell['lot']}": as_published(cell["percent"]) for cell in month["lots"]}
        got["total"] = month["total"]["percent"]
        assert got == expected, month["month"]
    totals = {f"lot_{cell['lot']}": cell["percent"] for cell in body["lot_totals"]}
    totals["total"] = body["total"]["percent"]
    assert totals == published["total"]

    out = io.StringIO()
    call_command(
        "export_dashboard",
        "timeliness",
        "--from",
        "2022-08",
        "--to",
        "2024-01",
        "--format",
        "json",
        "--commissioner",
        council_a.slug,
        stdout=out,
    )
    assert json.loads(out.getvalue()) == body


@pytest.mark.django_db
def test_timeliness_cells_count_placements_and_leave_empty_cells_blank(council_a, commissioner_a, as_user):
    build_table_2(council_a)

    body = as_user(commissioner_a).get("/api/v1/dashboards/timeliness/?from=2022-08&to=2022-12").json()

    august = {cell["lot"]: cell for cell in body["months"][0]["lots"]}
    assert august[1] == {"lot": 1, "sourced": 40, "within_target": 31, "percent": "77.5"}
    assert august[4] == {"lot": 4, "sourced": 3, "within_target": 1, "percent": "33.3"}
    september = {cell["lot"]: cell for cell in body["months"][1]["lots"]}
    assert september[5]["percent"] == "0.0" and september[5]["sourced"] > 0
    december = {cell["lot"]: cell for cell in body["months"][4]["lots"]}
    assert december[9] == {"lot": 9, "sourced": 0, "within_target": 0, "percent": None}
    month_total = body["months"][0]["total"]
    assert month_total["sourced"] == sum(cell["sourced"] for cell in body["months"][0]["lots"])
    assert body["total"]["sourced"] == sum(m["total"]["sourced"] for m in body["months"])


@pytest.mark.django_db
def test_timeliness_csv_export_matches_the_table(council_a, commissioner_a, as_user):
    build_table_2(council_a)

    response = as_user(commissioner_a).get("/dashboards/timeliness/?from=2022-08&to=2024-01&format=csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["month", "lot 1 sourced", "lot 1 within target", "lot 1 %"]
    assert body[0][:4] == ["2022-08", "40", "31", "77.5"]
    assert body[-1][0] == "total" and body[-1][-1] == "82.3"


@pytest.mark.django_db
def test_months_follow_europe_london_at_the_clock_changes(council_a, commissioner_a, as_user):
    october_night = datetime(2023, 10, 31, 23, 30, tzinfo=UTC)  # GMT: still 31 October in London
    july_night = datetime(2023, 7, 31, 23, 30, tzinfo=UTC)  # BST: already 1 August in London
    Placement.objects.bulk_create(
        [
            placement(council_a, 1, sourced_at=october_night, target_date=date(2023, 10, 31)),
            placement(council_a, 1, sourced_at=july_night, target_date=date(2023, 7, 31)),
        ]
    )

    body = as_user(commissioner_a).get("/api/v1/dashboards/timeliness/?from=2023-07&to=2023-11").json()

    lot_1 = {month["month"]: month["lots"][0] for month in body["months"]}
    assert lot_1["2023-07"]["sourced"] == 0
    # Sourced on 1 August in London, a day after its target date.
    assert lot_1["2023-08"] == {"lot": 1, "sourced": 1, "within_target": 0, "percent": "0.0"}
    assert lot_1["2023-10"] == {"lot": 1, "sourced": 1, "within_target": 1, "percent": "100.0"}
    assert lot_1["2023-11"]["sourced"] == 0


@pytest.mark.django_db
def test_percentages_round_half_up(council_a, commissioner_a, as_user):
    # 1 of 16 is exactly 6.25%: half up gives 6.3 where half to even (and float rounding) give 6.2.
    sourced_at = datetime(2023, 3, 10, 12, 0, tzinfo=LONDON)
    rows = [
        placement(council_a, 1, sourced_at=sourced_at, target_date=date(2023, 3, 10 if i < 1 else 9)) for i in range(16)
    ]
    Placement.objects.bulk_create(rows)

    body = as_user(commissioner_a).get("/api/v1/dashboards/timeliness/?from=2023-03&to=2023-03").json()

    assert body["months"][0]["lots"][0]["percent"] == "6.3"


@pytest.mark.django_db
def test_timeliness_page_highlights_cells_below_the_bodys_target(council_a, commissioner_a, as_user):
    council_a.timeliness_target_percent = Decimal("80.0")
    council_a.save()
    sourced_at = datetime(2023, 3, 10, 12, 0, tzinfo=LONDON)
    rows = [placement(council_a, 1, sourced_at=sourced_at, target_date=date(2023, 3, 10)) for _ in range(3)]
    rows.append(placement(council_a, 1, sourced_at=sourced_at, target_date=date(2023, 3, 1)))
    rows.append(placement(council_a, 2, sourced_at=sourced_at, target_date=date(2023, 3, 10)))
    Placement.objects.bulk_create(rows)

    response = as_user(commissioner_a).get("/dashboards/timeliness/?from=2023-03&to=2023-03")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'app-below-target">75.0%<span class="govuk-visually-hidden"> (below target)' in html
    assert '">100.0%<br>' in html
    charts = Lot.objects.count() + 1
    # One small chart per lot and one for all lots, each with the body's own target (not the default 75%) as a
    # dashed line at 80% of its height (y = 12 + 138 * 0.2) and said in words.
    assert html.count('role="img"') == charts
    assert html.count('class="app-chart__target"') == charts
    assert html.count('y1="39.6" y2="39.6" stroke="#d4351c"') == charts
    assert html.count("<title>Target 80%</title>") == charts
    assert "the dashed line is the target of 80%." in html
    assert "Lot 1: Older people residential: percentage of placements sourced within target each month. " in html
    assert "1 of 1 months with placements below the 80% target" in html
    assert "Download as CSV" in html


@pytest.mark.django_db
def test_timeliness_rejects_a_range_that_ends_before_it_starts(commissioner_a, as_user):
    response = as_user(commissioner_a).get("/api/v1/dashboards/timeliness/?from=2023-05&to=2023-01")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "to" in response.json()["errors"]


@pytest.mark.django_db
def test_placements_by_client_group_reproduces_the_published_table(council_a, commissioner_a, as_user):
    at = date(2024, 1, 31)
    rows = []
    for group, lots in LOTS_BY_GROUP.items():
        in_county, out_of_county, _ = TABLE_1[group]
        for index in range(in_county + out_of_county):
            lot_number = lots[index % len(lots)]
            rows.append(
                placement(
                    council_a,
                    lot_number,
                    sourced_at=datetime(2023, 6, 1, 9, tzinfo=LONDON),
                    target_date=date(2023, 6, 1),
                    start_date=date(2020, 1, 1) + timedelta(days=index % 1400),
                    end_date=None if index % 3 else at,
                    in_county=index < in_county,
                )
            )
    # Not active on the day: ended the day before, or starting the day after.
    for lot_number in (1, 4):
        rows.append(
            placement(
                council_a,
                lot_number,
                sourced_at=datetime(2023, 6, 1, 9, tzinfo=LONDON),
                target_date=date(2023, 6, 1),
                start_date=date(2023, 1, 1),
                end_date=at - timedelta(days=1),
            )
        )
        rows.append(
            placement(
                council_a,
                lot_number,
                sourced_at=datetime(2024, 1, 30, 9, tzinfo=LONDON),
                target_date=date(2024, 1, 30),
                start_date=at + timedelta(days=1),
            )
        )
    Placement.objects.bulk_create(rows, batch_size=2000)

    body = as_user(commissioner_a).get("/api/v1/dashboards/placements-by-client-group/?at=2024-01-31").json()

    got = {row["label"]: (row["in_county"], row["out_of_county"], row["total"]) for row in body["client_groups"]}
    got["Total"] = (body["total"]["in_county"], body["total"]["out_of_county"], body["total"]["total"])
    assert got == TABLE_1
    assert list(got) == list(TABLE_1)

    out = io.StringIO()
    call_command(
        "export_dashboard",
        "placements-by-client-group",
        "--at",
        "2024-01-31",
        "--format",
        "json",
        "--commissioner",
        council_a.slug,
        stdout=out,
    )
    assert json.loads(out.getvalue()) == body

    out = io.StringIO()
    call_command(
        "export_dashboard",
        "placements-by-client-group",
        "--at",
        "2024-01-31",
        "--commissioner",
        council_a.slug,
        stdout=out,
    )
    assert out.getvalue().splitlines()[-1] == "Total,2694,678,3372"
