"""Top-ups with consent: an award above the council's maximum rate needs the third party's signed
agreement and the broker's affordability check; a stopped top-up falls to the council."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from bidding.models import Bid, Tender
from bidding.services import bid_submit, tender_award, tender_publish
from contracts.models import TopUpAgreement
from contracts.pdf import agreement_pdf
from contracts.selectors import shares_on
from contracts.services import top_up_agreement_record
from core.errors import ApplicationError, ForbiddenError
from core.models import AuditEvent
from placements.models import Placement
from quality.models import RatingValue

from .factories import PlacementRequestFactory, admitted_home, top_up_agreed

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def evaluated(council_a, broker_a, provider_a, provider_user_a):
    """A tender closed with one bid of 950.00 a week against the council's maximum of 900.00."""
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=D("900.00"))
    home = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Hill View")
    tender = tender_publish(actor=broker_a, request=request)
    bid = bid_submit(
        actor=provider_user_a,
        tender=tender,
        care_home=home,
        weekly_fee=D("950.00"),
        earliest_start=timezone.localdate(),
        needs_confirmed=True,
    )
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - dt.timedelta(hours=3), closes_at=timezone.now() - dt.timedelta(seconds=1)
    )
    return request, tender, bid


def test_an_award_with_a_top_up_and_no_recorded_agreement_is_refused(evaluated, broker_a):
    _, tender, bid = evaluated
    with pytest.raises(ApplicationError) as refused:
        tender_award(actor=broker_a, tender=tender, bid=bid, top_up_payer="Her daughter")
    assert refused.value.code == "top_up_agreement_required"
    assert "£50.00 a week" in refused.value.message
    assert not Placement.objects.exists()


def test_an_agreement_for_another_amount_does_not_allow_the_award(evaluated, broker_a):
    request, tender, bid = evaluated
    top_up_agreed(request, broker_a, "40.00")
    with pytest.raises(ApplicationError) as refused:
        tender_award(actor=broker_a, tender=tender, bid=bid, top_up_payer="Her daughter")
    assert refused.value.code == "top_up_agreement_amount"


def test_an_agreement_without_affordability_or_signature_is_not_recorded(evaluated, broker_a, broker_b):
    request, _, _ = evaluated
    with pytest.raises(ApplicationError) as refused:
        top_up_agreement_record(
            request=request,
            by=broker_a,
            payer_name="Her daughter",
            relationship="",
            weekly_amount=D("50.00"),
            starts_on=request.needed_from,
            signed_via=TopUpAgreement.SignedVia.CHOICE_LINK,
            signed_on=timezone.localdate(),
            affordability_confirmed=False,
        )
    assert set(refused.value.fields) == {"relationship", "signed_via", "affordability_confirmed"}
    assert not TopUpAgreement.objects.exists()
    with pytest.raises((ForbiddenError, ApplicationError)):
        top_up_agreed(request, broker_b, "50.00")


def test_with_the_agreement_the_award_records_consent_and_the_top_up_share(evaluated, broker_a):
    request, tender, bid = evaluated
    agreement = top_up_agreed(request, broker_a, "50.00", payer_name="Ann Example")

    award = tender_award(actor=broker_a, tender=tender, bid=bid)

    assert award.top_up_consent is True and award.top_up_payer == "Ann Example"
    placement = Placement.objects.get()
    agreement.refresh_from_db()
    assert agreement.placement == placement
    shares = {s.payer_type: (s.payer, s.weekly_amount) for s in shares_on(placement, placement.start_date)}
    assert shares == {"council": (request.commissioner.name, D("900.00")), "top_up": ("Ann Example", D("50.00"))}
    contract = placement.agreements.get(is_current=True)
    assert "Ann Example (Daughter)" in contract.top_up_terms
    document = PdfReader(io.BytesIO(agreement_pdf(contract)))
    text = " ".join(page.extract_text() for page in document.pages)
    assert "Top-up agreement" in text and "Ann Example (Daughter)" in text
    assert "Absences and deaths" in text
    assert AuditEvent.objects.filter(verb="contracts.top_up_agreement.recorded").count() == 1


def test_an_award_within_the_council_rate_needs_no_agreement(council_a, broker_a, provider_a, provider_user_a):
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=D("900.00"))
    home = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD)
    tender = tender_publish(actor=broker_a, request=request)
    bid = bid_submit(
        actor=provider_user_a,
        tender=tender,
        care_home=home,
        weekly_fee=D("880.00"),
        earliest_start=timezone.localdate(),
        needs_confirmed=True,
    )
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - dt.timedelta(hours=3), closes_at=timezone.now() - dt.timedelta(seconds=1)
    )
    award = tender_award(actor=broker_a, tender=tender, bid=Bid.objects.get(pk=bid.pk))
    assert award.top_up_weekly_amount == 0 and award.top_up_consent is False
