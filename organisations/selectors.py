"""Reads of an organisation's API clients, scoped to the user."""

from core.errors import NotFoundError

from .models import ApiClient


def api_client_list(*, actor):
    if not actor.organisation_id:
        return ApiClient.objects.none()
    return (
        ApiClient.objects.filter(organisation_id=actor.organisation_id)
        .select_related("created_by")
        .order_by("revoked_at", "name", "id")
    )


def api_client_get(*, actor, pk: int) -> ApiClient:
    client = api_client_list(actor=actor).filter(pk=pk).first()
    if client is None:
        raise NotFoundError("No such API client.")
    return client
