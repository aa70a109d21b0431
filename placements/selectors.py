"""Reads of placement requests and placements, scoped to the reader's organisation."""

from dataclasses import dataclass, field

from core.errors import NotFoundError
from organisations.permissions import is_council_user, is_provider_user

from .models import Placement, PlacementRequest
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


def placement_request_queue(*, actor):
    """A broker's work queue: requests with something still to happen, each with its next step
    (`placements.next_steps`), earliest target first. Placed and cancelled ones are done."""
    live = placement_request_list(actor=actor).filter(
        status__in=[PlacementRequest.Status.NEW, PlacementRequest.Status.TENDERING, PlacementRequest.Status.AWARDED]
    )
    return (
        with_next_step(live.prefetch_related(None))
        .exclude(next_step__in=DONE_STEPS)
        .order_by("target_date", "requested_at", "pk")
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
    return WorkQueue(list(groups.values()), [request for request in requests if request.at_risk])


def placement_list(*, actor):
    """Commissioning bodies see their placements; providers see placements in their own homes."""
    placements = Placement.objects.select_related("care_home", "lot", "commissioner")
    if is_council_user(actor):
        return placements.filter(commissioner_id=actor.organisation_id)
    if is_provider_user(actor):
        return placements.filter(care_home__provider_id=actor.organisation_id)
    return Placement.objects.none()
