"""Standstill after the award decision: scores shown to unsuccessful providers, challenges hold confirmation."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bidding.models import Award
from bidding.services import tender_award
from core.errors import ConflictError
from core.models import AuditEvent
from fairness.models import Challenge, Standstill, StandstillRule
from fairness.services import (
    MoveOnCause,
    award_move_to_next_bid,
    challenge_decide,
    challenge_raise,
    placement_is_confirmed,
    standstills_confirm_due,
)
from fairness.tasks import standstills_confirm_due_task
from lots.models import Lot
from placements.models import Placement

from .fairness_world import evaluated, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    StandstillRule.objects.create(commissioner=council_a, lot=Lot.objects.get(number=1), days=5)
    return make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)


def awarded(world, broker):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00", "c": "880.00"})
    ordered = sorted(bids.values(), key=lambda bid: bid.rank)
    tender_award(actor=broker, tender=tender, bid=ordered[0])
    users = world[1]
    owner = {bid.pk: next(u for u in users.values() if u.organisation_id == bid.provider_id) for bid in ordered}
    return tender, ordered, owner


def end_standstill(tender):
    Standstill.objects.filter(tender=tender).update(
        starts_at=timezone.now() - timedelta(days=6), ends_at=timezone.now() - timedelta(seconds=1)
    )


def test_placement_is_confirmed_when_the_period_ends_unchanged(world, broker_a):
    tender, _ordered, _owner = awarded(world, broker_a)
    placement = Placement.objects.get(request=tender.request)
    standstill = Standstill.objects.get(tender=tender)
    assert standstill.ends_at - standstill.starts_at == timedelta(days=5)
    assert not placement_is_confirmed(placement=placement)
    end_standstill(tender)
    assert standstills_confirm_due_task() == 1
    assert standstills_confirm_due() == 0, "confirming twice does the work once"
    assert placement_is_confirmed(placement=placement)
    assert AuditEvent.objects.filter(verb="fairness.standstill.confirmed").count() == 1


def test_challenge_during_standstill_holds_the_placement_unconfirmed_until_a_decision(world, broker_a, as_user):
    tender, ordered, owner = awarded(world, broker_a)
    loser = ordered[1]
    response = as_user(owner[loser.pk]).post(
        reverse("fairness:provider_award", args=[loser.pk]), {"grounds": "The quality score ignored our new rating."}
    )
    assert response.status_code == 302
    standstill = Standstill.objects.get(tender=tender)
    assert standstill.status == Standstill.Status.CHALLENGED
    placement = Placement.objects.get(request=tender.request)

    end_standstill(tender)
    assert standstills_confirm_due() == 0
    assert not placement_is_confirmed(placement=placement)

    challenge = Challenge.objects.get(standstill=standstill)
    challenge_decide(actor=broker_a, challenge=challenge, decision="dismissed", reason="The rating was applied.")
    assert Standstill.objects.get(pk=standstill.pk).status == Standstill.Status.CONFIRMED
    assert placement_is_confirmed(placement=placement)


def test_upheld_challenge_sets_the_award_aside_and_the_broker_moves_on(world, broker_a):
    tender, ordered, owner = awarded(world, broker_a)
    challenge = challenge_raise(actor=owner[ordered[1].pk], bid=ordered[1], grounds="Scoring error.")
    challenge_decide(actor=broker_a, challenge=challenge, decision="upheld", reason="The price score was wrong.")
    assert Standstill.objects.get(bid=ordered[0]).status == Standstill.Status.SET_ASIDE
    award = award_move_to_next_bid(
        actor=broker_a, tender=tender, cause=MoveOnCause.AWARD_SET_ASIDE, reason="Challenge upheld."
    )
    assert award.bid_id == ordered[1].pk
    assert Standstill.objects.get(bid=ordered[1]).status == Standstill.Status.RUNNING


def test_unsuccessful_provider_sees_its_score_and_the_winners_with_reasons(world, broker_a, as_user):
    _tender, ordered, owner = awarded(world, broker_a)
    winner, loser = ordered[0], ordered[1]
    body = as_user(owner[loser.pk]).get(reverse("fairness:provider_award", args=[loser.pk])).content.decode()
    assert str(loser.total_score) in body and str(winner.total_score) in body
    assert winner.working["price_working"] in body
    assert "Challenge the award" in body


def test_challenge_after_the_period_or_by_the_winner_is_refused(world, broker_a):
    tender, ordered, owner = awarded(world, broker_a)
    with pytest.raises(ConflictError):
        challenge_raise(actor=owner[ordered[0].pk], bid=ordered[0], grounds="We won.")
    end_standstill(tender)
    with pytest.raises(ConflictError):
        challenge_raise(actor=owner[ordered[2].pk], bid=ordered[2], grounds="Late.")


def test_urgent_placement_waives_the_standstill_with_a_recorded_reason(world, broker_a):
    tender, bids = evaluated(world, {"a": "850.00"})
    tender_award(actor=broker_a, tender=tender, bid=bids["a"], standstill_waiver_reason="Hospital discharge today.")
    standstill = Standstill.objects.get(tender=tender)
    assert standstill.status == Standstill.Status.WAIVED
    assert placement_is_confirmed(placement=Placement.objects.get(request=tender.request))
    assert AuditEvent.objects.get(verb="fairness.standstill.waived").reason == "Hospital discharge today."


def test_lot_without_a_standstill_rule_confirms_at_award(world, broker_a, council_a):
    StandstillRule.objects.filter(commissioner=council_a).delete()
    tender, bids = evaluated(world, {"a": "850.00"})
    tender_award(actor=broker_a, tender=tender, bid=bids["a"])
    assert not Standstill.objects.exists()
    assert placement_is_confirmed(placement=Placement.objects.get(request=tender.request))
    assert Award.objects.filter(tender=tender).exists()


def test_award_api_waives_the_standstill_with_a_reason_and_reports_the_choice(world, api_as, council_a):
    tender, bids = evaluated(world, {"a": "850.00"})
    council = api_as(council_a, scopes=["read", "placement-requests"], role="broker")
    response = council.post(
        reverse("api-tender-award", args=[tender.pk]),
        {"bid": bids["a"].pk, "standstill_waiver_reason": "Hospital discharge today."},
    )
    assert response.status_code == 201, response.content
    assert response.json()["chosen_by_person"] is False
    assert Standstill.objects.get(tender=tender).status == Standstill.Status.WAIVED


def test_award_page_waives_the_standstill_with_a_reason(world, broker_a, as_user):
    tender, bids = evaluated(world, {"a": "850.00"})
    response = as_user(broker_a).post(
        reverse("placements:request_award", args=[tender.request_id]),
        {"bid": bids["a"].pk, "standstill_waiver_reason": "Urgent: carer taken ill."},
    )
    assert response.status_code == 302
    assert Standstill.objects.get(tender=tender).waiver_reason == "Urgent: carer taken ill."
