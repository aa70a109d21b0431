"""Complaints and safeguarding concerns: a reference only; a safeguarding concern may embargo the home
for the recording body only; the embargo lifts only by a recorded decision, never on its review date,
which shows as due on the commissioner's pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bidding.models import Invitation
from bidding.services import eligible_care_homes
from core.errors import ApplicationError, NotFoundError
from core.models import AuditEvent
from providers.models import AdmissionClosure
from providers.selectors import care_home_closed_to_admissions
from quality.models import Concern
from quality.selectors import embargo_reviews_due
from quality.services import concern_embargo_lift, concern_record, concern_update

from .factories import AdmissionFactory, InvitationFactory, PlacementRequestFactory, TenderFactory, admitted_home, lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(council_a, council_b, provider_a):
    home = admitted_home(council_a, provider=provider_a, name="Meadow View")
    AdmissionFactory(commissioner=council_b, care_home=home, lot=lot(1))
    return home


def safeguarding(actor, home, **kwargs):
    values = {
        "kind": "safeguarding",
        "received_on": timezone.localdate(),
        "category": "neglect",
        "severity": "high",
        "reference": "SG-2026-041",
        "embargo": True,
        "review_on": timezone.localdate() + timedelta(days=14),
    }
    return concern_record(actor=actor, care_home=home, **(values | kwargs))


def test_a_safeguarding_embargo_stops_invitations_from_this_body_only(
    home, council_a, council_b, commissioner_a, broker_a, broker_b
):
    invitation_a = InvitationFactory(care_home=home, tender=TenderFactory(request__commissioner=council_a))
    invitation_b = InvitationFactory(care_home=home, tender=TenderFactory(request__commissioner=council_b))
    concern = safeguarding(commissioner_a, home)

    closure = concern.embargo
    assert (closure.reason, closure.commissioner, closure.review_on) == (
        AdmissionClosure.Reason.SAFEGUARDING_EMBARGO,
        council_a,
        timezone.localdate() + timedelta(days=14),
    )
    assert care_home_closed_to_admissions(home, council_a)
    assert not care_home_closed_to_admissions(home, council_b)
    assert eligible_care_homes(request=PlacementRequestFactory(commissioner=council_a, created_by=broker_a)).homes == []
    assert eligible_care_homes(request=PlacementRequestFactory(commissioner=council_b, created_by=broker_b)).homes == [
        home
    ]
    invitation_a.refresh_from_db()
    invitation_b.refresh_from_db()
    assert invitation_a.status == Invitation.Status.WITHDRAWN
    assert invitation_b.status != Invitation.Status.WITHDRAWN


def test_the_embargo_stays_past_its_review_date_until_a_decision_lifts_it(home, council_a, commissioner_a):
    concern = safeguarding(commissioner_a, home)
    AdmissionClosure.objects.filter(pk=concern.embargo_id).update(review_on=timezone.localdate() - timedelta(days=1))
    later = timezone.now() + timedelta(days=30)
    assert care_home_closed_to_admissions(home, council_a, later)
    assert list(embargo_reviews_due(actor=commissioner_a)) == [concern]

    # Closing the concern is not the decision: the embargo stays.
    concern_update(actor=commissioner_a, concern=concern, status="closed", outcome="substantiated")
    assert care_home_closed_to_admissions(home, council_a)
    with pytest.raises(ApplicationError) as error:
        concern_embargo_lift(actor=commissioner_a, concern=concern, decision=" ")
    assert "decision" in error.value.fields

    concern_embargo_lift(actor=commissioner_a, concern=concern, decision="Strategy meeting 3 Dec: risks managed")
    assert not care_home_closed_to_admissions(home, council_a)
    assert not embargo_reviews_due(actor=commissioner_a).exists()
    closure = AdmissionClosure.objects.get(pk=concern.embargo_id)
    assert closure.lift_reason == "Strategy meeting 3 Dec: risks managed"
    assert AuditEvent.objects.filter(verb="providers.admission_closure.lifted").count() == 1


def test_a_complaint_never_embargoes_and_an_embargo_needs_a_review_date(home, commissioner_a):
    with pytest.raises(ApplicationError) as error:
        safeguarding(commissioner_a, home, kind="complaint", review_on=None, reference="")
    assert set(error.value.fields) == {"embargo", "review_on", "reference"}
    assert not Concern.objects.exists() and not AdmissionClosure.objects.exists()


def test_closing_needs_an_outcome_and_another_body_cannot_touch_the_concern(home, commissioner_a, commissioner_b):
    concern = safeguarding(commissioner_a, home, embargo=False)
    with pytest.raises(ApplicationError) as error:
        concern_update(actor=commissioner_a, concern=concern, status="closed", outcome="")
    assert "outcome" in error.value.fields
    with pytest.raises(NotFoundError):
        concern_update(actor=commissioner_b, concern=concern, status="closed", outcome="inconclusive")
    assert list(embargo_reviews_due(actor=commissioner_b)) == []


def test_the_review_shows_as_due_on_the_commissioners_pages(home, commissioner_a, commissioner_b, as_user):
    concern = safeguarding(commissioner_a, home)
    AdmissionClosure.objects.filter(pk=concern.embargo_id).update(review_on=timezone.localdate())
    for path in ["/commissioner/monitoring/", f"/commissioner/care-homes/{home.pk}/quality/"]:
        page = as_user(commissioner_a).get(path)
        assert b"Review due" in page.content or b"Embargo reviews due" in page.content, path
    other = as_user(commissioner_b).get(f"/commissioner/care-homes/{home.pk}/concerns/")
    assert other.status_code == 200 and b"SG-2026-041" not in other.content
    assert as_user(commissioner_b).get(f"/commissioner/concerns/{concern.pk}/").status_code == 404


def test_the_api_records_a_concern_with_an_embargo(home, council_a, council_b, api_as):
    writer = api_as(council_a, scopes=["quality"], role="commissioner")
    body = {
        "kind": "safeguarding",
        "received_on": str(timezone.localdate()),
        "category": "physical",
        "severity": "high",
        "reference": "SG-API-1",
        "embargo": True,
    }
    refused = writer.post(f"/api/v1/care-homes/{home.pk}/concerns/", body)
    assert refused.status_code == 400 and "review_on" in refused.json()["errors"]
    body["review_on"] = str(timezone.localdate() + timedelta(days=7))
    made = writer.post(f"/api/v1/care-homes/{home.pk}/concerns/", body)
    assert made.status_code == 201, made.json()
    assert made.json()["embargo_review_on"] == body["review_on"]
    other = api_as(council_b, scopes=["read"], role="commissioner")
    assert other.get(f"/api/v1/care-homes/{home.pk}/concerns/").json() == []
