"""Who sees what: agreements, remittances and payment schedules on pages and the API."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from contracts.models import Uplift
from contracts.services import agreement_create_for_placement
from placements.models import Placement

from .factories import BlockContractFactory, CareHomeFactory, PaidPlacementFactory, lot

pytestmark = pytest.mark.django_db

D = Decimal
PERIOD = "2026-W15"  # Monday 6 to Sunday 12 April 2026


@pytest.fixture
def world(council_a, council_b, provider_a, provider_b, broker_a, broker_b):
    home_a = CareHomeFactory(provider=provider_a, name="Alder House")
    home_b = CareHomeFactory(provider=provider_b, name="Beech Court")
    start = dt.date(2026, 1, 5)
    a_at_a = PaidPlacementFactory(commissioner=council_a, care_home=home_a, case_reference="A-AT-A", start_date=start)
    a_at_b = PaidPlacementFactory(commissioner=council_a, care_home=home_b, case_reference="A-AT-B", start_date=start)
    b_at_a = PaidPlacementFactory(commissioner=council_b, care_home=home_a, case_reference="B-AT-A", start_date=start)
    BlockContractFactory(
        commissioner=council_a,
        care_home=home_b,
        reference="BLK-B",
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    return {
        "a_at_a": agreement_create_for_placement(placement=a_at_a, actor=broker_a),
        "a_at_b": agreement_create_for_placement(placement=a_at_b, actor=broker_a),
        "b_at_a": agreement_create_for_placement(placement=b_at_a, actor=broker_b),
    }


def test_a_provider_sees_only_its_own_agreements(as_user, provider_user_a, world):
    client = as_user(provider_user_a)

    listing = client.get(reverse("contracts:agreements")).content.decode()
    assert world["a_at_a"].reference in listing and world["b_at_a"].reference in listing
    assert world["a_at_b"].reference not in listing

    others = world["a_at_b"].pk
    assert client.get(reverse("contracts:agreement_detail", args=[others])).status_code == 404
    assert client.get(reverse("contracts:agreement_pdf", args=[others])).status_code == 404
    assert client.post(reverse("contracts:agreement_accept", args=[others])).status_code == 404
    csv_text = client.get(reverse("contracts:agreements") + "?format=csv").getvalue().decode()
    assert "A-AT-A" in csv_text and "A-AT-B" not in csv_text


def test_a_council_sees_only_its_own_agreements(as_user, broker_b, world):
    client = as_user(broker_b)
    listing = client.get(reverse("contracts:agreements")).content.decode()
    assert world["b_at_a"].reference in listing
    assert world["a_at_a"].reference not in listing
    assert client.get(reverse("contracts:agreement_detail", args=[world["a_at_a"].pk])).status_code == 404


def test_the_provider_accepts_in_the_portal_and_downloads_the_pdf(as_user, provider_user_a, world):
    agreement = world["a_at_a"]
    client = as_user(provider_user_a)
    page = client.get(reverse("contracts:agreement_detail", args=[agreement.pk])).content.decode()
    assert "Accept agreement" in page

    response = client.post(reverse("contracts:agreement_accept", args=[agreement.pk]))

    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.accepted_by == provider_user_a
    download = client.get(reverse("contracts:agreement_pdf", args=[agreement.pk]))
    assert download["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(download.content)).pages[0].extract_text()
    assert "Trentside Care Ltd" in text and "Staffordshire County Council" in text


def test_council_users_cannot_accept_agreements(as_user, broker_a, world):
    response = as_user(broker_a).post(reverse("contracts:agreement_accept", args=[world["a_at_a"].pk]))
    assert response.status_code == 403


def test_a_providers_remittance_shows_only_its_own_lines(as_user, provider_user_a, provider_user_b, world):
    url = reverse("contracts:payment_schedule") + f"?period={PERIOD}"
    page_a = as_user(provider_user_a).get(url).content.decode()
    assert "A-AT-A" in page_a and "B-AT-A" in page_a
    assert "A-AT-B" not in page_a and "BLK-B" not in page_a

    page_b = as_user(provider_user_b).get(url).content.decode()
    assert "A-AT-B" in page_b and "BLK-B/001" in page_b
    assert "A-AT-A" not in page_b and "B-AT-A" not in page_b


def test_a_councils_schedule_shows_only_its_own_placements(as_user, broker_b, world):
    page = as_user(broker_b).get(reverse("contracts:payment_schedule") + f"?period={PERIOD}").content.decode()
    assert "B-AT-A" in page
    assert "A-AT-A" not in page and "BLK-B" not in page


def test_finance_csv_has_the_documented_layout_and_reconciles(as_user, broker_a, world):
    response = as_user(broker_a).get(reverse("contracts:payment_schedule") + f"?period={PERIOD}&format=csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))

    assert list(rows[0]) == [
        "period_start",
        "period_end",
        "commissioner",
        "provider",
        "provider_cqc_id",
        "care_home",
        "cqc_location_id",
        "line_type",
        "reference",
        "placement_id",
        "lot",
        "from_date",
        "to_date",
        "days",
        "weekly_fee",
        "council_weekly",
        "top_up_weekly",
        "council_amount",
        "top_up_amount",
        "gross_amount",
        "top_up_payer",
        "note",
        "payer_type",
        "payer",
        "route",
        "weekly_amount",
        "percent_paid",
        "amount",
        "paid_to_home_by",
    ]
    lines = [row for row in rows if row["line_type"] in ("placement", "block_bed")]
    totals = [row for row in rows if row["line_type"] not in ("placement", "block_bed")]
    assert sorted(row["reference"] for row in lines) == ["A-AT-A", "A-AT-B", "BLK-B/001"]
    assert {row["period_start"] for row in rows} == {"2026-04-06"}
    assert sum(D(row["gross_amount"]) for row in lines) == D("2100.00")  # 3 x 700.00 for a full week
    assert {row["paid_to_home_by"] for row in lines} == {"Staffordshire County Council"}
    # The payer totals, then the schedule's total, each the sum of the lines above it.
    assert [row["line_type"] for row in totals] == ["payer_total", "schedule_total"]
    assert totals[0]["payer"] == "Staffordshire County Council" and totals[0]["amount"] == "2100.00"
    assert totals[-1]["gross_amount"] == "2100.00"


def test_a_bad_period_on_the_page_is_shown_as_an_error(as_user, broker_a, world):
    response = as_user(broker_a).get(reverse("contracts:payment_schedule") + "?period=next-week")
    assert response.status_code == 400
    assert "Enter a period like 2026-W15" in response.content.decode()


class TestPaymentScheduleApi:
    url = "/api/v1/payment-schedules/"

    def test_a_provider_client_gets_only_its_own_lines(self, api_as, provider_a, world):
        body = api_as(provider_a, scopes=["read"]).get(f"{self.url}?period={PERIOD}").json()
        references = [line["reference"] for line in body["results"]]
        assert sorted(references) == ["A-AT-A", "B-AT-A"]
        assert {line["provider"] for line in body["results"]} == {"Trentside Care Ltd"}
        assert {r["provider"] for r in body["remittances"]} == {"Trentside Care Ltd"}
        totals = body["totals"]
        assert {key: totals[key] for key in ("council", "top_up", "gross")} == {
            "council": "1400.00",
            "top_up": "0.00",
            "gross": "1400.00",
        }
        assert totals["council_pays"] == "1400.00" and totals["to_collect"] == "0.00"
        # Two councils place with this provider: each pays its own placement.
        assert [(p["payer_type"], p["amount"]) for p in totals["by_payer"]] == [
            ("council", "700.00"),
            ("council", "700.00"),
        ]

    def test_a_council_client_gets_its_own_bodys_schedule(self, api_as, council_a, world):
        body = api_as(council_a, scopes=["read"]).get(f"{self.url}?period={PERIOD}/4").json()
        assert body["period"] == {"label": "2026-W15/4", "start": "2026-04-06", "end": "2026-05-03", "days": 28}
        references = sorted(line["reference"] for line in body["results"])
        assert references == ["A-AT-A", "A-AT-B", "BLK-B/001"]
        assert body["totals"]["gross"] == "8400.00"
        assert body["next"] is None and body["previous"] is None
        for remittance in body["remittances"]:
            lines = [
                line
                for line in body["results"]
                if (line["commissioner"], line["provider"]) == (remittance["commissioner"], remittance["provider"])
            ]
            assert D(remittance["totals"]["gross"]) == sum(D(line["gross_amount"]) for line in lines)

    def test_the_schedule_reads_a_fixed_number_of_queries(
        self, api_as, council_a, world, django_assert_max_num_queries
    ):
        caller = api_as(council_a, scopes=["read"])
        home = CareHomeFactory()
        for n in range(10):
            PaidPlacementFactory(commissioner=council_a, care_home=home, case_reference=f"MORE-{n}")
        with django_assert_max_num_queries(13):
            response = caller.get(f"{self.url}?period={PERIOD}")
        assert response.status_code == 200

    def test_a_missing_or_bad_period_is_a_problem_response(self, api_as, council_a):
        response = api_as(council_a, scopes=["read"]).get(f"{self.url}?period=2026-15")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert "period" in response.json()["errors"]

    def test_agreements_api_is_scoped_to_the_provider(self, api_as, provider_b, world):
        body = api_as(provider_b, scopes=["read"]).get("/api/v1/service-agreements/").json()
        assert [a["reference"] for a in body["results"]] == [world["a_at_b"].reference]
        other = api_as(provider_b, scopes=["read"]).get(f"/api/v1/service-agreements/{world['a_at_a'].pk}/")
        assert other.status_code == 404


UPLIFT_FROM = timezone.localdate() + dt.timedelta(days=7)


class TestUpliftPages:
    def test_a_commissioner_defines_previews_and_applies_an_uplift(
        self, as_user, commissioner_a, world, django_capture_on_commit_callbacks
    ):
        client = as_user(commissioner_a)
        response = client.post(
            reverse("contracts:uplift_new"),
            {
                "name": "April 2026",
                "basis": "real_living_wage",
                "basis_note": "RLW 2026",
                "effective_from_0": str(UPLIFT_FROM.day),
                "effective_from_1": str(UPLIFT_FROM.month),
                "effective_from_2": str(UPLIFT_FROM.year),
                "group_older_people": "5",
            },
        )
        assert response.status_code == 302, response.content.decode()
        uplift = Uplift.objects.get()
        page = client.get(response["Location"]).content.decode()
        # Two of council A's placements are live on 6 April: 2 x 700.00 -> 2 x 735.00.
        assert "2 placements would change: weekly cost from £1,400.00 to £1,470.00" in page

        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            client.post(reverse("contracts:uplift_apply", args=[uplift.pk]))

        uplift.refresh_from_db()
        assert uplift.status == Uplift.Status.QUEUED
        assert len(callbacks) == 1
        assert Placement.objects.filter(weekly_fee=D("735.00")).count() == 0, "applied by the task, not the page"

    def test_brokers_see_uplifts_but_cannot_define_or_apply_them(self, as_user, broker_a, commissioner_a):
        from contracts.services import uplift_create

        uplift = uplift_create(
            actor=commissioner_a,
            name="April",
            basis="other",
            effective_from=UPLIFT_FROM,
            rules=[{"lot": lot(1), "percentage": D("2")}],
        )
        client = as_user(broker_a)
        assert client.get(reverse("contracts:uplifts")).status_code == 200
        assert client.get(reverse("contracts:uplift_new")).status_code == 403
        assert client.post(reverse("contracts:uplift_apply", args=[uplift.pk])).status_code == 403

    def test_another_councils_uplift_is_not_found(self, as_user, commissioner_a, commissioner_b):
        from contracts.services import uplift_create

        uplift = uplift_create(
            actor=commissioner_a,
            name="April",
            basis="other",
            effective_from=UPLIFT_FROM,
            rules=[{"lot": lot(1), "percentage": D("2")}],
        )
        assert as_user(commissioner_b).get(reverse("contracts:uplift_detail", args=[uplift.pk])).status_code == 404


def test_every_contracts_page_renders_for_its_roles(as_user, commissioner_a, broker_a, provider_user_a, world):
    commissioner = as_user(commissioner_a)
    for name in ("contracts:uplifts", "contracts:uplift_new", "contracts:agreements", "contracts:payment_schedule"):
        assert commissioner.get(reverse(name)).status_code == 200, name
    assert "Define a fee uplift" in commissioner.get(reverse("contracts:uplift_new")).content.decode()
    agreement = world["a_at_a"]
    for user in (broker_a, provider_user_a):
        client = as_user(user)
        assert client.get(reverse("contracts:agreement_detail", args=[agreement.pk])).status_code == 200
        assert client.get(reverse("contracts:agreement_pdf", args=[agreement.pk])).content.startswith(b"%PDF")
        assert client.get(reverse("contracts:payment_schedule")).status_code == 200
    assert as_user(provider_user_a).get(reverse("contracts:uplifts")).status_code == 403


def test_a_broker_records_a_fee_change_and_the_end_on_the_agreement_page(as_user, broker_a, world):
    agreement = world["a_at_a"]
    client = as_user(broker_a)
    response = client.post(
        reverse("contracts:fee_change", args=[agreement.pk]),
        {
            "effective_from_0": "4",
            "effective_from_1": "5",
            "effective_from_2": "2026",
            "council_weekly_amount": "760.00",
            "top_up_weekly_amount": "15.00",
            "note": "Reassessed",
        },
    )
    assert response.status_code == 302
    current = agreement.placement.agreements.get(is_current=True)
    assert (current.version, current.weekly_fee, current.top_up_weekly_amount) == (2, D("775.00"), D("15.00"))

    refused = client.post(
        reverse("contracts:placement_end", args=[current.pk]),
        {"end_date_0": "1", "end_date_1": "1", "end_date_2": "2025", "reason": "Moved"},
    )
    assert "Enter a date on or after the start." in refused.content.decode()
    client.post(
        reverse("contracts:placement_end", args=[current.pk]),
        {"end_date_0": "31", "end_date_1": "5", "end_date_2": "2026", "reason": "Moved"},
    )
    latest = agreement.placement.agreements.get(is_current=True)
    assert (latest.version, latest.end_date) == (3, dt.date(2026, 5, 31))


def test_providers_and_other_councils_cannot_change_fees(as_user, provider_user_a, broker_b, world):
    agreement = world["a_at_a"]
    assert as_user(provider_user_a).get(reverse("contracts:fee_change", args=[agreement.pk])).status_code == 403
    assert as_user(broker_b).get(reverse("contracts:fee_change", args=[agreement.pk])).status_code == 404
