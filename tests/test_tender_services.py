"""Publishing, bidding against the deadline, closing, evaluating, awarding: the services."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from bidding.models import Award, Bid, Invitation, Tender
from bidding.services import (
    bid_amend,
    bid_submit,
    bid_withdraw,
    placement_request_cancel,
    placement_request_retender,
    tender_award,
    tender_close,
    tender_close_and_evaluate,
    tender_evaluate,
    tender_publish,
    tenders_close_overdue,
)
from core.errors import ApplicationError, ConflictError, ForbiddenError, NotFoundError
from core.models import AuditEvent, Notification
from placements.models import Placement, PlacementRequest
from providers.models import Admission, CareHome
from quality.models import RatingValue

from .factories import (
    CareHomeFactory,
    PlacementRequestFactory,
    ProviderOrganisationFactory,
    SpecialismFactory,
    UserFactory,
    admitted_home,
    lot,
    top_up_agreed,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def homes(council_a, provider_a, provider_b, provider_user_a, provider_user_b):
    provider_c = ProviderOrganisationFactory(name="Chase Care Ltd", slug="provider-c")
    UserFactory(organisation=provider_c, role="provider", email="user@provider-c.example")
    return {
        "good_a": admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Good A"),
        "outstanding_b": admitted_home(
            council_a, provider=provider_b, rating=RatingValue.OUTSTANDING, name="Outstanding B"
        ),
        "ri_c": admitted_home(council_a, provider=provider_c, rating=RatingValue.REQUIRES_IMPROVEMENT, name="RI C"),
    }


@pytest.fixture
def placement_request(council_a, broker_a):
    return PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("900.00"))


def force_past_deadline(tender: Tender) -> None:
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )


def bid_for(user, tender, home, fee):
    return bid_submit(
        actor=user,
        tender=tender,
        care_home=home,
        weekly_fee=Decimal(fee),
        earliest_start=timezone.localdate() + timedelta(days=2),
        needs_confirmed=True,
    )


def provider_user(home):
    return home.provider.users.get()


# --- Publishing and eligibility ------------------------------------------------------------


def test_publish_invites_only_eligible_homes_and_copies_the_lot_rules(
    council_a, council_b, broker_a, provider_user_a, placement_request, homes, provider_a
):
    inadequate = admitted_home(council_a, provider=provider_a, rating=RatingValue.INADEQUATE, name="Inadequate")
    suspended = admitted_home(council_a, provider=provider_a, name="Suspended")
    Admission.objects.filter(care_home=suspended).update(status=Admission.Status.SUSPENDED)
    deregistered = admitted_home(council_a, provider=provider_a, name="Deregistered")
    CareHome.objects.filter(pk=deregistered.pk).update(registration_status=CareHome.RegistrationStatus.DEREGISTERED)
    admitted_home(council_b, provider=provider_a, name="Other council's DPS")
    admitted_home(council_a, provider=provider_a, name="Lot 2 only", lot_number=2)
    admitted_home(
        council_a, provider=provider_a, name="Far away", local_authority="Cornwall", latitude=50.26, longitude=-5.05
    )
    CareHomeFactory(provider=provider_a, name="Not on the DPS")

    tender = tender_publish(actor=broker_a, request=placement_request)

    invited = set(tender.invitations.values_list("care_home__name", flat=True))
    assert invited == {"Good A", "Outstanding B", "RI C"}
    assert inadequate.name not in invited
    assert (tender.quality_weight, tender.price_weight, tender.not_yet_rated_score) == (60, 40, 50)
    assert tender.max_weekly_rate == Decimal("900.00")
    assert tender.closes_at - tender.opened_at == timedelta(hours=48)
    placement_request.refresh_from_db()
    assert placement_request.status == PlacementRequest.Status.TENDERING
    invited_notices = Notification.objects.filter(verb="bidding.tender.invited")
    assert set(invited_notices.values_list("recipient__organisation__slug", flat=True)) == {
        "provider-a",
        "provider-b",
        "provider-c",
    }
    assert AuditEvent.objects.filter(verb="bidding.tender.published", target_id=str(placement_request.pk)).exists()


def test_specialisms_and_distance_limit_the_invitations(council_a, broker_a, provider_a):
    dementia = SpecialismFactory(code="dementia", name="Dementia")
    admitted_home(council_a, provider=provider_a, name="Dementia near", specialism_codes=["dementia"])
    admitted_home(council_a, provider=provider_a, name="No dementia near")
    admitted_home(
        council_a,
        provider=provider_a,
        name="Dementia far",
        specialism_codes=["dementia"],
        local_authority="Derby",
        latitude=52.92,
        longitude=-1.476,
    )
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, local_authority="")
    request.specialisms.set([dementia])

    tender = tender_publish(actor=broker_a, request=request)

    assert list(tender.invitations.values_list("care_home__name", flat=True)) == ["Dementia near"]
    assert tender.invitations.get().distance_km == Decimal("0.0")


def test_publish_with_no_eligible_home_is_refused_with_the_reason(council_a, broker_a, provider_a):
    admitted_home(
        council_a, provider=provider_a, local_authority="Cornwall", latitude=50.26, longitude=-5.05, lot_number=8
    )
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, lot=lot(8))

    with pytest.raises(ApplicationError) as refused:
        tender_publish(actor=broker_a, request=request)

    assert refused.value.code == "no_eligible_homes"
    assert refused.value.message == "No admitted home in lot 8 in Staffordshire or within 20 km of the location."
    assert not Tender.objects.exists()


def test_publish_with_no_admitted_home_names_the_lot(council_a, broker_a):
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)

    with pytest.raises(ApplicationError, match="No home is admitted to lot 1"):
        tender_publish(actor=broker_a, request=request)


def test_closing_time_must_respect_the_lots_window(broker_a, placement_request, homes):
    with pytest.raises(ApplicationError) as refused:
        tender_publish(actor=broker_a, request=placement_request, closes_at=timezone.now() + timedelta(minutes=30))

    assert "closes_at" in refused.value.fields


def test_only_the_councils_brokers_publish(commissioner_a, broker_b, placement_request, homes):
    with pytest.raises(ForbiddenError):
        tender_publish(actor=commissioner_a, request=placement_request)
    with pytest.raises(NotFoundError):
        tender_publish(actor=broker_b, request=placement_request)


# --- Bids and the deadline ------------------------------------------------------------------


def test_bid_after_deadline_is_refused_and_tender_reads_closed_without_a_worker(
    broker_a, placement_request, homes, as_user
):
    tender = tender_publish(actor=broker_a, request=placement_request)
    home = homes["good_a"]
    bid = bid_for(provider_user(home), tender, home, "800")
    force_past_deadline(tender)

    with pytest.raises(ConflictError) as refused:
        bid_for(provider_user(homes["ri_c"]), tender, homes["ri_c"], "700")
    assert refused.value.code == "tender_closed"
    with pytest.raises(ConflictError):
        bid_amend(actor=provider_user(home), bid=bid, weekly_fee=Decimal("750"))
    with pytest.raises(ConflictError):
        bid_withdraw(actor=provider_user(home), bid=bid)

    tender.refresh_from_db()
    assert tender.status == Tender.Status.OPEN, "no worker has run"
    page = as_user(provider_user(home)).get(f"/provider/invitations/{tender.invitations.get(care_home=home).pk}/")
    assert 'id="tender-state">Closed<' in page.content.decode()
    assert "Submit bid" not in page.content.decode()
    assert Bid.objects.get(pk=bid.pk).weekly_fee == Decimal("800.00")


def test_provider_amends_and_withdraws_before_the_deadline(broker_a, placement_request, homes):
    tender = tender_publish(actor=broker_a, request=placement_request)
    home = homes["good_a"]
    user = provider_user(home)
    bid = bid_for(user, tender, home, "800")

    bid = bid_amend(actor=user, bid=bid, weekly_fee=Decimal("780"))
    assert bid.weekly_fee == Decimal("780")
    bid = bid_withdraw(actor=user, bid=bid)
    assert bid.status == Bid.Status.WITHDRAWN
    bid = bid_for(user, tender, home, "790")
    assert bid.status == Bid.Status.SUBMITTED
    verbs = list(
        AuditEvent.objects.filter(verb__startswith="bidding.bid").order_by("pk").values_list("verb", flat=True)
    )
    assert verbs == ["bidding.bid.submitted", "bidding.bid.amended", "bidding.bid.withdrawn", "bidding.bid.submitted"]
    assert all("weekly_fee" not in event.detail for event in AuditEvent.objects.all())


def test_a_bid_needs_a_confirmation_and_a_fee(broker_a, placement_request, homes):
    tender = tender_publish(actor=broker_a, request=placement_request)
    home = homes["good_a"]

    with pytest.raises(ApplicationError) as refused:
        bid_submit(
            actor=provider_user(home),
            tender=tender,
            care_home=home,
            weekly_fee=Decimal("0"),
            earliest_start=timezone.localdate(),
            needs_confirmed=False,
        )
    assert set(refused.value.fields) == {"weekly_fee", "needs_confirmed"}


def test_provider_cannot_bid_for_another_providers_home_or_change_its_bid(broker_a, placement_request, homes):
    tender = tender_publish(actor=broker_a, request=placement_request)
    other = provider_user(homes["outstanding_b"])
    bid = bid_for(provider_user(homes["good_a"]), tender, homes["good_a"], "800")

    with pytest.raises(ApplicationError, match="your own care homes"):
        bid_for(other, tender, homes["good_a"], "700")
    with pytest.raises(NotFoundError):
        bid_amend(actor=other, bid=bid, weekly_fee=Decimal("1"))
    with pytest.raises(NotFoundError):
        bid_withdraw(actor=other, bid=bid)


def test_suspended_or_inadequate_home_cannot_bid(broker_a, placement_request, homes):
    tender = tender_publish(actor=broker_a, request=placement_request)
    suspended, rated_down = homes["good_a"], homes["ri_c"]
    Admission.objects.filter(care_home=suspended).update(status=Admission.Status.SUSPENDED)
    rated_down.current_rating.overall = RatingValue.INADEQUATE
    rated_down.current_rating.save()

    for home in (suspended, rated_down):
        with pytest.raises(ApplicationError) as refused:
            bid_for(provider_user(home), tender, home, "800")
        assert refused.value.code == "not_eligible"
    assert not Bid.objects.exists()


def test_home_withdrawn_on_suspension_cannot_bid_again(broker_a, placement_request, homes):
    from bidding.services import invitations_withdraw_for_care_home

    tender = tender_publish(actor=broker_a, request=placement_request)
    home = homes["good_a"]
    bid_for(provider_user(home), tender, home, "800")

    withdrawn = invitations_withdraw_for_care_home(
        care_home=home, actor=None, reason="Safeguarding concern", commissioner=placement_request.commissioner
    )
    assert withdrawn == 1

    with pytest.raises(ApplicationError) as refused:
        bid_for(provider_user(home), tender, home, "700")
    assert refused.value.code == "invitation_withdrawn"
    assert Bid.objects.get().status == Bid.Status.EXCLUDED


# --- Close and evaluate -------------------------------------------------------------------


def test_close_before_the_deadline_does_nothing(broker_a, placement_request, homes):
    tender = tender_publish(actor=broker_a, request=placement_request)

    assert tender_close(tender_id=tender.pk) is False
    assert Tender.objects.get(pk=tender.pk).status == Tender.Status.OPEN


def test_close_with_no_bids_and_retender_with_a_higher_rate(broker_a, placement_request, homes):
    tender = tender_publish(actor=broker_a, request=placement_request)
    bid = bid_for(provider_user(homes["good_a"]), tender, homes["good_a"], "800")
    bid_withdraw(actor=provider_user(homes["good_a"]), bid=bid)
    force_past_deadline(tender)

    tender_close_and_evaluate(tender_id=tender.pk)

    tender.refresh_from_db()
    assert tender.status == Tender.Status.NO_BIDS
    assert Notification.objects.filter(verb="bidding.tender.no_bids", recipient=broker_a).count() == 1
    with pytest.raises(ApplicationError):
        placement_request_retender(actor=broker_a, request=placement_request)
    second = placement_request_retender(actor=broker_a, request=placement_request, max_weekly_rate=Decimal("950"))
    assert second.pk != tender.pk
    assert second.max_weekly_rate == Decimal("950")
    assert AuditEvent.objects.get(verb="placements.request.retendered").detail["max_weekly_rate"] == {
        "from": "900.00",
        "to": "950",
    }


def test_broker_cancels_with_a_reason_before_award(broker_a, placement_request, homes):
    tender = tender_publish(actor=broker_a, request=placement_request)

    with pytest.raises(ApplicationError):
        placement_request_cancel(actor=broker_a, request=placement_request, reason=" ")
    placement_request_cancel(actor=broker_a, request=placement_request, reason="Person went home with care")

    tender.refresh_from_db()
    placement_request.refresh_from_db()
    assert tender.status == Tender.Status.CANCELLED
    assert placement_request.status == PlacementRequest.Status.CANCELLED
    assert placement_request.cancel_reason == "Person went home with care"
    with pytest.raises(ConflictError):
        bid_for(provider_user(homes["good_a"]), tender, homes["good_a"], "800")


def _tender_with_three_bids(broker_a, placement_request, homes):
    tender = tender_publish(actor=broker_a, request=placement_request)
    bids = {
        "good_a": bid_for(provider_user(homes["good_a"]), tender, homes["good_a"], "700"),
        "outstanding_b": bid_for(provider_user(homes["outstanding_b"]), tender, homes["outstanding_b"], "800"),
        "ri_c": bid_for(provider_user(homes["ri_c"]), tender, homes["ri_c"], "1000"),
    }
    force_past_deadline(tender)
    return tender, bids


def test_close_and_evaluate_twice_gives_one_evaluation_and_one_set_of_notifications(broker_a, placement_request, homes):
    tender, bids = _tender_with_three_bids(broker_a, placement_request, homes)

    tender_close_and_evaluate(tender_id=tender.pk)
    first = {b.pk: (b.rank, b.total_score) for b in Bid.objects.filter(tender=tender)}
    assert tender_close(tender_id=tender.pk) is False
    assert tender_evaluate(tender_id=tender.pk) is False
    assert tenders_close_overdue() == 0

    assert {b.pk: (b.rank, b.total_score) for b in Bid.objects.filter(tender=tender)} == first
    assert first[bids["outstanding_b"].pk] == (1, Decimal("95.00"))
    assert first[bids["good_a"].pk] == (2, Decimal("85.00"))
    assert first[bids["ri_c"].pk] == (3, Decimal("52.00"))
    assert Bid.objects.get(pk=bids["ri_c"].pk).above_max_rate is True
    assert AuditEvent.objects.filter(verb="bidding.tender.evaluated").count() == 1
    assert AuditEvent.objects.filter(verb="bidding.tender.closed").count() == 1
    assert Notification.objects.filter(verb="bidding.tender.evaluated").count() == 1


@pytest.mark.django_db(transaction=True)
def test_close_and_evaluate_in_two_workers_at_once_gives_one_result(broker_a, placement_request, homes):
    tender, _ = _tender_with_three_bids(broker_a, placement_request, homes)
    start = threading.Barrier(4)
    errors = []

    def worker():
        try:
            start.wait()
            tender_close_and_evaluate(tender_id=tender.pk)
        except Exception as error:  # collected so the assertion below reports it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Tender.objects.get(pk=tender.pk).status == Tender.Status.EVALUATED
    assert AuditEvent.objects.filter(verb="bidding.tender.closed").count() == 1
    assert AuditEvent.objects.filter(verb="bidding.tender.evaluated").count() == 1
    assert Notification.objects.filter(verb="bidding.tender.evaluated").count() == 1
    assert sorted(Bid.objects.values_list("rank", flat=True)) == [1, 2, 3]


# --- Award ----------------------------------------------------------------------------------


def test_award_before_close_is_refused(broker_a, placement_request, homes):
    tender = tender_publish(actor=broker_a, request=placement_request)
    bid = bid_for(provider_user(homes["good_a"]), tender, homes["good_a"], "700")

    with pytest.raises(ConflictError):
        tender_award(actor=broker_a, tender=tender, bid=bid)


def test_award_of_the_top_bid_creates_the_placement_and_tells_every_bidder(
    broker_a, placement_request, homes, council_a
):
    tender, bids = _tender_with_three_bids(broker_a, placement_request, homes)

    award = tender_award(actor=broker_a, tender=tender, bid=bids["outstanding_b"])

    assert award.top_ranked is True
    placement = Placement.objects.get(request=placement_request)
    assert placement.care_home == homes["outstanding_b"]
    assert placement.weekly_fee == placement.council_weekly_amount == Decimal("800.00")
    assert placement.top_up_weekly_amount == 0
    assert placement.in_county is True
    assert placement.sourced_at == award.awarded_at
    assert placement.requested_at == placement_request.requested_at
    assert placement.target_date == placement_request.target_date
    assert placement.case_reference == placement_request.case_reference
    placement_request.refresh_from_db()
    assert placement_request.sourced_at == award.awarded_at
    assert placement_request.status == PlacementRequest.Status.AWARDED
    assert Notification.objects.filter(verb="bidding.bid.won").count() == 1
    assert Notification.objects.filter(verb="bidding.bid.unsuccessful").count() == 2


def test_award_of_another_bid_needs_a_reason_and_a_top_up_payer_above_the_rate(broker_a, placement_request, homes):
    tender, bids = _tender_with_three_bids(broker_a, placement_request, homes)
    chosen = bids["ri_c"]

    with pytest.raises(ApplicationError) as no_agreement:
        tender_award(actor=broker_a, tender=tender, bid=chosen, reason="Person's choice: near family")
    assert "top_up_payer" in no_agreement.value.fields
    assert no_agreement.value.code == "top_up_agreement_required"
    top_up_agreed(placement_request, broker_a, "100.00")
    with pytest.raises(ApplicationError) as no_reason:
        tender_award(actor=broker_a, tender=tender, bid=chosen, top_up_payer="Daughter")
    assert "reason" in no_reason.value.fields

    award = tender_award(
        actor=broker_a, tender=tender, bid=chosen, reason="Person's choice: near family", top_up_payer="Daughter"
    )

    assert award.top_ranked is False
    assert award.top_up_weekly_amount == Decimal("100.00")
    placement = Placement.objects.get()
    assert (placement.weekly_fee, placement.council_weekly_amount, placement.top_up_weekly_amount) == (
        Decimal("1000.00"),
        Decimal("900.00"),
        Decimal("100.00"),
    )
    assert placement.top_up_payer == "Daughter"


def test_out_of_county_home_makes_an_out_of_county_placement(council_a, broker_a, provider_a, provider_user_a):
    home = admitted_home(council_a, provider=provider_a, local_authority="Stoke-on-Trent")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, local_authority="")
    tender = tender_publish(actor=broker_a, request=request)
    bid = bid_for(provider_user(home), tender, home, "700")
    force_past_deadline(tender)

    tender_award(actor=broker_a, tender=tender, bid=bid)

    assert Placement.objects.get().in_county is False


@pytest.mark.django_db(transaction=True)
def test_two_brokers_awarding_at_once_make_one_award(council_a, broker_a, placement_request, homes):
    second_broker = UserFactory(organisation=council_a, role="broker", email="second-broker@a.example")
    tender, bids = _tender_with_three_bids(broker_a, placement_request, homes)
    tender_close_and_evaluate(tender_id=tender.pk)
    start = threading.Barrier(2)
    outcomes = []

    def award(actor, bid):
        try:
            start.wait()
            tender_award(actor=actor, tender=tender, bid=bid)
            outcomes.append("awarded")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=award, args=(broker_a, bids["outstanding_b"])),
        threading.Thread(target=award, args=(second_broker, bids["outstanding_b"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["awarded", "conflict"]
    assert Award.objects.count() == 1
    assert Placement.objects.count() == 1
    assert Notification.objects.filter(verb="bidding.bid.won").count() == 1


def test_the_database_allows_one_award_per_tender(broker_a, placement_request, homes):
    from django.db import IntegrityError, transaction

    tender, bids = _tender_with_three_bids(broker_a, placement_request, homes)
    tender_close_and_evaluate(tender_id=tender.pk)
    Award.objects.create(tender=tender, bid=bids["outstanding_b"], awarded_by=broker_a, top_ranked=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        Award.objects.create(tender=tender, bid=bids["good_a"], awarded_by=broker_a, top_ranked=False, reason="x")


def test_invitation_rows_record_withdrawal(broker_a, placement_request, homes):
    tender = tender_publish(actor=broker_a, request=placement_request)

    assert tender.invitations.filter(status=Invitation.Status.INVITED).count() == 3
