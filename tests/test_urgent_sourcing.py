"""Urgent sourcing: an urgent tender invites only homes with a fresh matching vacancy and not closed
to admissions (every eligible home when none has one, and says so), closes after the urgency rule's
hours, reminds homes that have not bid once, and under the first acceptable rule awards the first
compliant bid at once, exactly once however many arrive together."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from bidding.models import Award, Bid, Invitation, Tender
from bidding.services import bid_amend, bid_submit, tender_publish, tender_reminders_send
from core.errors import ConflictError
from core.models import AuditEvent, Notification
from lots.models import LotRules, UrgencyRules
from placements.models import Placement, PlacementRequest

from .factories import (
    AdmissionClosureFactory,
    BedVacancyFactory,
    DischargeRequestFactory,
    PlacementRequestFactory,
    SpecialismFactory,
    admitted_home,
    lot,
)

pytestmark = pytest.mark.django_db

DISCHARGE = "hospital_discharge"


def urgency_rule(commissioner, **overrides) -> UrgencyRules:
    values = {
        "target_hours": 24,
        "min_window_hours": 1,
        "default_window_hours": 4,
        "max_window_hours": 24,
        "award_rule": "ranked",
        "vacancy_fresh_hours": 24,
        "reminder_minutes_before_close": 60,
        **overrides,
    }
    return UrgencyRules.objects.create(
        lot_rules=LotRules.objects.get(commissioner=commissioner, lot=lot(1)), urgency=DISCHARGE, **values
    )


def urgent_request(commissioner, broker, **kwargs) -> PlacementRequest:
    kwargs.setdefault("max_weekly_rate", Decimal("900.00"))
    return DischargeRequestFactory(commissioner=commissioner, created_by=broker, **kwargs)


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


@pytest.fixture
def homes(council_a, provider_a, provider_user_a):
    return {
        name: admitted_home(council_a, provider=provider_a, name=name)
        for name in ["Fresh Lot", "Fresh Setting", "Stale", "Other Lot", "Closed", "No Vacancy"]
    }


def invited(tender) -> set[str]:
    return set(tender.invitations.values_list("care_home__name", flat=True))


def test_an_urgent_tender_invites_only_homes_with_a_fresh_matching_vacancy_not_closed(
    council_a, broker_a, homes, as_user
):
    urgency_rule(council_a, default_window_hours=4)
    BedVacancyFactory(care_home=homes["Fresh Lot"], lot=lot(1), confirmed_at=hours_ago(2))
    BedVacancyFactory(care_home=homes["Fresh Setting"], lot=None, setting="residential", confirmed_at=hours_ago(23))
    BedVacancyFactory(care_home=homes["Stale"], lot=lot(1), confirmed_at=hours_ago(25))
    BedVacancyFactory(care_home=homes["Other Lot"], lot=lot(6), confirmed_at=hours_ago(1))
    BedVacancyFactory(care_home=homes["Closed"], lot=lot(1), confirmed_at=hours_ago(1))
    AdmissionClosureFactory(care_home=homes["Closed"])
    request = urgent_request(council_a, broker_a)

    tender = tender_publish(actor=broker_a, request=request)

    assert invited(tender) == {"Fresh Lot", "Fresh Setting"}
    assert tender.sourcing == Tender.Sourcing.FRESH_VACANCIES
    assert tender.closes_at - tender.opened_at == timedelta(hours=4)
    assert (tender.vacancy_fresh_hours, tender.reminder_minutes_before_close) == (24, 60)
    event = AuditEvent.objects.get(verb="bidding.tender.published")
    assert event.detail["sourcing"] == "fresh_vacancies" and event.detail["award_rule"] == "ranked"
    page = as_user(broker_a).get(f"/broker/requests/{request.pk}/")
    assert b"Only eligible homes with a fresh matching vacancy were invited." in page.content


def test_with_no_fresh_matching_vacancy_every_eligible_home_is_invited_and_the_page_says_so(
    council_a, broker_a, homes, as_user
):
    urgency_rule(council_a)
    BedVacancyFactory(care_home=homes["Stale"], lot=lot(1), confirmed_at=hours_ago(25))
    BedVacancyFactory(care_home=homes["Other Lot"], lot=lot(6), confirmed_at=hours_ago(1))
    AdmissionClosureFactory(care_home=homes["Closed"])
    request = urgent_request(council_a, broker_a)

    tender = tender_publish(actor=broker_a, request=request)

    assert invited(tender) == {"Fresh Lot", "Fresh Setting", "Stale", "Other Lot", "No Vacancy"}
    assert tender.sourcing == Tender.Sourcing.FALLBACK
    page = as_user(broker_a).get(f"/broker/requests/{request.pk}/")
    assert b"No home had a fresh matching vacancy, so every eligible home was invited." in page.content
    api = as_user(broker_a).get(f"/api/v1/placement-requests/{request.pk}/")
    assert "No home had a fresh matching vacancy" in api.content.decode()


def test_the_urgency_rule_sets_how_fresh_a_vacancy_must_be(council_a, broker_a, homes):
    urgency_rule(council_a, vacancy_fresh_hours=12)
    BedVacancyFactory(care_home=homes["Fresh Lot"], lot=lot(1), confirmed_at=hours_ago(11))
    BedVacancyFactory(care_home=homes["Fresh Setting"], lot=lot(1), confirmed_at=hours_ago(13))
    tender = tender_publish(actor=broker_a, request=urgent_request(council_a, broker_a))
    assert invited(tender) == {"Fresh Lot"}
    assert tender.vacancy_fresh_hours == 12


def test_a_planned_request_invites_every_eligible_home_as_before(council_a, broker_a, homes):
    BedVacancyFactory(care_home=homes["Fresh Lot"], lot=lot(1))
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    tender = tender_publish(actor=broker_a, request=request)
    assert invited(tender) == {"Fresh Lot", "Fresh Setting", "Stale", "Other Lot", "Closed", "No Vacancy"}
    assert tender.sourcing == Tender.Sourcing.ELIGIBLE
    assert tender.award_rule == Tender.AwardRule.RANKED
    assert tender.reminder_minutes_before_close is None


# --- Reminders ---------------------------------------------------------------------------------


def test_homes_that_have_not_bid_are_reminded_once_before_the_close(council_a, broker_a, homes, provider_user_a):
    urgency_rule(council_a, min_window_hours=1, reminder_minutes_before_close=90)
    request = urgent_request(council_a, broker_a)
    tender = tender_publish(actor=broker_a, request=request, closes_at=timezone.now() + timedelta(hours=2))
    assert tender_reminders_send() == 0, "not yet: the reminder falls 90 minutes before the close"

    Tender.objects.filter(pk=tender.pk).update(closes_at=timezone.now() + timedelta(minutes=80))
    bid_submit(
        actor=provider_user_a,
        tender=tender,
        care_home=homes["Stale"],
        weekly_fee=Decimal("850.00"),
        earliest_start=timezone.localdate(),
        needs_confirmed=True,
    )
    Invitation.objects.filter(tender=tender, care_home=homes["Other Lot"]).update(status="withdrawn")

    assert tender_reminders_send() == 4
    assert tender_reminders_send() == 0
    reminded = set(
        Invitation.objects.filter(tender=tender, reminded_at__isnull=False).values_list("care_home__name", flat=True)
    )
    assert reminded == {"Fresh Lot", "Fresh Setting", "Closed", "No Vacancy"}
    notices = Notification.objects.filter(verb="bidding.tender.reminder")
    assert notices.count() == 4 * provider_user_a.organisation.users.count()
    assert AuditEvent.objects.filter(verb="bidding.invitation.reminded").count() == 4


def test_a_planned_tender_sends_no_reminders(council_a, broker_a, homes):
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    tender = tender_publish(actor=broker_a, request=request)
    Tender.objects.filter(pk=tender.pk).update(closes_at=timezone.now() + timedelta(minutes=5))
    assert tender_reminders_send() == 0


# --- The first acceptable bid ---------------------------------------------------------------


@pytest.fixture
def first_acceptable(council_a, broker_a, homes):
    urgency_rule(council_a, award_rule="first_acceptable")
    return tender_publish(actor=broker_a, request=urgent_request(council_a, broker_a))


def bid(user, tender, home, fee="850.00", start=None):
    return bid_submit(
        actor=user,
        tender=tender,
        care_home=home,
        weekly_fee=Decimal(fee),
        earliest_start=start or timezone.localdate(),
        needs_confirmed=True,
    )


def test_the_first_compliant_bid_is_awarded_at_once_with_the_rule_recorded(
    first_acceptable, homes, provider_user_a, broker_a
):
    tender = first_acceptable
    assert tender.award_rule == Tender.AwardRule.FIRST_ACCEPTABLE
    winner = bid(provider_user_a, tender, homes["Fresh Lot"], fee="900.00")

    tender.refresh_from_db()
    award = Award.objects.get(tender=tender)
    assert award.bid == winner and tender.status == Tender.Status.AWARDED
    assert "first acceptable rule" in award.reason
    assert award.awarded_by == broker_a
    placement = Placement.objects.get(request=tender.request)
    assert placement.care_home == homes["Fresh Lot"] and placement.weekly_fee == Decimal("900.00")
    tender.request.refresh_from_db()
    assert tender.request.status == PlacementRequest.Status.AWARDED and tender.request.sourced_at is not None
    event = AuditEvent.objects.get(verb="bidding.tender.awarded")
    assert event.detail["award_rule"] == "first_acceptable" and event.actor is None
    with pytest.raises(ConflictError) as late:
        bid(provider_user_a, tender, homes["Stale"])
    assert late.value.code == "tender_closed" and "awarded" in late.value.message


def test_a_bid_above_the_maximum_is_not_awarded_and_the_next_compliant_one_is(first_acceptable, homes, provider_user_a):
    tender = first_acceptable
    above = bid(provider_user_a, tender, homes["Fresh Lot"], fee="900.01")
    tender.refresh_from_db()
    assert tender.status == Tender.Status.OPEN and not Award.objects.exists()
    refusal = AuditEvent.objects.get(verb="bidding.bid.not_acceptable")
    assert refusal.detail["unmet"] == ["the fee is above the maximum rate"]
    assert "900" not in str(refusal.detail), "no amount while the tender is open"

    # Amending the fee does not award: only a new bid arriving is "first".
    bid_amend(actor=provider_user_a, bid=above, weekly_fee=Decimal("800.00"))
    assert not Award.objects.exists()
    second = bid(provider_user_a, tender, homes["Fresh Setting"], fee="880.00")
    assert Award.objects.get(tender=tender).bid == second


def test_a_bid_from_a_home_missing_a_requirement_is_not_awarded(council_a, broker_a, homes, provider_user_a):
    urgency_rule(council_a, award_rule="first_acceptable")
    hoist = SpecialismFactory(code="hoist", name="Hoist and two carers")
    for home in homes.values():
        home.specialisms.add(hoist)
    request = urgent_request(council_a, broker_a, specialism_codes=["hoist"])
    tender = tender_publish(actor=broker_a, request=request)
    homes["Fresh Lot"].specialisms.remove(hoist)

    bid(provider_user_a, tender, homes["Fresh Lot"])
    late_start = bid(provider_user_a, tender, homes["Stale"], start=request.needed_from + timedelta(days=3))

    assert not Award.objects.exists()
    unmet = list(AuditEvent.objects.filter(verb="bidding.bid.not_acceptable").order_by("pk"))
    assert unmet[0].detail["unmet"] == ["the home no longer offers every specialism the person needs"]
    assert unmet[1].detail["bid"] == late_start.pk and "cannot take the person by" in unmet[1].detail["unmet"][0]
    winner = bid(provider_user_a, tender, homes["No Vacancy"])
    assert Award.objects.get().bid == winner


def test_under_the_ranked_rule_a_compliant_bid_waits_for_the_close(council_a, broker_a, homes, provider_user_a):
    urgency_rule(council_a, award_rule="ranked")
    tender = tender_publish(actor=broker_a, request=urgent_request(council_a, broker_a))
    bid(provider_user_a, tender, homes["Fresh Lot"])
    tender.refresh_from_db()
    assert tender.status == Tender.Status.OPEN and not Award.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_compliant_bids_give_exactly_one_award(council_a, broker_a, provider_a, provider_user_a):
    bidders = 8
    urgency_rule(council_a, award_rule="first_acceptable")
    homes = [admitted_home(council_a, provider=provider_a, name=f"Home {n}") for n in range(bidders)]
    tender = tender_publish(actor=broker_a, request=urgent_request(council_a, broker_a))
    start = threading.Barrier(bidders)
    results = {}

    def bidder(index: int, home):
        try:
            start.wait()
            try:
                results[index] = ("accepted", bid(provider_user_a, tender, home, fee=str(800 + index)).pk)
            except ConflictError as error:
                results[index] = ("refused", error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=bidder, args=(i, home)) for i, home in enumerate(homes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    accepted = [r[1] for r in results.values() if r[0] == "accepted"]
    refused = [r[1] for r in results.values() if r[0] == "refused"]
    assert len(results) == bidders
    assert len(accepted) == 1, results
    assert refused == ["tender_closed"] * (bidders - 1)
    assert Award.objects.count() == 1 and Award.objects.get().bid_id == accepted[0]
    assert Placement.objects.filter(request=tender.request).count() == 1
    assert Bid.objects.filter(tender=tender).count() == 1
