"""Closed to admissions: closed homes are never invited, a closure withdraws the open invitations of
the bodies it binds, an embargo binds one body only, and lifting needs a reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Bid, Invitation
from bidding.services import bid_submit, eligible_care_homes, tender_publish
from core.errors import ApplicationError, ConflictError, ForbiddenError, NotFoundError
from core.models import AuditEvent, Notification
from providers.models import AdmissionClosure, CareHome
from providers.selectors import care_home_closed_to_admissions, closed_to_admissions_q
from providers.services import admission_closure_lift, admission_closure_open, admission_closures_take_effect

from .factories import (
    AdmissionClosureFactory,
    BidFactory,
    InvitationFactory,
    PlacementRequestFactory,
    TenderFactory,
    admitted_home,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(council_a, council_b, provider_a, provider_user_a):
    home = admitted_home(council_a, provider=provider_a, name="Meadow View")
    admitted_home_also(home, council_b)
    return home


def admitted_home_also(home, commissioner):
    from .factories import AdmissionFactory, lot

    AdmissionFactory(commissioner=commissioner, care_home=home, lot=lot(1))


@pytest.fixture
def other_home(council_a, provider_b, provider_user_b):
    return admitted_home(council_a, provider=provider_b, name="Other Home")


def open_invitation(home, commissioner):
    return InvitationFactory(care_home=home, tender=TenderFactory(request__commissioner=commissioner))


def test_a_home_closed_for_every_body_is_closed_for_each_and_an_embargo_for_its_body_only(home, council_a, council_b):
    AdmissionClosureFactory(care_home=home, commissioner=council_a, reason="safeguarding_embargo")
    assert care_home_closed_to_admissions(home, council_a)
    assert not care_home_closed_to_admissions(home, council_b)
    assert list(CareHome.objects.filter(closed_to_admissions_q(council_a))) == [home]
    assert not CareHome.objects.filter(closed_to_admissions_q(council_b)).exists()

    AdmissionClosureFactory(care_home=home)
    assert care_home_closed_to_admissions(home, council_b)


def test_a_closure_holds_from_its_start_until_its_end_or_its_lifting(home, council_a):
    now = timezone.now()
    closure = AdmissionClosureFactory(
        care_home=home, starts_at=now + timedelta(hours=2), ends_at=now + timedelta(days=2)
    )
    assert not care_home_closed_to_admissions(home, council_a, now)
    assert care_home_closed_to_admissions(home, council_a, now + timedelta(hours=3))
    assert not care_home_closed_to_admissions(home, council_a, now + timedelta(days=2))
    AdmissionClosure.objects.filter(pk=closure.pk).update(lifted_at=now + timedelta(hours=5), lift_reason="Clear")
    assert care_home_closed_to_admissions(home, council_a, now + timedelta(hours=4))
    assert not care_home_closed_to_admissions(home, council_a, now + timedelta(hours=5))


def test_closed_homes_are_never_invited(home, other_home, council_a, broker_a):
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    AdmissionClosureFactory(care_home=home)
    assert eligible_care_homes(request=request).homes == [other_home]
    tender = tender_publish(actor=broker_a, request=request)
    assert set(tender.invitations.values_list("care_home__name", flat=True)) == {"Other Home"}


def test_when_every_home_is_closed_publishing_says_so(home, council_a, broker_a):
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    AdmissionClosureFactory(care_home=home)
    with pytest.raises(ApplicationError, match="closed to admissions"):
        tender_publish(actor=broker_a, request=request)


def test_an_embargo_of_another_body_does_not_stop_invitations(home, council_a, council_b, broker_a):
    AdmissionClosureFactory(care_home=home, commissioner=council_b, reason="safeguarding_embargo")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    assert eligible_care_homes(request=request).homes == [home]


def test_the_providers_closure_withdraws_every_bodys_open_invitations_and_bids(
    home, other_home, council_a, council_b, provider_user_a
):
    invitation_a = open_invitation(home, council_a)
    bid_b = BidFactory(invitation=open_invitation(home, council_b))
    untouched = open_invitation(other_home, council_a)

    closure = admission_closure_open(actor=provider_user_a, care_home=home, reason="outbreak", details="Covid-19")

    invitation_a.refresh_from_db()
    bid_b.refresh_from_db()
    untouched.refresh_from_db()
    assert invitation_a.status == Invitation.Status.WITHDRAWN
    assert "closed to admissions" in invitation_a.withdrawn_reason and "Covid-19" in invitation_a.withdrawn_reason
    assert bid_b.status == Bid.Status.EXCLUDED
    assert untouched.status == Invitation.Status.INVITED
    closure.refresh_from_db()
    assert closure.took_effect_at is not None
    event = AuditEvent.objects.get(verb="providers.admission_closure.opened")
    assert event.actor == provider_user_a and event.detail["reason"] == "outbreak"


def test_an_embargo_withdraws_its_own_bodys_invitations_only_and_tells_the_provider(
    home, council_a, council_b, commissioner_a, provider_user_a
):
    invitation_a = open_invitation(home, council_a)
    invitation_b = open_invitation(home, council_b)

    admission_closure_open(
        actor=commissioner_a,
        care_home=home,
        commissioner=council_a,
        reason="safeguarding_embargo",
        details="Enquiry under section 42",
    )

    invitation_a.refresh_from_db()
    invitation_b.refresh_from_db()
    assert invitation_a.status == Invitation.Status.WITHDRAWN
    assert invitation_b.status == Invitation.Status.INVITED
    notice = Notification.objects.get(verb="providers.admission_closure.opened")
    assert notice.recipient == provider_user_a and "Staffordshire County Council" in notice.body


def test_a_closure_dated_ahead_withdraws_invitations_once_when_it_starts(home, council_a, provider_user_a):
    invitation = open_invitation(home, council_a)
    closure = admission_closure_open(
        actor=provider_user_a, care_home=home, reason="refurbishment", starts_at=timezone.now() + timedelta(hours=1)
    )
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.INVITED
    assert admission_closures_take_effect() == 0

    AdmissionClosure.objects.filter(pk=closure.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    assert admission_closures_take_effect() == 1
    assert admission_closures_take_effect() == 0
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.WITHDRAWN
    assert AuditEvent.objects.filter(verb="bidding.invitation.withdrawn").count() == 1


def test_a_closed_home_cannot_bid(home, council_a, provider_user_a):
    invitation = open_invitation(home, council_a)
    AdmissionClosureFactory(care_home=home, took_effect_at=None)
    with pytest.raises(ApplicationError, match="closed to admissions") as refused:
        bid_submit(
            actor=provider_user_a,
            tender=invitation.tender,
            care_home=home,
            weekly_fee=Decimal("800.00"),
            earliest_start=timezone.localdate(),
            needs_confirmed=True,
        )
    assert refused.value.code == "closed_to_admissions"


def test_who_may_close_and_for_whom(home, council_a, council_b, commissioner_a, broker_a, provider_user_b):
    with pytest.raises(ApplicationError, match="every council"):
        admission_closure_open(
            actor=home.provider.users.get(), care_home=home, reason="outbreak", commissioner=council_a
        )
    with pytest.raises(ForbiddenError):
        admission_closure_open(actor=commissioner_a, care_home=home, reason="outbreak")
    with pytest.raises(ForbiddenError):
        admission_closure_open(actor=commissioner_a, care_home=home, reason="outbreak", commissioner=council_b)
    with pytest.raises(ForbiddenError):
        admission_closure_open(actor=broker_a, care_home=home, reason="outbreak", commissioner=council_a)
    with pytest.raises(NotFoundError):
        admission_closure_open(actor=provider_user_b, care_home=home, reason="outbreak")
    assert not AdmissionClosure.objects.exists()


def test_bad_closures_are_refused_field_by_field(home, provider_user_a):
    now = timezone.now()
    with pytest.raises(ApplicationError) as refused:
        admission_closure_open(
            actor=provider_user_a,
            care_home=home,
            reason="other",
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=1),
            review_on=timezone.localdate(),
        )
    assert set(refused.value.fields) == {"details", "ends_at", "review_on"}
    with pytest.raises(ApplicationError) as refused:
        admission_closure_open(actor=provider_user_a, care_home=home, reason="holiday")
    assert set(refused.value.fields) == {"reason"}


def test_lifting_needs_a_reason_reopens_the_home_and_is_audited(home, council_a, broker_a, provider_user_a):
    closure = admission_closure_open(actor=provider_user_a, care_home=home, reason="outbreak")
    with pytest.raises(ApplicationError) as refused:
        admission_closure_lift(actor=provider_user_a, closure=closure, reason=" ")
    assert refused.value.fields == {"reason": ["Enter a reason."]}

    admission_closure_lift(actor=provider_user_a, closure=closure, reason="Outbreak declared over by UKHSA")

    assert not care_home_closed_to_admissions(home, council_a)
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    assert eligible_care_homes(request=request).homes == [home]
    event = AuditEvent.objects.get(verb="providers.admission_closure.lifted")
    assert event.reason == "Outbreak declared over by UKHSA"
    with pytest.raises(ConflictError):
        admission_closure_lift(actor=provider_user_a, closure=closure, reason="Again")


def test_only_the_body_lifts_its_embargo(home, council_a, commissioner_a, commissioner_b, provider_user_a):
    embargo = AdmissionClosureFactory(care_home=home, commissioner=council_a, reason="safeguarding_embargo")
    with pytest.raises(ForbiddenError):
        admission_closure_lift(actor=provider_user_a, closure=embargo, reason="We fixed it")
    with pytest.raises(NotFoundError):
        admission_closure_lift(actor=commissioner_b, closure=embargo, reason="Not ours")
    admission_closure_lift(actor=commissioner_a, closure=embargo, reason="Enquiry closed")
    embargo.refresh_from_db()
    assert embargo.lifted_by == commissioner_a
