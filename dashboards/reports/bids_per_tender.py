"""Bids received per closed tender and the share of tenders with no bids, by lot."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from bidding.models import Bid, Tender
from lots.models import Lot
from organisations.models import Organisation

from ..presentation import BidsFormat
from .common import CLOSED_TENDER_STATES, COUNTED_BID_STATES, Report, months_window, one_decimal, percent


@dataclass
class BidsRow:
    lot: Lot
    tenders: int
    bids: int
    no_bid_tenders: int

    @property
    def bids_per_tender(self) -> Decimal | None:
        return one_decimal(Decimal(self.bids) / self.tenders) if self.tenders else None

    @property
    def no_bid_rate(self) -> Decimal | None:
        return percent(self.no_bid_tenders, self.tenders)


@dataclass
class BidsPerTender(Report):
    month_from: date
    month_to: date
    rows: list[BidsRow]
    total: BidsRow

    format = BidsFormat


def _counts_by_lot(commissioner: Organisation, month_from: date, month_to: date) -> dict[int, dict]:
    """Per lot number: closed tenders, bids received and tenders with none."""
    bid_count = (
        Bid.objects.filter(tender=OuterRef("pk"), status__in=COUNTED_BID_STATES)
        .order_by()
        .values("tender")
        .annotate(n=Count("id"))
        .values("n")
    )
    start, end = months_window(month_from, month_to)
    grouped = (
        Tender.objects.filter(
            request__commissioner=commissioner,
            status__in=CLOSED_TENDER_STATES,
            closes_at__gte=start,
            closes_at__lt=end,
        )
        .annotate(received=Coalesce(Subquery(bid_count, output_field=IntegerField()), Value(0)))
        .values("request__lot__number")
        .annotate(tenders=Count("id"), bids=Sum("received"), no_bid=Count("id", filter=Q(received=0)))
        .order_by()
    )
    return {entry["request__lot__number"]: entry for entry in grouped}


def bids_per_tender(*, commissioner: Organisation, month_from: date, month_to: date) -> BidsPerTender:
    """Closed tenders by the month their window closed: bids received and tenders with none."""
    counts = _counts_by_lot(commissioner, month_from, month_to)
    rows = []
    for lot in Lot.objects.order_by("number"):
        entry = counts.get(lot.number, {})
        rows.append(BidsRow(lot, entry.get("tenders", 0), entry.get("bids") or 0, entry.get("no_bid", 0)))
    total = BidsRow(
        Lot(name="All lots"),
        sum(r.tenders for r in rows),
        sum(r.bids for r in rows),
        sum(r.no_bid_tenders for r in rows),
    )
    return BidsPerTender(month_from, month_to, rows, total)
