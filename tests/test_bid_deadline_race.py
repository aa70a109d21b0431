"""Fifty bids racing the deadline from separate database connections.

Each thread reads the database clock on its own connection just before bidding and just after
the outcome, so the checks below do not rely on the timestamps the service writes.
"""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.services import bid_submit, database_now, tender_close_and_evaluate, tender_publish
from core.errors import ConflictError
from lots.models import LotRules

from .factories import PlacementRequestFactory, admitted_home

BIDDERS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_bids_across_the_deadline_are_each_accepted_before_it_or_refused(
    council_a, broker_a, provider_a, provider_user_a
):
    LotRules.objects.filter(commissioner=council_a, lot__number=1).update(min_window_hours=0)
    homes = [admitted_home(council_a, provider=provider_a, name=f"Home {n:02d}") for n in range(BIDDERS)]
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    tender = tender_publish(actor=broker_a, request=request, closes_at=database_now() + timedelta(seconds=3))
    closes_at = tender.closes_at
    start = threading.Barrier(BIDDERS)
    results = {}

    def bidder(index: int, home):
        try:
            start.wait()
            # Spread the attempts over about six seconds around the three-second deadline.
            time.sleep(index * 0.12)
            before = database_now()
            try:
                bid = bid_submit(
                    actor=provider_user_a,
                    tender=tender,
                    care_home=home,
                    weekly_fee=Decimal(700 + index),
                    earliest_start=timezone.localdate(),
                    needs_confirmed=True,
                )
                results[index] = ("accepted", before, database_now(), bid.pk)
            except ConflictError as error:
                results[index] = ("refused", before, database_now(), error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=bidder, args=(i, home)) for i, home in enumerate(homes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == BIDDERS
    accepted = {i: r for i, r in results.items() if r[0] == "accepted"}
    refused = {i: r for i, r in results.items() if r[0] == "refused"}
    assert accepted and refused, "the attempts must straddle the deadline"
    assert len(accepted) + len(refused) == BIDDERS
    for _, before, _, _ in accepted.values():
        assert before < closes_at
    for _, _, after, code in refused.values():
        assert code == "tender_closed"
        assert after >= closes_at
    stored = Bid.objects.filter(tender=tender)
    assert sorted(stored.values_list("pk", flat=True)) == sorted(r[3] for r in accepted.values())
    assert all(bid.submitted_at < closes_at for bid in stored)

    tender_close_and_evaluate(tender_id=tender.pk)
    tender.refresh_from_db()
    assert tender.status == Tender.Status.EVALUATED
    assert tender.closed_at >= closes_at
    assert stored.filter(rank__isnull=False).count() == len(accepted)
