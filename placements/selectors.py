"""Reads of placement requests and placements, scoped to the reader's organisation."""

from core.errors import NotFoundError
from organisations.permissions import is_council_user, is_provider_user

from .models import Placement, PlacementRequest


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
    """A broker's work queue: requests not yet awarded or cancelled, oldest target first."""
    return (
        placement_request_list(actor=actor)
        .filter(status__in=[PlacementRequest.Status.NEW, PlacementRequest.Status.TENDERING])
        .order_by("target_date", "requested_at")
    )


def placement_list(*, actor):
    """Commissioning bodies see their placements; providers see placements in their own homes."""
    placements = Placement.objects.select_related("care_home", "lot", "commissioner")
    if is_council_user(actor):
        return placements.filter(commissioner_id=actor.organisation_id)
    if is_provider_user(actor):
        return placements.filter(care_home__provider_id=actor.organisation_id)
    return Placement.objects.none()
