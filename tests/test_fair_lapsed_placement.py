"""An award that lapses before the move-in keeps its placement, cancelled, and it is neither
counted as a placement sourced nor paid."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bidding.services import tender_award
from contracts.models import ServiceAgreement
from contracts.payments import Period, payment_schedule_build
from core.errors import ApplicationError, ConflictError
from core.models import AuditEvent
from dashboards.reports.client_groups import placements_by_client_group
from dashboards.reports.cost import mean_weekly_cost
from dashboards.reports.timeliness import timeliness
from fairness.models import BedHold, LapsedAward
from fairness.services import MoveOnCause, award_move_to_next_bid
from placements.models import Placement
from placements.services import ANONYMISED_PREFIX, closed_requests_anonymise, placement_cancel_lapsed

from .fairness_world import evaluated, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    return make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)


def lapse_first_award(world, broker):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00", "c": "880.00"})
    first, second, _third = sorted(bids.values(), key=lambda bid: bid.rank)
    tender_award(actor=broker, tender=tender, bid=first)
    lapsed = Placement.objects.get(request=tender.request)
    BedHold.objects.filter(bid=first).update(confirm_by=timezone.now() - timedelta(minutes=1))
    award_move_to_next_bid(
        actor=broker, tender=tender, cause=MoveOnCause.HOLD_NOT_CONFIRMED, reason="The home did not answer."
    )
    return tender, first, second, Placement.objects.get(pk=lapsed.pk)


def test_lapsed_award_keeps_its_placement_cancelled_with_reason_who_and_when(world, broker_a):
    before = timezone.now()
    tender, first, second, lapsed = lapse_first_award(world, broker_a)

    assert lapsed.care_home_id == first.care_home_id
    assert lapsed.cancelled_by == broker_a and lapsed.cancelled_at >= before
    assert lapsed.cancel_reason == "The home did not answer."
    assert lapsed.request is None and lapsed.lapsed_request_id == tender.request_id
    assert lapsed.end_date == lapsed.start_date
    assert LapsedAward.objects.get(bid=first).placement == lapsed

    current = Placement.objects.get(request=tender.request)
    assert current.pk != lapsed.pk and current.care_home_id == second.care_home_id and current.cancelled_at is None
    assert list(Placement.objects.live().filter(case_reference=tender.request.case_reference)) == [current]

    agreement = ServiceAgreement.objects.get(placement=lapsed, is_current=True)
    assert agreement.reason == ServiceAgreement.Reason.ENDED and agreement.version == 2
    assert ServiceAgreement.objects.get(placement=current, is_current=True).reason == ServiceAgreement.Reason.PLACEMENT

    event = AuditEvent.objects.get(verb="placements.placement.cancelled")
    assert event.actor == broker_a and event.reason == "The home did not answer."
    assert event.detail["request"] == tender.request_id
    assert AuditEvent.objects.filter(verb="contracts.placement.ended", reason="The home did not answer.").exists()


def test_the_fairness_page_shows_the_kept_placement(world, broker_a, as_user):
    tender, _first, _second, lapsed = lapse_first_award(world, broker_a)
    page = as_user(broker_a).get(reverse("fairness:tender_fairness", args=[tender.pk]))
    assert f"Placement {lapsed.pk} kept, cancelled before the start by {broker_a.email}" in page.content.decode()


def test_lapsed_placement_is_neither_counted_as_sourced_nor_paid(world, broker_a, council_a):
    tender, _first, _second, lapsed = lapse_first_award(world, broker_a)
    current = Placement.objects.get(request=tender.request)
    start = lapsed.start_date - timedelta(days=lapsed.start_date.weekday())
    period = Period(start=start, end=start + timedelta(days=27), label="four weeks")

    schedule = payment_schedule_build(period=period, commissioner_id=council_a.pk)
    assert {line.placement_id for line in schedule.lines} == {current.pk}

    month = timezone.localdate().replace(day=1)
    assert timeliness(commissioner=council_a, month_from=month, month_to=month).total.sourced == 1
    at = max(lapsed.start_date, current.start_date)
    assert placements_by_client_group(commissioner=council_a, at=at).total.total == 1
    month_of_start = lapsed.start_date.replace(day=1)
    cost = mean_weekly_cost(commissioner=council_a, month_from=month_of_start, month_to=month_of_start)
    assert cost.totals[0].placements == 1


def test_cancelling_needs_a_reason_and_happens_once(world, broker_a):
    tender, _first, _second, lapsed = lapse_first_award(world, broker_a)
    with pytest.raises(ConflictError):
        placement_cancel_lapsed(actor=broker_a, placement=lapsed, reason="Again.")
    current = Placement.objects.get(request=tender.request)
    with pytest.raises(ApplicationError):
        placement_cancel_lapsed(actor=broker_a, placement=current, reason="  ")
    assert Placement.objects.get(pk=current.pk).cancelled_at is None


def test_retention_anonymises_the_lapsed_placement_with_its_request(world, broker_a):
    tender, _first, _second, lapsed = lapse_first_award(world, broker_a)
    long_ago = timezone.localdate() - timedelta(days=400)
    Placement.objects.filter(request=tender.request).update(start_date=long_ago, end_date=long_ago + timedelta(days=9))

    assert closed_requests_anonymise(older_than=timedelta(days=30)) == 1

    expected = f"{ANONYMISED_PREFIX}{tender.request_id}"
    assert Placement.objects.get(pk=lapsed.pk).case_reference == expected
    assert Placement.objects.get(request=tender.request).case_reference == expected
