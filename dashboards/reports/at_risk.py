"""Open requests not yet sourced whose target date has passed or is near, with what each waits for,
and discharge-to-assess stays past their review date with no outcome recorded."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.selectors import with_open_flag
from organisations.models import Organisation
from placements.models import Placement, PlacementRequest
from placements.next_steps import AT_RISK_DAYS
from placements.selectors import assessment_reviews_overdue

from ..presentation import AtRiskFormat
from .common import COUNTED_BID_STATES, Report

OPEN_REQUEST_STATES = [
    PlacementRequest.Status.NEW,
    PlacementRequest.Status.TENDERING,
    PlacementRequest.Status.AWARDED,
]


class AtRiskReason:
    NOT_TENDERED = "Not yet out to tender"
    NO_BIDS_YET = "Window still open, no bids yet"
    WINDOW_OPEN = "Window still open"
    AWAITING_AWARD = "Window closed, awaiting award"
    NO_BIDS = "Closed with no bids: re-tender"
    TENDER_CANCELLED = "Tender cancelled: re-tender"
    AWAITING_PLACEMENT = "Awarded, placement not yet recorded"


def _at_risk_reason(request: PlacementRequest) -> str:
    if request.status == PlacementRequest.Status.AWARDED:
        return AtRiskReason.AWAITING_PLACEMENT
    status = request.latest_tender_status
    if status is None:
        return AtRiskReason.NOT_TENDERED
    if request.latest_tender_open:
        return AtRiskReason.WINDOW_OPEN if request.latest_tender_bids else AtRiskReason.NO_BIDS_YET
    if status == Tender.Status.NO_BIDS:
        return AtRiskReason.NO_BIDS
    if status == Tender.Status.CANCELLED:
        return AtRiskReason.TENDER_CANCELLED
    return AtRiskReason.AWAITING_AWARD


@dataclass
class AtRiskRequest:
    request: PlacementRequest
    reason: str
    days_to_target: int

    @property
    def overdue(self) -> bool:
        return self.days_to_target < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_to_target


@dataclass
class OverdueReview:
    placement: Placement
    days_overdue: int

    reason = "Discharge to assess: review date passed, no outcome recorded"


@dataclass
class AtRisk(Report):
    today: date
    within_days: int
    rows: list[AtRiskRequest]
    reviews: list[OverdueReview]

    format = AtRiskFormat


def _requests_due_by(commissioner: Organisation, day: date):
    """Open, unsourced requests with a target date by `day`, each with its latest tender's state."""
    latest = Tender.objects.filter(request=OuterRef("pk")).order_by("-opened_at", "-id")
    bids_on_latest = (
        Bid.objects.filter(tender=OuterRef("latest_tender_id"), status__in=COUNTED_BID_STATES)
        .order_by()
        .values("tender")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        PlacementRequest.objects.filter(
            commissioner=commissioner,
            status__in=OPEN_REQUEST_STATES,
            sourced_at__isnull=True,
            target_date__lte=day,
        )
        .select_related("lot")
        .annotate(
            latest_tender_id=Subquery(latest.values("id")[:1]),
            latest_tender_status=Subquery(latest.values("status")[:1]),
            # `tender_is_open` in its queryset form: a window past its deadline reads as closed.
            latest_tender_open=Subquery(with_open_flag(latest).values("is_open")[:1]),
            latest_tender_closes_at=Subquery(latest.values("closes_at")[:1]),
        )
        .annotate(latest_tender_bids=Coalesce(Subquery(bids_on_latest, output_field=IntegerField()), Value(0)))
        .order_by("target_date", "requested_at", "id")
    )


def at_risk_requests(
    *, commissioner: Organisation, today: date | None = None, within_days: int = AT_RISK_DAYS
) -> AtRisk:
    """Open requests not yet sourced whose target date has passed or falls within `within_days`, and
    discharge-to-assess stays whose review date has passed with no outcome recorded."""
    today = today or timezone.localdate()
    requests = _requests_due_by(commissioner, today + timedelta(days=within_days))
    rows = [AtRiskRequest(r, _at_risk_reason(r), (r.target_date - today).days) for r in requests]
    reviews = [
        OverdueReview(placement, (today - placement.review_on).days)
        for placement in assessment_reviews_overdue(commissioner_id=commissioner.pk, today=today)
    ]
    return AtRisk(today, within_days, rows, reviews)
