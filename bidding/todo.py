"""Bidding's items on the provider's home page: invitations whose window closes soon without a bid."""

from datetime import timedelta

from django.db.models import DateTimeField, ExpressionWrapper, Q
from django.db.models.functions import Now
from django.urls import reverse

from organisations.models import Role
from organisations.todo import TodoItem, todo_source_register

from .models import Bid, Invitation, Tender
from .selectors import invitation_list, with_open_flag

CLOSING_SOON_HOURS = 48


def invitations_closing_soon(*, actor):
    """Open invitations of the provider's homes, not yet bid on, whose window closes within two days."""
    soon = ExpressionWrapper(Now() + timedelta(hours=CLOSING_SOON_HOURS), output_field=DateTimeField())
    return (
        invitation_list(actor=actor)
        .filter(status=Invitation.Status.INVITED, tender__in=with_open_flag(Tender.objects.all()).filter(is_open=True))
        .filter(tender__closes_at__lte=soon)
        .exclude(Q(bid__isnull=False) & Q(bid__status=Bid.Status.SUBMITTED))
    )


def provider_todo(user) -> list[TodoItem]:
    count = invitations_closing_soon(actor=user).order_by().count()
    return [
        TodoItem(
            "invitations-closing",
            "Invitations closing within two days without your bid",
            count,
            reverse("bidding:invitation_list"),
        )
    ]


todo_source_register(Role.PROVIDER, provider_todo, order=10)
