"""The rule for what happens next with a placement request (see `placements.next_steps`).

It reads the request's latest tender and its bids (bidding), the block beds on offer (blockbeds),
and after an award the bed hold and the standstill (fairness), so it lives here, the highest of
those apps, and registers itself with placements at start-up. The step is worked out in SQL by the
database clock, as `tender_is_open` is, so a list, a page and the API agree at a deadline; only
"a block bed is on offer" is decided in Python, for the requests not yet out to tender, by
blockbeds' own rule.
"""

from datetime import datetime, timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Now, TruncDate
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.selectors import with_open_flag
from blockbeds.selectors import block_offer_summaries
from placements.models import Placement, PlacementRequest
from placements.next_steps import AT_RISK_DAYS, NextStep, NextStepRule, Step, next_step_rule_register

from .models import BedHold, Standstill
from .selectors import bed_hold_overdue_q


def _today():
    """Today in the service's time zone, by the database's clock."""
    return TruncDate(Now(), output_field=DateField())


def with_next_step(queryset):
    """Annotate each request with `next_step`, a `Step` code, `at_risk`, and what the labels need:
    `step_closes_at`, `step_standstill_ends_at`, `step_start_date`, and `step_placement_id`."""
    latest = Tender.objects.filter(request=OuterRef("pk")).order_by("-opened_at", "-id")
    bids = (
        Bid.objects.filter(tender=OuterRef("step_tender_id"), status=Bid.Status.SUBMITTED)
        .order_by()
        .values("tender")
        .annotate(n=Count("id"))
        .values("n")
    )
    hold = BedHold.objects.filter(tender__request=OuterRef("pk")).exclude(status=BedHold.Status.LAPSED)
    hold = hold.order_by("-id").annotate(overdue=ExpressionWrapper(bed_hold_overdue_q(), output_field=BooleanField()))
    standstill = Standstill.objects.filter(tender__request=OuterRef("pk")).order_by("-starts_at", "-id")
    placement = Placement.objects.filter(request=OuterRef("pk"))
    annotated = queryset.annotate(
        step_tender_id=Subquery(latest.values("id")[:1]),
        step_tender_status=Subquery(latest.values("status")[:1]),
        # `tender_is_open` in its queryset form: a window past its deadline reads as closed.
        step_tender_open=Subquery(with_open_flag(latest).values("is_open")[:1]),
        step_closes_at=Subquery(latest.values("closes_at")[:1]),
        step_hold_status=Subquery(hold.values("status")[:1]),
        step_hold_overdue=Subquery(hold.values("overdue")[:1]),
        step_standstill_status=Subquery(standstill.values("status")[:1]),
        step_standstill_ends_at=Subquery(standstill.values("ends_at")[:1]),
        step_start_date=Subquery(placement.values("start_date")[:1]),
        step_placement_id=Subquery(placement.values("id")[:1]),
        step_placement_source=Subquery(placement.values("source")[:1]),
    ).annotate(step_bids=Coalesce(Subquery(bids, output_field=IntegerField()), Value(0)))
    closed_states = [Tender.Status.OPEN, Tender.Status.CLOSED, Tender.Status.EVALUATED]
    status = PlacementRequest.Status
    awarded = Q(status=status.AWARDED)
    tendering = Q(status__in=[status.NEW, status.TENDERING])
    return annotated.annotate(
        next_step=Case(
            When(status=status.CANCELLED, then=Value(Step.CANCELLED)),
            When(status=status.PLACED, then=Value(Step.PLACED)),
            When(awarded & Q(step_standstill_status=Standstill.Status.CHALLENGED), then=Value(Step.CHALLENGED)),
            When(awarded & Q(step_standstill_status=Standstill.Status.SET_ASIDE), then=Value(Step.SET_ASIDE)),
            When(awarded & Q(step_hold_overdue=True), then=Value(Step.HOLD_OVERDUE)),
            When(awarded & Q(step_hold_status=BedHold.Status.AWAITING), then=Value(Step.AWAITING_HOME)),
            When(awarded & Q(step_standstill_status=Standstill.Status.RUNNING), then=Value(Step.STANDSTILL)),
            When(awarded & Q(step_start_date__gt=_today()), then=Value(Step.MOVING_IN)),
            When(awarded, then=Value(Step.PLACED)),
            When(tendering & Q(step_tender_id__isnull=True), then=Value(Step.DRAFT)),
            When(tendering & Q(step_tender_open=True), then=Value(Step.OUT_TO_TENDER)),
            When(tendering & Q(step_tender_status=Tender.Status.CANCELLED), then=Value(Step.TENDER_CANCELLED)),
            # Past its deadline a tender reads as closed whether or not a worker has closed it yet.
            When(tendering & Q(step_tender_status__in=closed_states, step_bids__gt=0), then=Value(Step.READY_TO_AWARD)),
            default=Value(Step.NO_BIDS),
        ),
        at_risk=ExpressionWrapper(
            Q(sourced_at__isnull=True, target_date__lte=_today() + timedelta(days=AT_RISK_DAYS))
            & ~Q(status=status.CANCELLED),
            output_field=BooleanField(),
        ),
    )


