"""`core.bulk`: many rows' fields in one statement, written as `save()` writes them; new rows inserted
once per key, together unless another transaction got there first."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bidding.models import Bid
from core.bulk import insert_once, update_rows
from core.models import Notification

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


def test_insert_once_keeps_a_row_another_transaction_inserted_and_inserts_the_rest(broker_a, commissioner_a):
    def notice(user, key, subject):
        return Notification(recipient=user, dedupe_key=key, verb="test", subject=subject, body="Body")

    # Inserted by someone else after the caller read that no such row was there.
    theirs = Notification.objects.create(recipient=broker_a, dedupe_key="k-1", verb="test", subject="Theirs")

    inserted = insert_once(
        [notice(broker_a, "k-1", "Ours"), notice(broker_a, "k-2", "Ours"), notice(commissioner_a, "k-1", "Ours")],
        ("recipient_id", "dedupe_key"),
    )

    assert sorted((n.recipient_id, n.dedupe_key) for n in inserted) == sorted(
        [(broker_a.pk, "k-2"), (commissioner_a.pk, "k-1")]
    )
    assert Notification.objects.get(pk=theirs.pk).subject == "Theirs"
    assert Notification.objects.count() == 3
    assert all(n.created_at is not None for n in Notification.objects.all())
    # Nothing in the way: one statement.
    with CaptureQueriesContext(connection) as queries:
        assert len(insert_once([notice(broker_a, "k-3", "Ours")], ("recipient_id", "dedupe_key"))) == 1
    assert [
        q["sql"].split()[0] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ] == ["INSERT"]
