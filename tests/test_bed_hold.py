"""On award the home holds the bed; if it does not, the broker awards the next ranked bid in one step."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bidding.models import Award, Tender
from bidding.services import tender_award
from contracts.models import ServiceAgreement
from core.errors import ConflictError
from core.models import AuditEvent, Notification
from fairness.models import BedHold, LapsedAward, MarketSettings
from fairness.services import MoveOnCause, award_move_to_next_bid, bed_hold_confirm
from placements.models import Placement

from .fairness_world import evaluated, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    return make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)


def ranked(bids):
    return sorted(bids.values(), key=lambda bid: bid.rank)


def test_award_asks_the_home_to_hold_the_bed_within_the_configured_time(world, broker_a, council_a):
    MarketSettings.objects.create(commissioner=council_a, bed_hold_confirm_hours=6)
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    first = ranked(bids)[0]
    award = tender_award(actor=broker_a, tender=tender, bid=first)
    hold = BedHold.objects.get(bid=first)
    assert hold.status == BedHold.Status.AWAITING
    assert hold.confirm_by == award.awarded_at + timedelta(hours=6)
    assert hold.held_until == Placement.objects.get(request=tender.request).start_date


def test_unconfirmed_hold_lets_the_broker_award_the_next_bid_in_one_step_audited(world, broker_a, as_user):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00", "c": "880.00"})
    first, second, _third = ranked(bids)
    tender_award(actor=broker_a, tender=tender, bid=first)
    old_placement = Placement.objects.get(request=tender.request)
    BedHold.objects.filter(bid=first).update(confirm_by=timezone.now() - timedelta(minutes=1))

    response = as_user(broker_a).post(
        reverse("fairness:tender_fairness", args=[tender.pk]),
        {"form": "move_on", "cause": MoveOnCause.HOLD_NOT_CONFIRMED, "reason": "No answer from the home by phone."},
    )
    assert response.status_code == 302

    award = Award.objects.get(tender=tender)
    assert award.bid_id == second.pk
    assert "No answer from the home" in award.reason
    assert Tender.objects.get(pk=tender.pk).status == Tender.Status.AWARDED
    placement = Placement.objects.get(request=tender.request)
    assert placement.care_home_id == second.care_home_id and placement.pk != old_placement.pk
    assert ServiceAgreement.objects.filter(placement=placement, is_current=True).exists()
    assert Placement.objects.get(pk=old_placement.pk).cancelled_at is not None
    lapsed = LapsedAward.objects.get(tender=tender)
    assert lapsed.bid_id == first.pk and lapsed.lapse_reason == "No answer from the home by phone."
    assert BedHold.objects.get(bid=first).status == BedHold.Status.LAPSED
    assert BedHold.objects.get(bid=second).status == BedHold.Status.AWAITING
    assert Notification.objects.filter(verb="bidding.bid.won", organisation_id=second.provider_id).exists()
    assert Notification.objects.filter(verb="fairness.award.lapsed", organisation_id=first.provider_id).exists()
    event = AuditEvent.objects.get(verb="fairness.award.lapsed")
    assert event.actor == broker_a and event.reason == "No answer from the home by phone."
    assert event.detail["cause"] == MoveOnCause.HOLD_NOT_CONFIRMED and event.detail["next_bid"] == second.pk


def test_moving_on_is_refused_while_the_home_still_has_time_or_confirmed(world, broker_a):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    first = ranked(bids)[0]
    tender_award(actor=broker_a, tender=tender, bid=first)
    with pytest.raises(ConflictError):
        award_move_to_next_bid(actor=broker_a, tender=tender, cause=MoveOnCause.HOLD_NOT_CONFIRMED, reason="Impatient")
    hold = BedHold.objects.get(bid=first)
    owner = next(user for user in world[1].values() if user.organisation_id == first.provider_id)
    bed_hold_confirm(actor=owner, hold=hold)
    BedHold.objects.filter(pk=hold.pk).update(confirm_by=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ConflictError):
        award_move_to_next_bid(actor=broker_a, tender=tender, cause=MoveOnCause.HOLD_NOT_CONFIRMED, reason="Too late")
    assert Award.objects.get(tender=tender).bid_id == first.pk


def test_move_in_that_did_not_happen_moves_to_the_next_bid(world, broker_a):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    first, second = ranked(bids)
    tender_award(actor=broker_a, tender=tender, bid=first, start_date=timezone.localdate())
    award = award_move_to_next_bid(
        actor=broker_a, tender=tender, cause=MoveOnCause.MOVE_IN_FAILED, reason="The home could not admit on the day."
    )
    assert award.bid_id == second.pk


def test_no_further_bid_means_tendering_again(world, broker_a):
    tender, bids = evaluated(world, {"a": "850.00"})
    tender_award(actor=broker_a, tender=tender, bid=bids["a"])
    BedHold.objects.filter(bid=bids["a"]).update(confirm_by=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ConflictError) as error:
        award_move_to_next_bid(actor=broker_a, tender=tender, cause=MoveOnCause.HOLD_NOT_CONFIRMED, reason="Silent")
    assert error.value.code == "no_next_bid"
    assert Award.objects.get(tender=tender).bid_id == bids["a"].pk


def test_one_live_award_per_tender_still_holds_in_the_database(world, broker_a):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    first, second = ranked(bids)
    award = tender_award(actor=broker_a, tender=tender, bid=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        Award.objects.create(tender=tender, bid=second, awarded_by=award.awarded_by, top_ranked=False, reason="x")


def test_bed_hold_is_confirmed_only_by_the_homes_provider(world, broker_a, provider_user_a, provider_user_b):
    from core.errors import ForbiddenError, NotFoundError

    tender, bids = evaluated(world, {"a": "850.00"})
    tender_award(actor=broker_a, tender=tender, bid=bids["a"])
    hold = BedHold.objects.get(bid=bids["a"])
    with pytest.raises(NotFoundError):
        bed_hold_confirm(actor=provider_user_b, hold=hold)
    with pytest.raises(ForbiddenError):
        bed_hold_confirm(actor=broker_a, hold=hold)
    assert bed_hold_confirm(actor=provider_user_a, hold=hold).status == BedHold.Status.HELD
