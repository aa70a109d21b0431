"""Fairness's items on the provider's home page: bed holds the provider has still to confirm."""

from django.db.models.functions import Now
from django.urls import reverse

from organisations.models import Role
from organisations.todo import TodoItem, todo_source_register

from .models import BedHold


def bed_holds_to_confirm(*, actor):
    """Holds awaiting the provider's confirmation whose time to confirm has not run out (by the
    database clock); one past its time is the broker's to move on from."""
    return BedHold.objects.filter(
        bid__provider_id=actor.organisation_id, status=BedHold.Status.AWAITING, confirm_by__gt=Now()
    ).order_by("confirm_by")


def provider_todo(user) -> list[TodoItem]:
    bids = list(bed_holds_to_confirm(actor=user).values_list("bid_id", flat=True))
    # One hold links straight to its page; several to the invitations, where each award is.
    url = reverse("fairness:provider_award", args=[bids[0]]) if len(bids) == 1 else reverse("bidding:invitation_list")
    return [TodoItem("bed-holds", "Bed holds to confirm", len(bids), url)]


todo_source_register(Role.PROVIDER, provider_todo, order=20)
