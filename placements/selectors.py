"""Reads of placement requests and placements, scoped to the reader's organisation."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from core.errors import NotFoundError
from organisations.models import Organisation
from organisations.permissions import (
    is_broker,
    is_council_member,
    is_council_user,
    is_discharge_coordinator,
    is_provider_user,
)

from .models import Pathway, Placement, PlacementRequest
from .next_steps import DONE_STEPS, GROUPS, Group, requests_next_steps, with_next_step


def placement_request_list(*, actor):
    if not is_council_user(actor):
        return PlacementRequest.objects.none()
    return (
        PlacementRequest.objects.filter(commissioner_id=actor.organisation_id)
        .select_related("lot", "preferred_home")
        .prefetch_related("specialisms")
    )


def placement_request_get(*, actor, pk) -> PlacementRequest:
    request = placement_request_list(actor=actor).filter(pk=pk).first()
    if request is None:
        raise NotFoundError("No such placement request.")
    return request


# Orders requests so that urgent ones (hospital discharges, urgent community) come before planned ones.
URGENT_FIRST = Case(
    When(urgency=PlacementRequest.Urgency.PLANNED, then=Value(1)), default=Value(0), output_field=IntegerField()
).asc()


def placement_request_queue(*, actor):
    """A broker's work queue: requests with something still to happen, each with its next step
    (`placements.next_steps`), urgent ones first, then earliest target first. Placed and
    cancelled ones are done."""
    live = placement_request_list(actor=actor).filter(
        status__in=[PlacementRequest.Status.NEW, PlacementRequest.Status.TENDERING, PlacementRequest.Status.AWARDED]
    )
    return (
        with_next_step(live.prefetch_related(None))
        .exclude(next_step__in=DONE_STEPS)
        .order_by(URGENT_FIRST, "target_date", "target_at", "requested_at", "pk")
    )


@dataclass
class WorkQueueGroup:
    key: str
    title: str
    requests: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.requests)


@dataclass
class WorkQueue:
    groups: list[WorkQueueGroup]
    at_risk: list
    # Discharge-to-assess stays past their review date with no outcome: at risk as well.
    overdue_reviews: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups)

    def group(self, key: str) -> WorkQueueGroup:
        return next(group for group in self.groups if group.key == key)


def broker_work_queue(*, actor) -> WorkQueue:
    """The broker's queue grouped by what the broker must do next, and the requests at risk of
    missing their target date. A fixed number of queries however many requests there are."""
    requests = requests_next_steps(placement_request_queue(actor=actor))
    groups = {key: WorkQueueGroup(key, title) for key, (title, _) in GROUPS.items() if key != Group.DONE}
    for request in requests:
        groups[request.next_step.group].requests.append(request)
    overdue = list(assessment_reviews_overdue(commissioner_id=actor.organisation_id, today=timezone.localdate()))
    return WorkQueue(list(groups.values()), [request for request in requests if request.at_risk], overdue)


def placement_list(*, actor):
    """Commissioning bodies see their placements; providers see placements in their own homes."""
    placements = Placement.objects.select_related("care_home", "lot", "commissioner")
    if is_council_user(actor):
        return placements.filter(commissioner_id=actor.organisation_id)
    if is_provider_user(actor):
        return placements.filter(care_home__provider_id=actor.organisation_id)
    return Placement.objects.none()


def placement_get(*, actor, pk) -> Placement:
    placement = placement_list(actor=actor).filter(pk=pk).first()
    if placement is None:
        raise NotFoundError("No such placement.")
    return placement


def assessment_review_overdue_q(today: date) -> Q:
    """Discharge-to-assess stays past their review date with no outcome recorded: the at-risk lists
    of brokers and commissioners read this one condition."""
    return Q(
        pathway=Pathway.PATHWAY_3_ASSESSMENT,
        assessment_outcome="",
        review_on__lt=today,
        cancelled_at__isnull=True,
    )


def assessment_reviews_overdue(*, commissioner_id: int, today: date):
    """A body's overdue discharge-to-assess reviews, longest overdue first."""
    return (
        Placement.objects.filter(assessment_review_overdue_q(today), commissioner_id=commissioner_id)
        .select_related("care_home", "lot")
        .order_by("review_on", "pk")
    )


@dataclass(frozen=True)
class AssessmentStay:
    """A discharge-to-assess stay as its placement's page shows it to one reader."""

    placement: Placement
    review_overdue: bool
    long_term_requests: list
    can_record_outcome: bool


def assessment_stay(*, actor, placement: Placement) -> AssessmentStay | None:
    """The stay's assessment, review and outcome; None for any other placement. Only the body's
    people see the long-term request it raised, and only its brokers record the outcome."""
    if placement.pathway != Pathway.PATHWAY_3_ASSESSMENT:
        return None
    today = timezone.localdate()
    own = is_council_member(actor, placement.commissioner_id)
    return AssessmentStay(
        placement=placement,
        review_overdue=Placement.objects.filter(assessment_review_overdue_q(today), pk=placement.pk).exists(),
        long_term_requests=list(placement.long_term_requests.order_by("pk")) if own else [],
        can_record_outcome=own
        and is_broker(actor)
        and not placement.assessment_outcome
        and placement.cancelled_at is None,
    )


def referral_list(*, actor):
    """A discharge coordinator's own hospital's referrals, newest first; nobody else's. Brokers and
    commissioners read the same requests as their body's placement requests."""
    if not is_discharge_coordinator(actor) or not actor.organisation_id:
        return PlacementRequest.objects.none()
    return PlacementRequest.objects.filter(
        hospital_id=actor.organisation_id, urgency=PlacementRequest.Urgency.HOSPITAL_DISCHARGE
    ).select_related("lot", "commissioner")


def referral_get(*, actor, pk) -> PlacementRequest:
    referral = referral_list(actor=actor).filter(pk=pk).first()
    if referral is None:
        raise NotFoundError("No such referral.")
    return referral


def referral_bodies(*, actor):
    """The commissioning bodies a coordinator's hospital refers people to."""
    if not is_discharge_coordinator(actor) or not actor.organisation_id:
        return Organisation.objects.none()
    return actor.organisation.refers_to.filter(is_active=True).order_by("name")
