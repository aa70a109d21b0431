"""Hospital discharge teams as users: a coordinator refers a person ready to leave hospital to a body
their hospital refers to; the body's brokers see it at once, marked urgent and at the top of their
queue; the coordinator follows their own hospital's referrals in plain words and never sees a bid
amount or another hospital's referral, on the pages or through the API. Brokers set urgency and the
discharge details on their own requests, through the form and the API."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bidding.models import Tender
from bidding.services import bid_submit, tender_close_and_evaluate, tender_publish
from core.errors import ApplicationError, ForbiddenError
from core.models import AuditEvent, Notification
from lots.models import Urgency
from organisations.models import Role
from placements.models import PlacementRequest
from placements.selectors import broker_work_queue
from placements.services import referral_create
from quality.models import RatingValue

from .browser import page_as
from .factories import (
    TEST_PASSWORD,
    HospitalFactory,
    PlacementRequestFactory,
    UserFactory,
    admitted_home,
    ensure_reference_data,
    lot,
)
from .test_accessibility import wcag_violations
from .test_keyboard import enter, tab_and_type, tab_to

pytestmark = pytest.mark.django_db

WARD = "Ward 12, Sam Lee, 01782 000000"


@pytest.fixture
def hospital_b(council_b):
    return HospitalFactory(name="Aintree Hospital", slug="hospital-b", refers_to=[council_b])


@pytest.fixture
def coordinator_a(hospital_a):
    return UserFactory(organisation=hospital_a, role=Role.DISCHARGE_COORDINATOR, email="discharge@hospital-a.example")


@pytest.fixture
def coordinator_b(hospital_b):
    return UserFactory(organisation=hospital_b, role=Role.DISCHARGE_COORDINATOR, email="discharge@hospital-b.example")


def refer(coordinator, commissioner, **changes):
    values = {
        "actor": coordinator,
        "commissioner": commissioner,
        "case_reference": "RJE-100200",
        "lot": lot(1),
        "needs_summary": "Medically fit; needs help with mobility and personal care.",
        "ward_contact": WARD,
        "ready_for_discharge_at": timezone.now() - timedelta(hours=2),
        "pathway": PlacementRequest.Pathway.PATHWAY_3_ASSESSMENT,
    }
    values.update(changes)
    return referral_create(**values)


def test_a_referral_is_an_urgent_request_of_the_body_at_the_top_of_its_brokers_queue(
    council_a, broker_a, coordinator_a, hospital_a, as_user
):
    planned = PlacementRequestFactory(
        commissioner=council_a, created_by=broker_a, case_reference="PLANNED-1", target_date=timezone.localdate()
    )
    ready = timezone.now() - timedelta(hours=2)
    referral = refer(coordinator_a, council_a, ready_for_discharge_at=ready)
    assert referral.commissioner == council_a and referral.hospital == hospital_a
    assert referral.urgency == Urgency.HOSPITAL_DISCHARGE and referral.is_urgent
    assert referral.target_at == ready + timedelta(hours=24)
    assert referral.local_authority == "Staffordshire"
    assert AuditEvent.objects.filter(verb="placements.referral.created", organisation=council_a).count() == 1

    queue = broker_work_queue(actor=broker_a)
    waiting = queue.group("to-publish").requests
    assert [r.pk for r in waiting] == [referral.pk, planned.pk]
    page = as_user(broker_a).get("/broker/").content.decode()
    assert page.index("RJE-100200") < page.index("PLANNED-1")
    row = re.search(r"RJE-100200</a>(.*?)</td>", page, re.S).group(1)
    assert 'class="govuk-tag govuk-tag--red app-urgent">Urgent' in row
    assert "app-urgent" not in re.search(r"PLANNED-1</a>(.*?)</td>", page, re.S).group(1)
    notice = Notification.objects.get(recipient=broker_a, verb="placements.referral.created")
    assert "Royal Stoke Hospital" in notice.subject and notice.link.endswith(f"/requests/{referral.pk}/")


def test_only_the_bodies_a_hospital_refers_to_and_only_coordinators(council_a, council_b, coordinator_a, broker_a):
    with pytest.raises(ApplicationError) as refused:
        refer(coordinator_a, council_b)
    assert set(refused.value.fields) == {"commissioner"}
    with pytest.raises(ForbiddenError):
        refer(broker_a, council_a)
    assert not PlacementRequest.objects.exists()


def test_a_referral_without_its_discharge_details_is_refused_by_field(council_a, coordinator_a):
    with pytest.raises(ApplicationError) as refused:
        refer(coordinator_a, council_a, ward_contact="", ready_for_discharge_at=None, pathway="")
    assert set(refused.value.fields) == {"ward_contact", "ready_for_discharge_at", "pathway"}
    with pytest.raises(ApplicationError) as refused:
        refer(coordinator_a, council_a, ready_for_discharge_at=timezone.now() + timedelta(days=60))
    assert set(refused.value.fields) == {"ready_for_discharge_at"}


def test_a_referral_from_the_home_postcode_searches_around_it(council_a, coordinator_a):
    from providers.models import Postcode

    Postcode.objects.create(compact="ST162LL", postcode="ST16 2LL", latitude=52.8065, longitude=-2.1166)
    referral = refer(coordinator_a, council_a, postcode="ST16 2LL")
    assert (referral.postcode, referral.local_authority, referral.max_distance_km) == ("ST16 2LL", "", Decimal("20.0"))


@pytest.fixture
def closed_referral(council_a, broker_a, coordinator_a, provider_a, provider_b, provider_user_a, provider_user_b):
    """A referral whose tender has closed with two bids: the broker reads the amounts, ranked."""
    homes = [
        admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Alder House"),
        admitted_home(council_a, provider=provider_b, rating=RatingValue.OUTSTANDING, name="Beech Court"),
    ]
    referral = refer(coordinator_a, council_a)
    Tender.objects.all().delete()
    tender = tender_publish(actor=broker_a, request=referral)
    for user, home, fee in ((provider_user_a, homes[0], "812.34"), (provider_user_b, homes[1], "856.78")):
        bid_submit(
            actor=user,
            tender=tender,
            care_home=home,
            weekly_fee=Decimal(fee),
            earliest_start=timezone.localdate() + timedelta(days=1),
            needs_confirmed=True,
        )
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=2), closes_at=timezone.now() - timedelta(hours=1)
    )
    tender_close_and_evaluate(tender_id=tender.pk)
    return referral


# An amount in any form it could be shown in: exact, rounded, in pounds, or a bare JSON
# number. Bare digits are not enough: "812" turns up inside a timestamp's microseconds.
AMOUNTS = re.compile(r"812\.3|856\.[78]|£\s*8(12|56)|:\s*8(12|56)(\.\d+)?\s*[,}]")


def test_coordinators_follow_their_referrals_in_plain_words_and_never_see_amounts(
    closed_referral, broker_a, coordinator_a, as_user, api_as, hospital_a
):
    broker_page = as_user(broker_a).get(f"/broker/requests/{closed_referral.pk}/").content.decode()
    assert "812.34" in broker_page and AMOUNTS.search(broker_page)
    client = as_user(coordinator_a)
    listing = client.get("/hospital/referrals/")
    assert listing.status_code == 200
    detail = client.get(f"/hospital/referrals/{closed_referral.pk}/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "Bids ready to award" in text and "Hospital discharge" in text
    system = api_as(hospital_a, scopes=["referrals"])
    answers = [
        listing.content.decode(),
        text,
        client.get("/hospital/referrals/?format=csv").getvalue().decode(),
        system.get("/api/v1/referrals/").content.decode(),
        system.get(f"/api/v1/referrals/{closed_referral.pk}/").content.decode(),
    ]
    for body in answers:
        assert "RJE-100200" in body
        assert not AMOUNTS.search(body), body
    item = system.get(f"/api/v1/referrals/{closed_referral.pk}/").json()
    assert item["next_step"] == {"code": "ready_to_award", "label": "Bids ready to award"}
    assert item["care_home_name"] == ""


def test_coordinators_never_see_another_hospitals_referrals(
    council_a, council_b, coordinator_a, coordinator_b, hospital_b, as_user, api_as
):
    theirs = refer(coordinator_b, council_b, case_reference="OTHER-HOSPITAL-1")
    mine = refer(coordinator_a, council_a)
    client = as_user(coordinator_a)
    assert "OTHER-HOSPITAL-1" not in client.get("/hospital/referrals/").content.decode()
    assert client.get(f"/hospital/referrals/{theirs.pk}/").status_code == 404
    assert client.get(f"/hospital/referrals/{mine.pk}/").status_code == 200
    system = api_as(hospital_b, scopes=["referrals"])
    assert system.get(f"/api/v1/referrals/{mine.pk}/").status_code == 404
    assert [r["case_reference"] for r in system.get("/api/v1/referrals/").json()["results"]] == ["OTHER-HOSPITAL-1"]
    # Nor do they reach the brokers' request pages and API.
    assert client.get(f"/broker/requests/{mine.pk}/").status_code == 403
    assert api_as(hospital_b, scopes=["read", "referrals"]).get("/api/v1/placement-requests/").status_code == 403


def test_a_hospital_system_refers_through_the_api_and_needs_the_referrals_scope(
    council_a, council_b, hospital_a, broker_a, api_as
):
    system = api_as(hospital_a, scopes=["referrals"])
    payload = {
        "commissioner": council_a.slug,
        "case_reference": "RJE-API-1",
        "lot": 1,
        "needs_summary": "Needs nursing care after a fall.",
        "ward_contact": WARD,
        "ready_for_discharge_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "pathway": "long_term",
    }
    response = system.post("/api/v1/referrals/", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["urgency"] == "hospital_discharge" and body["next_step"]["code"] == "draft"
    assert response["Location"].endswith(f"/api/v1/referrals/{body['id']}/")
    request = PlacementRequest.objects.get(pk=body["id"])
    assert request.commissioner == council_a and request.created_by.is_service_account

    refused = system.post("/api/v1/referrals/", {**payload, "commissioner": council_b.slug})
    assert refused.status_code == 400 and "commissioner" in refused.json()["errors"]
    absurd = system.post("/api/v1/referrals/", {**payload, "ready_for_discharge_at": "2019-01-01T10:00:00Z"})
    assert absurd.status_code == 400 and set(absurd.json()["errors"]) == {"ready_for_discharge_at"}
    no_pathway = system.post("/api/v1/referrals/", {**payload, "pathway": ""})
    assert no_pathway.status_code == 400 and set(no_pathway.json()["errors"]) == {"pathway"}
    assert api_as(hospital_a, scopes=["read"]).post("/api/v1/referrals/", payload).status_code == 403
    assert api_as(hospital_a, scopes=["read"]).get("/api/v1/referrals/").status_code == 403
    assert api_as(council_a, scopes=["read", "placement-requests"]).get("/api/v1/referrals/").status_code == 403
    assert PlacementRequest.objects.count() == 1


def test_brokers_set_urgency_and_discharge_details_through_the_api(council_a, hospital_a, api_as):
    system = api_as(council_a, scopes=["read", "placement-requests"])
    payload = {
        "case_reference": "MOSAIC-9",
        "lot": 1,
        "needs_summary": "Ready to leave the ward.",
        "local_authority": "Staffordshire",
        "needed_from": timezone.localdate().isoformat(),
        "urgency": "hospital_discharge",
        "hospital": hospital_a.slug,
        "ward_contact": WARD,
        "ready_for_discharge_at": (timezone.now() - timedelta(hours=5)).isoformat(),
        "pathway": "pathway_3_assessment",
    }
    response = system.post("/api/v1/placement-requests/", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["urgency"], body["hospital"], body["pathway"], body["ward_contact"]) == (
        "hospital_discharge",
        "hospital-a",
        "pathway_3_assessment",
        WARD,
    )
    assert body["target_at"] is not None
    missing = system.post(
        "/api/v1/placement-requests/", {**payload, "hospital": None, "ward_contact": "", "pathway": ""}
    )
    assert missing.status_code == 400
    assert {"hospital", "ward_contact", "pathway"} <= set(missing.json()["errors"])
    planned = system.post("/api/v1/placement-requests/", {**payload, "urgency": "planned"})
    assert planned.status_code == 400 and "hospital" in planned.json()["errors"]
    listed = system.get("/api/v1/placement-requests/").json()["results"]
    assert [(r["urgency"], r["hospital"]) for r in listed] == [("hospital_discharge", "hospital-a")]


def no_violations(page) -> None:
    page.wait_for_load_state("networkidle")
    assert wcag_violations(page) == [], page.url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_broker_requests_a_hospital_discharge_in_the_browser(live_server, browser, council_a, broker_a):
    HospitalFactory(name="Royal Stoke Hospital", slug="hospital-a", refers_to=[council_a])
    ready = timezone.localtime() - timedelta(hours=1)
    page = page_as(browser, live_server, broker_a)
    page.goto(f"{live_server.url}/broker/requests/new/")
    page.fill("#id_case_reference", "DIS-77")
    page.get_by_label("Hospital discharge").check()
    page.fill("#id_needs_summary", "Ready to leave the ward.")
    page.fill("#id_local_authority", "Staffordshire")
    today = timezone.localdate()
    for index, part in enumerate((today.day, today.month, today.year)):
        page.fill(f"#id_needed_from_{index}", str(part))
    page.get_by_role("button", name="Save request").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose the hospital the person is leaving")
    expect(summary).to_contain_text("Enter the ward and who to contact there")
    no_violations(page)
    page.select_option("#id_hospital", label="Royal Stoke Hospital")
    page.fill("#id_ward_contact", WARD)
    for index, part in enumerate((ready.day, ready.month, ready.year)):
        page.fill(f"#id_ready_for_discharge_at_{index}", str(part))
    page.fill("#id_ready_time", ready.strftime("%H:%M"))
    page.get_by_label("Pathway 3: discharge to assess").check()
    page.get_by_role("button", name="Save request").click()
    expect(page.get_by_role("heading", name="Request DIS-77")).to_be_visible()
    expect(page.locator("#request-urgency")).to_contain_text("Hospital discharge")
    request = PlacementRequest.objects.get(case_reference="DIS-77")
    assert request.hospital.slug == "hospital-a"
    assert timezone.localtime(request.ready_for_discharge_at).strftime("%d %H:%M") == ready.strftime("%d %H:%M")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_coordinator_signs_in_refers_and_follows_with_the_keyboard_alone(live_server, browser, council_a, broker_a):
    ensure_reference_data()
    hospital = HospitalFactory(name="Royal Stoke Hospital", slug="hospital-a", refers_to=[council_a])
    UserFactory(organisation=hospital, role=Role.DISCHARGE_COORDINATOR, email="discharge@hospital-a.example")
    ready = timezone.localtime() - timedelta(hours=1)
    page = page_as(browser, live_server, None, locale="en-GB")

    page.goto(f"{live_server.url}/")
    tab_and_type(page, "#id_username", "discharge@hospital-a.example")
    tab_and_type(page, "#id_password", TEST_PASSWORD)
    tab_to(page, "main [type=submit]")
    enter(page)
    expect(page.get_by_role("heading", name="Hospital discharge referrals")).to_be_visible()
    no_violations(page)
    tab_to(page, "a[href$='/hospital/referrals/new/']")
    enter(page)
    expect(page.get_by_role("heading", name="Refer a person for a care home place")).to_be_visible()
    no_violations(page)

    # Sent with nothing filled in: the error summary links to the fields.
    tab_to(page, "main [type=submit]")
    enter(page)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the ward and who to contact there")
    expect(summary).to_contain_text("Choose the discharge pathway")
    no_violations(page)

    tab_and_type(page, "#id_case_reference", "RJE-KEY-1")
    tab_to(page, "#id_lot")
    page.keyboard.press("Home")
    tab_and_type(page, "#id_ready_for_discharge_at_0", str(ready.day))
    tab_and_type(page, "#id_ready_for_discharge_at_1", str(ready.month))
    tab_and_type(page, "#id_ready_for_discharge_at_2", str(ready.year))
    tab_and_type(page, "#id_ready_time", ready.strftime("%H:%M"))
    tab_to(page, "input[name=pathway][value=pathway_3_assessment]")
    page.keyboard.press("Space")
    tab_and_type(page, "#id_ward_contact", WARD)
    tab_and_type(page, "#id_needs_summary", "Medically fit; needs help with mobility.")
    tab_to(page, "main [type=submit]")
    enter(page)
    expect(page.get_by_role("heading", name="Referral RJE-KEY-1")).to_be_visible()
    expect(page.locator("#referral-status")).to_have_text("Draft")
    no_violations(page)

    tab_to(page, "a[href$='/hospital/referrals/']")
    enter(page)
    expect(page.locator("#referrals-table")).to_contain_text("RJE-KEY-1")
    no_violations(page)
    referral = PlacementRequest.objects.get(case_reference="RJE-KEY-1")
    assert (referral.commissioner, referral.urgency) == (council_a, "hospital_discharge")
    assert referral in broker_work_queue(actor=broker_a).group("to-publish").requests


def _referral_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_referral_lists_run_the_same_queries_whatever_their_length(
    council_a, broker_a, coordinator_a, hospital_a, provider_a, provider_user_a, as_user, api_as
):
    """The coordinator's page and the referral API list: one referral of each kind, then many more."""
    home = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Alder House")
    page, system = as_user(coordinator_a), api_as(hospital_a, scopes=["referrals"])

    def add(count: int) -> None:
        for _ in range(count):
            draft = refer(coordinator_a, council_a, case_reference=f"RJE-{PlacementRequest.objects.count()}")
            tendered = refer(coordinator_a, council_a, case_reference=f"RJE-{PlacementRequest.objects.count()}")
            tender = tender_publish(actor=broker_a, request=tendered)
            bid_submit(
                actor=provider_user_a,
                tender=tender,
                care_home=home,
                weekly_fee=Decimal("800.00"),
                earliest_start=timezone.localdate() + timedelta(days=1),
                needs_confirmed=True,
            )
            assert draft.pk

    add(1)
    few = [_referral_queries(page, "/hospital/referrals/"), _referral_queries(system, "/api/v1/referrals/")]
    add(6)
    many = [_referral_queries(page, "/hospital/referrals/"), _referral_queries(system, "/api/v1/referrals/")]
    assert few == many
