"""Bids on one tender share its row: they go on side by side, a close waits for those in flight,
and two submissions for the same home are decided one after the other (real connections)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.services import bid_submit, database_now, tender_publish
from core.errors import ConflictError
from lots.models import LotRules

from .factories import PlacementRequestFactory, admitted_home

pytestmark = pytest.mark.django_db(transaction=True)


def _open_tender(council, broker):
    LotRules.objects.filter(commissioner=council, lot__number=1).update(min_window_hours=0)
    request = PlacementRequestFactory(commissioner=council, created_by=broker)
    return tender_publish(actor=broker, request=request, closes_at=database_now() + timedelta(hours=1))


def _bid(user, tender, home):
    return bid_submit(
        actor=user,
        tender=tender,
        care_home=home,
        weekly_fee=Decimal("780.00"),
        earliest_start=timezone.localdate(),
        needs_confirmed=True,
    )


def _on_own_connection(work):
    def run():
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _bid_held_open(user, tender, home, entered: threading.Event, finish: threading.Event):
    """A bid whose transaction stays open (as a slow one would) until told to finish."""

    def work():
        with transaction.atomic():
            _bid(user, tender, home)
            entered.set()
            finish.wait(30)

    return _on_own_connection(work)


def test_a_second_bid_does_not_wait_for_the_first_and_the_close_waits_for_both(
    council_a, broker_a, provider_a, provider_user_a
):
    first_home = admitted_home(council_a, provider=provider_a, name="First Home")
    second_home = admitted_home(council_a, provider=provider_a, name="Second Home")
    tender = _open_tender(council_a, broker_a)
    entered, finish = threading.Event(), threading.Event()
    outcome = {}

    first = _bid_held_open(provider_user_a, tender, first_home, entered, finish)
    assert entered.wait(10)
    second = _on_own_connection(lambda: outcome.update(second=_bid(provider_user_a, tender, second_home)))
    second.join(10)
    assert "second" in outcome, "the second bid went through while the first was still in flight"

    def close_lock():
        with transaction.atomic():
            Tender.objects.select_for_update().get(pk=tender.pk)
            outcome["closed"] = Bid.objects.filter(tender=tender).count()

    closer = _on_own_connection(close_lock)
    closer.join(1)
    assert "closed" not in outcome, "a close waits for the bid in flight"
    finish.set()
    first.join(10)
    closer.join(10)
    assert outcome["closed"] == 2, "the close saw both bids"


def test_two_submissions_for_one_home_give_one_bid_and_a_clear_refusal(
    council_a, broker_a, provider_a, provider_user_a
):
    home = admitted_home(council_a, provider=provider_a, name="Only Home")
    tender = _open_tender(council_a, broker_a)
    entered, finish = threading.Event(), threading.Event()
    outcome = {}

    first = _bid_held_open(provider_user_a, tender, home, entered, finish)
    assert entered.wait(10)

    def again():
        try:
            _bid(provider_user_a, tender, home)
        except ConflictError as error:
            outcome["refused"] = error.code

    second = _on_own_connection(again)
    second.join(1)
    assert "refused" not in outcome, "the second submission waits on the home's invitation"
    finish.set()
    first.join(10)
    second.join(10)
    assert outcome["refused"] == "already_bid"
    assert Bid.objects.filter(tender=tender).count() == 1
