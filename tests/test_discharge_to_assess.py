"""Discharge to assess: a pathway-3 stay's assessment period, review and recorded outcome.

The outcome is recorded once by a broker of the body (page, API and service share one rule),
recording the same outcome again is a no-op that sends nothing, long-term in another home raises
a linked request for a long-term home, and a stay past its review date with no outcome is at risk.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.errors import ApplicationError, ConflictError, ForbiddenError
from core.models import AuditEvent
from placements.models import Pathway, Placement, PlacementRequest
from placements.selectors import assessment_reviews_overdue
from placements.services import assessment_outcome_record
from placements.signals import assessment_outcome_recorded

from .factories import BlockRequestFactory, CareHomeFactory, PaidPlacementFactory

pytestmark = pytest.mark.django_db


def d2a_stay(council, broker, *, started_days_ago=30, review_in_days=-2, **extra):
    request = BlockRequestFactory(
        commissioner=council,
        created_by=broker,
        case_reference="NHS-D2A-1",
        postcode="",
        status=PlacementRequest.Status.PLACED,
    )
    start = timezone.localdate() - timedelta(days=started_days_ago)
    review = timezone.localdate() + timedelta(days=review_in_days)
    return PaidPlacementFactory(
        commissioner=council,
        request=request,
        case_reference=request.case_reference,
        care_home=CareHomeFactory(name="Larch Court"),
        start_date=start,
        pathway=Pathway.PATHWAY_3_ASSESSMENT,
        assessment_ends_on=review,
        review_on=review,
        **extra,
    )


class Received:
    def __init__(self):
        self.calls = []

    def __call__(self, sender, **kwargs):
        self.calls.append(kwargs)


@pytest.fixture
def received():
    receiver = Received()
    assessment_outcome_recorded.connect(receiver, dispatch_uid="test-received")
    yield receiver
    assessment_outcome_recorded.disconnect(dispatch_uid="test-received")


def test_recording_the_same_outcome_twice_changes_nothing_and_signals_once(council_a, broker_a, received):
    stay = d2a_stay(council_a, broker_a)
    today = timezone.localdate()
    assessment_outcome_record(
        stay, outcome=Placement.AssessmentOutcome.LONG_TERM_SAME_HOME, on=today, by=broker_a, note="Review met"
    )
    again = assessment_outcome_record(
        stay, outcome=Placement.AssessmentOutcome.LONG_TERM_SAME_HOME, on=today, by=broker_a
    )
    assert again.assessment_outcome == "long_term_same_home"
    assert again.assessment_outcome_on == today
    assert len(received.calls) == 1
    call = received.calls[0]
    assert (call["placement"].pk, call["outcome"], call["on"], call["by"]) == (
        stay.pk,
        "long_term_same_home",
        today,
        broker_a,
    )
    events = AuditEvent.objects.filter(verb="placements.placement.assessment_outcome_recorded")
    assert [(e.reason, e.detail["outcome"]) for e in events] == [("Review met", "long_term_same_home")]


def test_another_outcome_once_one_is_recorded_is_refused(council_a, broker_a, received):
    stay = d2a_stay(council_a, broker_a)
    assessment_outcome_record(stay, outcome="home", on=timezone.localdate(), by=broker_a)
    with pytest.raises(ConflictError) as refused:
        assessment_outcome_record(stay, outcome="died", on=timezone.localdate(), by=broker_a)
    assert refused.value.code == "outcome_recorded"
    stay.refresh_from_db()
    assert stay.assessment_outcome == "home"
    assert len(received.calls) == 1


def test_a_signal_receiver_error_rolls_the_outcome_back(council_a, broker_a):
    stay = d2a_stay(council_a, broker_a)

    def refuse(sender, **kwargs):
        raise ApplicationError("The agreement cannot change.")

    assessment_outcome_recorded.connect(refuse, dispatch_uid="test-refuse")
    try:
        with pytest.raises(ApplicationError):
            assessment_outcome_record(stay, outcome="home", on=timezone.localdate(), by=broker_a)
    finally:
        assessment_outcome_recorded.disconnect(dispatch_uid="test-refuse")
    stay.refresh_from_db()
    assert stay.assessment_outcome == ""
    assert not AuditEvent.objects.filter(verb="placements.placement.assessment_outcome_recorded").exists()


def test_long_term_elsewhere_raises_a_linked_request_for_a_long_term_home(council_a, broker_a):
    stay = d2a_stay(council_a, broker_a)
    original = stay.request
    assessment_outcome_record(stay, outcome="long_term_elsewhere", on=timezone.localdate(), by=broker_a)
    follow_on = PlacementRequest.objects.get(assessment_placement=stay)
    assert follow_on.pk != original.pk
    assert follow_on.status == PlacementRequest.Status.NEW
    assert (follow_on.case_reference, follow_on.lot_id, follow_on.needs_summary) == (
        original.case_reference,
        original.lot_id,
        original.needs_summary,
    )
    assert follow_on.local_authority == original.local_authority
    assert follow_on.needed_from == timezone.localdate()
    # Recording it again raises no second request.
    assessment_outcome_record(stay, outcome="long_term_elsewhere", on=timezone.localdate(), by=broker_a)
    assert PlacementRequest.objects.filter(assessment_placement=stay).count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"outcome": "moved"}, "outcome"),
        ({"on": None}, "on"),
        ({"on": "future"}, "on"),
        ({"on": "before_start"}, "on"),
    ],
)
def test_bad_outcomes_are_refused_by_field(council_a, broker_a, change, field):
    stay = d2a_stay(council_a, broker_a)
    values = {"outcome": "home", "on": timezone.localdate()}
    values.update(change)
    if values["on"] == "future":
        values["on"] = timezone.localdate() + timedelta(days=1)
    elif values["on"] == "before_start":
        values["on"] = stay.start_date - timedelta(days=1)
    with pytest.raises(ApplicationError) as refused:
        assessment_outcome_record(stay, by=broker_a, **values)
    assert field in refused.value.fields
    stay.refresh_from_db()
    assert stay.assessment_outcome == ""


def test_only_the_bodys_brokers_record_an_outcome(council_a, broker_a, commissioner_a, broker_b, provider_user_a):
    stay = d2a_stay(council_a, broker_a)
    for someone in (commissioner_a, broker_b, provider_user_a):
        with pytest.raises(ForbiddenError):
            assessment_outcome_record(stay, outcome="home", on=timezone.localdate(), by=someone)


def test_a_stay_that_is_not_discharge_to_assess_has_no_outcome(council_a, broker_a):
    placement = PaidPlacementFactory(commissioner=council_a)
    with pytest.raises(ConflictError) as refused:
        assessment_outcome_record(placement, outcome="home", on=timezone.localdate(), by=broker_a)
    assert refused.value.code == "not_assessment"


def test_stays_past_their_review_with_no_outcome_are_overdue(council_a, broker_a, council_b, broker_b):
    overdue = d2a_stay(council_a, broker_a, review_in_days=-1)
    d2a_stay(council_a, broker_a, review_in_days=0)  # due today: not yet overdue
    decided = d2a_stay(council_a, broker_a, review_in_days=-5)
    assessment_outcome_record(decided, outcome="home", on=timezone.localdate(), by=broker_a)
    d2a_stay(council_b, broker_b, review_in_days=-3)  # another body's
    listed = assessment_reviews_overdue(commissioner_id=council_a.pk, today=timezone.localdate())
    assert [p.pk for p in listed] == [overdue.pk]


def test_an_overdue_review_shows_at_risk_for_commissioners_and_brokers(
    council_a, broker_a, commissioner_a, council_b, broker_b, as_user
):
    overdue = d2a_stay(council_a, broker_a, review_in_days=-3)
    d2a_stay(council_b, broker_b, review_in_days=-3)
    body = as_user(commissioner_a).get("/api/v1/dashboards/at-risk/").json()
    assert [(r["placement"], r["days_overdue"]) for r in body["assessment_reviews_overdue"]] == [(overdue.pk, 3)]
    page = as_user(commissioner_a).get("/dashboards/at-risk/").content.decode()
    assert "1 discharge-to-assess stay past the review date" in page
    assert "3 days overdue" in page
    csv = as_user(commissioner_a).get("/dashboards/at-risk/?format=csv")
    text = b"".join(csv.streaming_content).decode() if csv.streaming else csv.content.decode()
    assert "NHS-D2A-1" in text and "review date passed" in text
    home = as_user(broker_a).get("/broker/").content.decode()
    assert "Discharge-to-assess reviews overdue: <strong>1</strong>" in home
    assessment_outcome_record(overdue, outcome="home", on=timezone.localdate(), by=broker_a)
    assert as_user(commissioner_a).get("/api/v1/dashboards/at-risk/").json()["assessment_reviews_overdue"] == []
    assert "Discharge-to-assess reviews overdue" not in as_user(broker_a).get("/broker/").content.decode()


def test_the_outcome_page_shows_field_errors_and_records_the_outcome(council_a, broker_a, as_user):
    stay = d2a_stay(council_a, broker_a)
    client = as_user(broker_a)
    placement_page = client.get(f"/placements/{stay.pk}/")
    assert b"Record the outcome of the assessment" in placement_page.content
    assert b"Overdue" in placement_page.content
    url = f"/placements/{stay.pk}/assessment-outcome/"
    refused = client.post(url, {"on_0": "31", "on_1": "2", "on_2": str(timezone.localdate().year)})
    assert b"There is a problem" in refused.content
    assert b"Choose the outcome of the assessment" in refused.content
    assert b"Enter a real date" in refused.content
    today = timezone.localdate()
    done = client.post(
        url, {"outcome": "long_term_elsewhere", "on_0": today.day, "on_1": today.month, "on_2": today.year}
    )
    assert done.status_code == 302
    stay.refresh_from_db()
    assert stay.assessment_outcome == "long_term_elsewhere"
    page = client.get(done["Location"])
    assert b"A request for a long-term home has been raised." in page.content
    assert b"Long-term request" in page.content
    assert b"Record the outcome of the assessment" not in page.content


def test_the_outcome_api_records_once_and_answers_refusals(council_a, broker_a, api_as):
    stay = d2a_stay(council_a, broker_a)
    system = api_as(council_a, scopes=["read", "placement-requests"], role="broker")
    url = f"/api/v1/placements/{stay.pk}/assessment-outcome/"
    bad = system.post(url, {"outcome": "moved", "on": "2020-01-01"})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"outcome"}
    early = system.post(url, {"outcome": "home", "on": (stay.start_date - timedelta(days=1)).isoformat()})
    assert early.status_code == 400
    assert set(early.json()["errors"]) == {"on"}
    today = timezone.localdate().isoformat()
    first = system.post(url, {"outcome": "long_term_elsewhere", "on": today, "note": "Needs nursing"})
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["pathway"], body["assessment_outcome"], body["assessment_outcome_on"]) == (
        "pathway_3_assessment",
        "long_term_elsewhere",
        today,
    )
    assert body["long_term_request"] == PlacementRequest.objects.get(assessment_placement=stay).pk
    again = system.post(url, {"outcome": "long_term_elsewhere", "on": today})
    assert again.status_code == 200
    assert again.json()["long_term_request"] == body["long_term_request"]
    other = system.post(url, {"outcome": "died", "on": today})
    assert other.status_code == 409
    assert other.json()["code"] == "outcome_recorded"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_broker_records_an_assessment_outcome_in_a_browser(
    reference_data, live_server, browser_page, council_a, broker_a
):
    from axe_playwright_python.sync_playwright import Axe

    from .browser import share_session

    stay = d2a_stay(council_a, broker_a)
    page = browser_page
    share_session(page.context, live_server, broker_a)
    page.goto(f"{live_server.url}/placements/{stay.pk}/")
    assert "Overdue" in page.locator("#assessment-review").inner_text()
    page.get_by_role("link", name="Record the outcome of the assessment").click()
    page.get_by_role("button", name="Record outcome").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    assert "Choose the outcome of the assessment" in summary.inner_text()
    assert "Enter the date the outcome took effect" in summary.inner_text()
    violations = [v["id"] for v in Axe().run(page, context="#main-content").response["violations"]]
    assert violations == []
    page.get_by_label("Long-term in the same home").check()
    today = timezone.localdate()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Note (optional)").fill("Settled well; wishes to stay")
    page.get_by_role("button", name="Record outcome").click()
    expect(page.locator("body")).to_contain_text("Outcome recorded: long-term in the same home.")
    assert "Long-term in the same home from" in page.locator("#assessment-outcome").inner_text()
    stay.refresh_from_db()
    assert (stay.assessment_outcome, stay.assessment_outcome_on) == ("long_term_same_home", today)


def test_a_pathway_3_request_placed_in_a_block_bed_starts_its_assessment_from_the_rules(council_a, broker_a):
    from blockbeds.services import block_bed_fill
    from lots.models import LotRules

    from .factories import BlockContractFactory, DischargeRequestFactory, UrgencyRulesFactory

    UrgencyRulesFactory(lot_rules=LotRules.objects.get(commissioner=council_a, lot__number=1), assessment_days=42)
    contract = BlockContractFactory(commissioner=council_a, contract_type="discharge_to_assess", beds=2)
    beds = list(contract.beds.order_by("label"))
    start = timezone.localdate()
    d2a = DischargeRequestFactory(commissioner=council_a, created_by=broker_a)
    placement = block_bed_fill(bed=beds[0], request=d2a, actor=broker_a, start_date=start).placement
    assert placement.pathway == Pathway.PATHWAY_3_ASSESSMENT
    assert placement.assessment_ends_on == start + timedelta(days=42)
    assert placement.review_on == start + timedelta(days=42)
    long_term = DischargeRequestFactory(commissioner=council_a, created_by=broker_a, pathway=Pathway.LONG_TERM)
    other = block_bed_fill(bed=beds[1], request=long_term, actor=broker_a, start_date=start).placement
    assert (other.pathway, other.assessment_ends_on, other.review_on) == ("", None, None)


def test_an_awarded_pathway_3_request_starts_its_assessment_with_the_default_period(council_a, broker_a):
    from bidding.models import Bid, Tender
    from bidding.services import tender_award, tender_close_and_evaluate

    from .factories import BidFactory, DischargeRequestFactory, InvitationFactory, TenderFactory

    d2a = DischargeRequestFactory(commissioner=council_a, created_by=broker_a)
    tender = TenderFactory(
        request=d2a, opened_at=timezone.now() - timedelta(hours=2), closes_at=timezone.now() - timedelta(minutes=1)
    )
    d2a.status = PlacementRequest.Status.TENDERING
    d2a.save(update_fields=["status"])
    invitation = InvitationFactory(tender=tender, care_home=CareHomeFactory())
    BidFactory(invitation=invitation)
    tender_close_and_evaluate(tender_id=tender.pk)
    tender.refresh_from_db()
    assert tender.status == Tender.Status.EVALUATED
    bid = Bid.objects.get(tender=tender)
    award = tender_award(actor=broker_a, tender=tender, bid=bid, standstill_waiver_reason="Hospital discharge")
    placement = Placement.objects.get(request=award.tender.request)
    assert placement.pathway == Pathway.PATHWAY_3_ASSESSMENT
    assert placement.assessment_ends_on == placement.start_date + timedelta(days=28)
