"""`core.bulk.update_rows`: many rows' fields in one statement, written as `save()` writes them."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bidding.models import Bid
from core.bulk import update_rows

from .factories import BidFactory

pytestmark = pytest.mark.django_db


def test_many_rows_are_written_in_one_statement_with_decimals_json_booleans_and_nulls():
    first = BidFactory(weekly_fee=Decimal("800.00"))
    bids = [first, *(BidFactory(tender=first.tender) for _ in range(4))]
    for rank, bid in enumerate(bids, start=1):
        bid.quality_score = Decimal("87.50") - rank
        bid.price_score = None if rank == 3 else Decimal("40.25")
        bid.rank = rank
        bid.above_max_rate = rank % 2 == 0
        bid.working = {"rank": rank, "parts": ["safe", "well-led"], "note": 'it\'s "quoted"'}
    untouched = BidFactory(rank=None)

    with CaptureQueriesContext(connection) as queries:
        assert update_rows(bids, ["quality_score", "price_score", "rank", "above_max_rate", "working"]) == 5
    assert len(queries) == 1

    for rank, stored in enumerate(Bid.objects.filter(pk__in=[b.pk for b in bids]).order_by("rank"), start=1):
        assert stored.quality_score == Decimal("87.50") - rank
        assert stored.price_score == (None if rank == 3 else Decimal("40.25"))
        assert stored.above_max_rate is (rank % 2 == 0)
        assert stored.working == {"rank": rank, "parts": ["safe", "well-led"], "note": 'it\'s "quoted"'}
    assert Bid.objects.get(pk=first.pk).weekly_fee == Decimal("800.00")  # a field not named stays
    untouched.refresh_from_db()
    assert untouched.rank is None
    assert update_rows([], ["rank"]) == 0
