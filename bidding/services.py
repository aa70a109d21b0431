"""Every write of a tender's life: publish, bid, close, evaluate, award, cancel.

Deadlines are decided by the database clock inside the transaction that writes, with the
tender row locked, so a page, an API call, the admin and a Celery task all get the same answer.
"""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Now
from django.utils import timezone

from core.audit import audit_record

from .models import Bid, Invitation, Tender


def database_now() -> datetime:
    """The database's clock at this moment.

    `clock_timestamp()` rather than `now()`: PostgreSQL's `now()` is the transaction's start,
    which would let a bid that waited for the tender lock past the deadline slip in.
    """
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


OPEN_NOW = Q(status=Tender.Status.OPEN, closes_at__gt=Now())


def with_open_flag(queryset):
    """Annotate `is_open`: a tender is open only while its status is open and its deadline is ahead."""
    return queryset.annotate(is_open=ExpressionWrapper(OPEN_NOW, output_field=BooleanField()))


@transaction.atomic
def invitations_withdraw_for_care_home(*, care_home, actor, reason: str) -> int:
    """Take a suspended home out of every tender still open: its invitations and its bids.

    Returns how many invitations were withdrawn.
    """
    tenders = list(
        Tender.objects.select_for_update()
        .filter(OPEN_NOW, invitations__care_home=care_home, invitations__status=Invitation.Status.INVITED)
        .select_related("request")
        .order_by("pk")
    )
    if not tenders:
        return 0
    now = database_now()
    withdrawn = 0
    for tender in tenders:
        if tender.closes_at <= now:
            continue
        invitation = Invitation.objects.select_for_update().get(tender=tender, care_home=care_home)
        invitation.status = Invitation.Status.WITHDRAWN
        invitation.withdrawn_at = now
        invitation.withdrawn_reason = reason
        invitation.save(update_fields=["status", "withdrawn_at", "withdrawn_reason"])
        withdrawn += 1
        audit_record(
            actor=actor,
            verb="bidding.invitation.withdrawn",
            target=tender.request,
            organisation=tender.request.commissioner,
            reason=reason,
            detail={"tender": tender.pk, "care_home": care_home.pk, "care_home_name": care_home.name},
        )
        bid = Bid.objects.filter(invitation=invitation, status=Bid.Status.SUBMITTED).first()
        if bid is not None:
            bid.status = Bid.Status.EXCLUDED
            bid.excluded_reason = reason
            bid.updated_at = now
            bid.save(update_fields=["status", "excluded_reason", "updated_at"])
            audit_record(
                actor=actor,
                verb="bidding.bid.excluded",
                target=tender.request,
                organisation=tender.request.commissioner,
                reason=reason,
                detail={"tender": tender.pk, "bid": bid.pk, "care_home_name": care_home.name},
            )
    return withdrawn
