"""Urgency on requests: the rules per lot and urgency (targets and tender windows in hours), the
target moment of an urgent request, the tender window on publishing, and the lot rules page where a
commissioner sets them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from playwright.sync_api import expect

from bidding.services import tender_publish
from core.errors import ApplicationError
from core.models import AuditEvent
from lots.models import LotRules, Urgency, UrgencyRules
from lots.selectors import urgency_rules_for
from lots.services import urgency_rules_update
from placements.models import PlacementRequest
from placements.services import placement_request_create
from quality.models import RatingValue

from .browser import page_as
from .factories import (
    DischargeRequestFactory,
    HospitalFactory,
    PlacementRequestFactory,
    UrgencyRulesFactory,
    admitted_home,
    lot,
)

pytestmark = pytest.mark.django_db


def rules_of(commissioner, number=1) -> LotRules:
    return LotRules.objects.get(commissioner=commissioner, lot__number=number)


def test_urgency_rules_default_to_hours_when_none_are_saved(council_a):
    rules = urgency_rules_for(council_a, lot(1), Urgency.HOSPITAL_DISCHARGE)
    assert rules.pk is None
    assert (rules.target_hours, rules.min_window_hours, rules.default_window_hours, rules.max_window_hours) == (
        24,
        1,
        4,
        24,
    )
    assert rules.award_rule == UrgencyRules.AwardRule.RANKED
    assert (rules.assessment_days, rules.vacancy_fresh_hours, rules.reminder_minutes_before_close) == (28, 24, 60)
    community = urgency_rules_for(council_a, lot(1), Urgency.URGENT_COMMUNITY)
    assert (community.target_hours, community.default_window_hours) == (72, 12)


def test_saved_urgency_rules_are_the_lots_own(council_a, council_b):
    UrgencyRulesFactory(lot_rules=rules_of(council_a), target_hours=12, default_window_hours=2, max_window_hours=6)
    assert urgency_rules_for(council_a, lot(1), Urgency.HOSPITAL_DISCHARGE).target_hours == 12
    # Another lot and another body keep the usual values.
    assert urgency_rules_for(council_a, lot(2), Urgency.HOSPITAL_DISCHARGE).target_hours == 24
    assert urgency_rules_for(council_b, lot(1), Urgency.HOSPITAL_DISCHARGE).target_hours == 24


def test_planned_requests_follow_the_lot_rules_in_days(council_a):
    LotRules.objects.filter(commissioner=council_a, lot__number=1).update(
        target_days=7, min_window_hours=3, default_window_hours=50, max_window_hours=100
    )
    rules = urgency_rules_for(council_a, lot(1), Urgency.PLANNED)
    assert (rules.target_hours, rules.min_window_hours, rules.default_window_hours, rules.max_window_hours) == (
        168,
        3,
        50,
        100,
    )


def test_no_urgency_rules_row_for_planned_requests(council_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        UrgencyRules.objects.create(
            lot_rules=rules_of(council_a),
            urgency=Urgency.PLANNED,
            target_hours=24,
            min_window_hours=1,
            default_window_hours=2,
            max_window_hours=3,
        )


def test_a_discharge_request_needs_its_hospital_and_ready_time_in_the_database(council_a, broker_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        PlacementRequestFactory(commissioner=council_a, created_by=broker_a, urgency=Urgency.HOSPITAL_DISCHARGE)


def discharge_request(broker, hospital, **changes):
    values = {
        "actor": broker,
        "case_reference": "DIS-1",
        "lot": lot(1),
        "needs_summary": "Ready to leave the ward; needs help with mobility.",
        "needed_from": timezone.localdate(),
        "local_authority": "Staffordshire",
        "urgency": Urgency.HOSPITAL_DISCHARGE,
        "hospital": hospital,
        "ward_contact": "Ward 7, 01785 000000",
        "ready_for_discharge_at": timezone.now() - timedelta(hours=3),
        "pathway": PlacementRequest.Pathway.PATHWAY_3_ASSESSMENT,
    }
    values.update(changes)
    return placement_request_create(**values)


def test_an_urgent_request_is_due_its_target_hours_after_the_person_is_ready(council_a, broker_a):
    hospital = HospitalFactory(refers_to=[council_a])
    ready = timezone.now() - timedelta(hours=3)
    request = discharge_request(broker_a, hospital, ready_for_discharge_at=ready)
    assert request.is_urgent
    assert request.target_at == ready + timedelta(hours=24)
    assert request.target_date == timezone.localdate(ready + timedelta(hours=24))
    community = placement_request_create(
        actor=broker_a,
        case_reference="COM-1",
        lot=lot(1),
        needs_summary="Carer taken ill.",
        needed_from=timezone.localdate(),
        local_authority="Staffordshire",
        urgency=Urgency.URGENT_COMMUNITY,
    )
    assert community.target_at == community.requested_at + timedelta(hours=72)


def test_a_planned_request_keeps_its_target_in_days(council_a, broker_a):
    request = placement_request_create(
        actor=broker_a,
        case_reference="PLAN-1",
        lot=lot(1),
        needs_summary="Moving from home.",
        needed_from=timezone.localdate(),
        local_authority="Staffordshire",
    )
    assert not request.is_urgent
    assert request.target_at is None
    assert request.target_date == timezone.localdate(request.requested_at) + timedelta(days=5)


def test_a_hospital_discharge_without_its_details_is_refused_field_by_field(council_a, broker_a):
    with pytest.raises(ApplicationError) as refused:
        discharge_request(broker_a, None, ward_contact="", ready_for_discharge_at=None, pathway="")
    assert set(refused.value.fields) == {"hospital", "ward_contact", "ready_for_discharge_at", "pathway"}


def test_a_ready_time_far_from_now_is_refused(council_a, broker_a):
    hospital = HospitalFactory(refers_to=[council_a])
    for ready in (timezone.now() - timedelta(days=400), timezone.now() + timedelta(days=30)):
        with pytest.raises(ApplicationError) as refused:
            discharge_request(broker_a, hospital, ready_for_discharge_at=ready)
        assert set(refused.value.fields) == {"ready_for_discharge_at"}


def test_a_hospital_that_does_not_refer_to_the_body_is_refused(council_a, council_b, broker_a):
    elsewhere = HospitalFactory(refers_to=[council_b])
    with pytest.raises(ApplicationError) as refused:
        discharge_request(broker_a, elsewhere)
    assert set(refused.value.fields) == {"hospital"}


def test_a_planned_request_has_no_discharge_details(council_a, broker_a):
    hospital = HospitalFactory(refers_to=[council_a])
    with pytest.raises(ApplicationError) as refused:
        discharge_request(broker_a, hospital, urgency=Urgency.PLANNED)
    assert set(refused.value.fields) == {"hospital", "ward_contact", "ready_for_discharge_at", "pathway"}


@pytest.fixture
def invited_home(council_a, provider_a, provider_user_a):
    return admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Alder House")


def test_publishing_an_urgent_request_uses_the_window_in_hours_of_its_urgency(council_a, broker_a, invited_home):
    UrgencyRulesFactory(lot_rules=rules_of(council_a), min_window_hours=1, default_window_hours=3, max_window_hours=6)
    request = DischargeRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("900"))
    tender = tender_publish(actor=broker_a, request=request)
    assert tender.closes_at - tender.opened_at == timedelta(hours=3)
    planned = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    tender = tender_publish(actor=broker_a, request=planned)
    assert tender.closes_at - tender.opened_at == timedelta(hours=48)


def test_an_urgent_window_beyond_its_rules_is_refused(council_a, broker_a, invited_home):
    request = DischargeRequestFactory(commissioner=council_a, created_by=broker_a)
    with pytest.raises(ApplicationError) as refused:
        tender_publish(actor=broker_a, request=request, closes_at=timezone.now() + timedelta(hours=30))
    assert refused.value.fields["closes_at"] == [
        "The tender must close between 1 and 24 hours from now for hospital discharge requests in lot 1."
    ]


def test_a_commissioner_saves_urgency_rules_with_the_change_audited(council_a, commissioner_a, broker_a):
    rules = urgency_rules_update(
        lot_rules=rules_of(council_a),
        urgency=Urgency.HOSPITAL_DISCHARGE,
        actor=commissioner_a,
        reason="Winter pressures",
        target_hours=12,
        award_rule=UrgencyRules.AwardRule.FIRST_ACCEPTABLE,
    )
    assert rules.pk and rules.target_hours == 12 and rules.default_window_hours == 4
    event = AuditEvent.objects.get(verb="lots.urgency_rules.updated")
    assert event.detail["after"] == {"target_hours": "12", "award_rule": "first_acceptable"}
    with pytest.raises(ApplicationError) as refused:
        urgency_rules_update(
            lot_rules=rules_of(council_a), urgency=Urgency.HOSPITAL_DISCHARGE, actor=commissioner_a, min_window_hours=9
        )
    assert "default_window_hours" in refused.value.fields
    with pytest.raises(ApplicationError):
        urgency_rules_update(lot_rules=rules_of(council_a), urgency=Urgency.HOSPITAL_DISCHARGE, actor=broker_a)


def test_lot_rules_page_lists_urgency_rules_and_their_csv(council_a, commissioner_a, as_user):
    client = as_user(commissioner_a)
    page = client.get("/commissioner/lots/")
    assert page.status_code == 200
    assert b"Urgent requests" in page.content
    assert b"/commissioner/lots/1/urgency/hospital_discharge/edit/" in page.content
    csv = client.get("/commissioner/lots/?format=urgency-csv")
    lines = b"".join(csv.streaming_content if csv.streaming else [csv.content]).decode().splitlines()
    assert lines[0].startswith("lot,name,urgency,target_hours")
    assert len(lines) == 1 + 10 * 2
    assert client.get("/commissioner/lots/1/urgency/planned/edit/").status_code == 404


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_commissioner_sets_discharge_rules_for_a_lot_in_the_browser(live_server, browser, council_a, commissioner_a):
    page = page_as(browser, live_server, commissioner_a)
    page.goto(f"{live_server.url}/commissioner/lots/")
    page.get_by_role("link", name="Change hospital discharge rules for lot 2").click()
    page.fill("#id_min_window_hours", "8")
    page.fill("#id_default_window_hours", "2")
    page.fill("#id_reason", "Faster discharges this winter")
    page.get_by_role("button", name="Save urgency rules").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The default window must lie between")
    page.fill("#id_min_window_hours", "1")
    page.fill("#id_target_hours", "12")
    page.get_by_label("First acceptable: the first compliant bid is awarded at once").check()
    page.get_by_role("button", name="Save urgency rules").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Hospital discharge rules for lot 2 saved.")
    rules = urgency_rules_for(council_a, lot(2), Urgency.HOSPITAL_DISCHARGE)
    assert (rules.target_hours, rules.default_window_hours, rules.award_rule) == (12, 2, "first_acceptable")
