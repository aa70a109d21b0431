"""Conventions every API operation shares: JSON bodies only, one cursor pagination style,
`Location` on 201, the RateLimit fields, and downloads (PDF, CSV) chosen by `Accept`."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from pypdf import PdfReader

from bidding.models import Bid
from contracts.services import agreement_create_for_placement

from .factories import (
    BidFactory,
    CareHomeFactory,
    InvitationFactory,
    PaidPlacementFactory,
    PlacementRequestFactory,
    TenderFactory,
    admitted_home,
)

pytestmark = pytest.mark.django_db

PERIOD = "2026-W15"


@pytest.fixture(autouse=True)
def fresh_budgets():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def schema(api_as, council_a):
    return (
        api_as(council_a, scopes=["read"]).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    )


@pytest.fixture
def open_tender(council_a, broker_a, provider_a):
    home = admitted_home(council_a, provider=provider_a, name="Brook House")
    tender = TenderFactory(request=PlacementRequestFactory(commissioner=council_a, created_by=broker_a))
    return tender, InvitationFactory(tender=tender, care_home=home)


# --- JSON request bodies only ------------------------------------------------------------------


def test_every_request_body_in_the_schema_is_json_only(schema):
    bodies = {
        f"{method.upper()} {path}": sorted(operation["requestBody"]["content"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }
    assert bodies
    assert all(media == ["application/json"] for media in bodies.values()), bodies


def test_a_patch_of_the_fee_alone_works_as_json(api_as, provider_a, open_tender):
    tender, invitation = open_tender
    bid = BidFactory(invitation=invitation, weekly_fee=Decimal("850.00"), needs_confirmed=True)

    response = api_as(provider_a, scopes=["bids"]).patch(
        f"/api/v1/tenders/{tender.pk}/bids/{bid.pk}/", {"weekly_fee": "835.00"}
    )

    assert response.status_code == 200
    bid.refresh_from_db()
    assert bid.weekly_fee == Decimal("835.00")
    assert bid.needs_confirmed is True


def test_form_and_multipart_bodies_get_415_and_change_nothing(api_as, provider_a, open_tender):
    tender, invitation = open_tender
    bid = BidFactory(invitation=invitation, weekly_fee=Decimal("850.00"))
    caller = api_as(provider_a, scopes=["bids"])
    url = f"/api/v1/tenders/{tender.pk}/bids/{bid.pk}/"

    form = caller.http.patch(url, "weekly_fee=835.00", content_type="application/x-www-form-urlencoded")
    multipart = caller.http.post(
        f"/api/v1/tenders/{tender.pk}/bids/",
        {"care_home": invitation.care_home_id, "weekly_fee": "800.00", "earliest_start": "2030-01-01"},
    )

    assert form.status_code == 415
    assert form["Content-Type"] == "application/problem+json"
    assert multipart.status_code == 415
    bid.refresh_from_db()
    assert bid.weekly_fee == Decimal("850.00")
    assert Bid.objects.count() == 1


# --- One pagination style ----------------------------------------------------------------------


def test_every_list_is_cursor_paged_with_a_documented_page_size(schema):
    lists, wrong = [], []
    for path, item in schema["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        names = {p["name"] for p in operation.get("parameters", [])}
        if "page" in names or "offset" in names:
            wrong.append(f"{path}: numbered pages")
        if "cursor" in names:
            lists.append(path)
            page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")
            if "200" not in page_size.get("description", ""):
                wrong.append(f"{path}: page_size not documented")
    assert "/api/v1/invitations/" in lists
    assert "/api/v1/payment-schedules/" in lists
    assert not wrong, wrong


@pytest.fixture
def schedule(council_a, provider_a):
    home = CareHomeFactory(provider=provider_a, name="Alder House")
    start = dt.date(2026, 1, 5)
    for n in range(5):
        PaidPlacementFactory(commissioner=council_a, care_home=home, case_reference=f"PAY-{n}", start_date=start)
    PaidPlacementFactory(commissioner=council_a, care_home=home, case_reference="=HYPERLINK(1)", start_date=start)


def test_the_payment_schedule_comes_in_cursor_pages(api_as, council_a, schedule):
    caller = api_as(council_a, scopes=["read"])

    pages = [caller.get("/api/v1/payment-schedules/", data={"period": PERIOD, "page_size": 4}).json()]
    while pages[-1]["next"]:
        pages.append(caller.get(pages[-1]["next"]).json())
    back = caller.get(pages[-1]["previous"]).json()

    assert [len(page["results"]) for page in pages] == [4, 2]
    assert pages[0]["previous"] is None
    assert back["results"] == pages[0]["results"]
    references = [line["reference"] for page in pages for line in page["results"]]
    assert sorted(references) == sorted(["=HYPERLINK(1)", *(f"PAY-{n}" for n in range(5))])
    assert all(page["totals"] == pages[0]["totals"] for page in pages)
    gross = sum(Decimal(line["gross_amount"]) for page in pages for line in page["results"])
    assert Decimal(pages[0]["totals"]["gross"]) == gross == Decimal("4200.00")


def test_a_page_size_above_200_is_capped_and_a_bad_cursor_is_404(api_as, council_a, schedule):
    caller = api_as(council_a, scopes=["read"])

    big = caller.get("/api/v1/payment-schedules/", data={"period": PERIOD, "page_size": 5000})
    bad = caller.get("/api/v1/payment-schedules/", data={"period": PERIOD, "cursor": "not-a-cursor"})

    assert big.status_code == 200 and len(big.json()["results"]) == 6
    assert bad.status_code == 404
    assert bad["Content-Type"] == "application/problem+json"


def test_the_payment_schedule_as_csv_by_accept_with_formulas_neutralised(api_as, council_a, schedule):
    response = api_as(council_a, scopes=["read"]).get(
        "/api/v1/payment-schedules/", data={"period": PERIOD}, HTTP_ACCEPT="text/csv"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "Accept" in response["Vary"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    lines = [row for row in rows if row["line_type"] == "placement"]
    assert len(lines) == 6
    assert [row["line_type"] for row in rows[6:]] == ["payer_total", "schedule_total"]
    assert "'=HYPERLINK(1)" in {row["reference"] for row in lines}


# --- Location on 201 ---------------------------------------------------------------------------


def test_a_created_bid_answers_with_its_location(api_as, provider_a, open_tender):
    tender, invitation = open_tender
    caller = api_as(provider_a, scopes=["read", "bids"])

    created = caller.post(
        f"/api/v1/tenders/{tender.pk}/bids/",
        {
            "care_home": invitation.care_home_id,
            "weekly_fee": "800.00",
            "earliest_start": tender.request.needed_from.isoformat(),
            "needs_confirmed": True,
        },
    )

    assert created.status_code == 201
    fetched = caller.get(created["Location"])
    assert fetched.status_code == 200
    assert fetched.json() == created.json()


def test_the_schema_documents_location_on_every_201(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        and "201" in operation.get("responses", {})
        and "Location" not in operation["responses"]["201"].get("headers", {})
    ]
    assert not missing, missing


# --- RateLimit fields --------------------------------------------------------------------------


def test_every_api_response_carries_the_ratelimit_fields(api_as, council_a, settings):
    settings.API_THROTTLE_RATE_CLIENT = "3/min"
    caller = api_as(council_a, scopes=["read"])

    answers = [caller.get("/api/v1/lots/") for _ in range(4)]
    unknown = caller.get("/api/v1/no-such-thing/")
    refused = caller.post("/api/v1/placement-requests/", {})
    anonymous = Client().get("/api/v1/lots/")

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["RateLimit-Limit"] for a in answers] == ["3"] * 4
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(0 < int(a["RateLimit-Reset"]) <= 60 for a in answers)
    for response in (unknown, refused):
        assert response["RateLimit-Limit"] == "3"
        assert response["RateLimit-Remaining"] == "0"
    assert anonymous.status_code == 401
    assert "RateLimit-Limit" in anonymous


def test_the_ratelimit_fields_are_left_off_when_the_cache_is_down(api_as, council_a, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = api_as(council_a, scopes=["read"]).get("/api/v1/lots/")

    assert response.status_code == 200
    assert "RateLimit-Limit" not in response


# --- Agreement PDFs by bearer token ------------------------------------------------------------


@pytest.fixture
def agreement(council_a, provider_a, broker_a):
    home = CareHomeFactory(provider=provider_a, name="Alder House")
    placement = PaidPlacementFactory(commissioner=council_a, care_home=home, case_reference="PDF-1")
    return agreement_create_for_placement(placement=placement, actor=broker_a)


def test_the_agreement_pdf_by_bearer_token_and_accept(api_as, provider_a, agreement):
    caller = api_as(provider_a, scopes=["read"])
    url = f"/api/v1/service-agreements/{agreement.pk}/"

    pdf = caller.get(url, HTTP_ACCEPT="application/pdf")
    as_json = caller.get(url)

    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert "Accept" in pdf["Vary"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert agreement.reference in text
    assert as_json.status_code == 200
    assert as_json["Content-Type"] == "application/json"
    assert as_json.json()["reference"] == agreement.reference


def test_another_organisations_agreement_pdf_is_404_problem(api_as, provider_b, agreement):
    response = api_as(provider_b, scopes=["read"]).get(
        f"/api/v1/service-agreements/{agreement.pk}/", HTTP_ACCEPT="application/pdf"
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
