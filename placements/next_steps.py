"""What happens next for a placement request, as brokers, commissioners and the API read it.

A request's stored status says only where it stands in placements ("Out to tender" until the award);
what happens next depends on its tender, the bids, the bed hold and any standstill, which belong to
the apps above this one. So the rule is fairness's (`fairness.next_steps`, the highest app it reads),
registered here at start-up; the pages and the API of placements and bidding ask through here, and
so does the broker's work queue, which groups requests by what the broker must do next.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

# A request not yet sourced is at risk when its target date is this many days away or fewer: the
# broker's work queue and the commissioners' "requests at risk" report both read it here.
AT_RISK_DAYS = 2


class Step:
    """The machine codes of a request's next step (the API's `next_step`)."""

    DRAFT = "draft"
    BLOCK_BED_OFFERED = "block_bed_offered"
    OUT_TO_TENDER = "out_to_tender"
    READY_TO_AWARD = "ready_to_award"
    NO_BIDS = "no_bids"
    TENDER_CANCELLED = "tender_cancelled"
    AWAITING_HOME = "awaiting_home"
    HOLD_OVERDUE = "hold_overdue"
    STANDSTILL = "standstill"
    CHALLENGED = "challenged"
    SET_ASIDE = "set_aside"
    MOVING_IN = "moving_in"
    PLACED = "placed"
    CANCELLED = "cancelled"


class Group:
    """What the broker must do, the work queue's sections, in the order it shows them."""

    READY_TO_AWARD = "ready-to-award"
    AWARD_ACTION = "award-action"
    NO_BIDS = "no-bids"
    TO_PUBLISH = "to-publish"
    OUT_TO_TENDER = "out-to-tender"
    AWAITING_HOME = "awaiting-home"
    DONE = "done"


GROUPS = {
    Group.READY_TO_AWARD: ("Bids ready to award", [Step.READY_TO_AWARD]),
    Group.AWARD_ACTION: (
        "Awards to act on: bed hold not confirmed, challenged or set aside",
        [Step.HOLD_OVERDUE, Step.CHALLENGED, Step.SET_ASIDE],
    ),
    Group.NO_BIDS: ("Closed with no bids: tender again", [Step.NO_BIDS, Step.TENDER_CANCELLED]),
    Group.TO_PUBLISH: ("Not yet out to tender", [Step.DRAFT, Step.BLOCK_BED_OFFERED]),
    Group.OUT_TO_TENDER: ("Out to tender", [Step.OUT_TO_TENDER]),
    Group.AWAITING_HOME: ("Awaiting the home", [Step.AWAITING_HOME, Step.STANDSTILL, Step.MOVING_IN]),
    Group.DONE: ("Placed or cancelled", [Step.PLACED, Step.CANCELLED]),
}
GROUP_OF_STEP = {step: group for group, (_, steps) in GROUPS.items() for step in steps}
# Steps that are finished: the work queue leaves them out.
DONE_STEPS = GROUPS[Group.DONE][1]


@dataclass(frozen=True)
class NextStep:
    code: str
    label: str

    @property
    def group(self) -> str:
        return GROUP_OF_STEP[self.code]


@dataclass(frozen=True)
class NextStepRule:
    """`annotate(queryset)` adds `next_step` (a `Step` code, by the database clock) and `at_risk`
    (not yet sourced, target date near or past) to a queryset of requests; `describe(requests)`
    gives each annotated request its `NextStep`, with a bounded number of queries for any number."""

    annotate: Callable[[QuerySet], QuerySet]
    describe: Callable[[list], dict[int, NextStep]]


_rule: NextStepRule | None = None


def next_step_rule_register(rule: NextStepRule) -> None:
    """Called once at start-up by the app that owns the rule."""
    global _rule
    _rule = rule


def _registered() -> NextStepRule:
    if _rule is None:
        raise RuntimeError("No next-step rule is registered: is the fairness app installed?")
    return _rule


def with_next_step(queryset: QuerySet) -> QuerySet:
    """Annotate `next_step` and `at_risk` on requests, so lists can filter and count by them in SQL."""
    return _registered().annotate(queryset)


def requests_next_steps(requests: Iterable) -> list:
    """The requests, each with `next_step` replaced by its `NextStep` (code and label).

    Takes a queryset (annotated here) or requests already annotated by `with_next_step`."""
    if isinstance(requests, QuerySet) and "next_step" not in requests.query.annotations:
        requests = with_next_step(requests)
    requests = list(requests)
    steps = _registered().describe(requests)
    for request in requests:
        request.next_step = steps[request.pk]
    return requests


def request_next_step(request) -> NextStep:
    """One request's next step, read afresh."""
    from .models import PlacementRequest

    annotated = with_next_step(PlacementRequest.objects.filter(pk=request.pk)).get()
    return _registered().describe([annotated])[annotated.pk]