def _when(moment: datetime, today) -> str:
    """A deadline as people say it: "14:00 today", "09:30 tomorrow", "14:00 on 3 May"."""
    local = timezone.localtime(moment)
    if local.date() == today:
        return f"{local:%H:%M} today"
    if local.date() == today + timedelta(days=1):
        return f"{local:%H:%M} tomorrow"
    return f"{local:%H:%M} on {local:%-d %B}"


def _label(request, code: str, today) -> str:
    if code == Step.OUT_TO_TENDER:
        return f"Out to tender (closes {_when(request.step_closes_at, today)})"
    if code == Step.STANDSTILL:
        return f"Awarded: standstill until {_when(request.step_standstill_ends_at, today)}"
    if code == Step.MOVING_IN:
        return f"Bed held: moves in on {request.step_start_date:%-d %B %Y}"
    if code == Step.PLACED and request.step_placement_source == Placement.Source.OFF_DPS_CHOICE:
        return "Placed off the DPS by the person's choice: the home is asked to accept the agreement"
    return LABELS[code]


LABELS = {
    Step.DRAFT: "Draft",
    Step.BLOCK_BED_OFFERED: "Block bed offered",
    Step.READY_TO_AWARD: "Bids ready to award",
    Step.NO_BIDS: "Closed with no bids: re-tender",
    Step.TENDER_CANCELLED: "Tender cancelled: publish again",
    Step.AWAITING_HOME: "Awarded: waiting for the home to confirm the bed",
    Step.HOLD_OVERDUE: "Bed hold not confirmed in time: move to the next bid",
    Step.CHALLENGED: "Award challenged: decide the challenge",
    Step.SET_ASIDE: "Award set aside: move to the next bid",
    Step.PLACED: "Placed",
    Step.CANCELLED: "Cancelled",
}


def next_steps_describe(requests: list) -> dict[int, NextStep]:
    """Each annotated request's step with its label; drafts with a block bed on offer say so."""
    drafts = [r for r in requests if r.next_step == Step.DRAFT and r.status == PlacementRequest.Status.NEW]
    # A caller that has read the offers already (the request API) leaves them on each request.
    offers = {r.pk: r.block_offer_summary for r in drafts if hasattr(r, "block_offer_summary")}
    unread = [r for r in drafts if r.pk not in offers]
    if unread:
        offers.update(block_offer_summaries(requests=unread))
    today = timezone.localdate()
    steps = {}
    for request in requests:
        code = request.next_step
        if request.pk in offers and offers[request.pk].pending:
            code = Step.BLOCK_BED_OFFERED
        steps[request.pk] = NextStep(code, _label(request, code, today))
    return steps


next_step_rule_register(NextStepRule(annotate=with_next_step, describe=next_steps_describe))
