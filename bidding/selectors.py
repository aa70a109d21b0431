"""Reads of tenders and bids. Sealed bids are enforced here, in one place.

Until a tender has closed, nobody but the bidding provider may read a bid's amount: not
brokers, not commissioners, not other providers, not API clients. A provider only ever sees
its own bids. "Closed" is judged against the database clock, so a tender whose deadline has
passed reads as closed even before a worker has closed it.
"""

from django.db.models import F, Prefetch

from core.errors import NotFoundError
from organisations.permissions import is_council_member, is_council_user, is_provider_user, require_council_member

from .models import Bid, Invitation, Tender
from .services import database_now, with_open_flag


def tender_list(*, actor):
    tenders = with_open_flag(Tender.objects.select_related("request__lot", "request__commissioner"))
    if is_council_user(actor):
        return tenders.filter(request__commissioner_id=actor.organisation_id)
    if is_provider_user(actor):
        invited = Invitation.objects.filter(care_home__provider_id=actor.organisation_id).values("tender_id")
        return tenders.filter(pk__in=invited)
    return Tender.objects.none()


def tender_get(*, actor, pk) -> Tender:
    tender = tender_list(actor=actor).filter(pk=pk).first()
    if tender is None:
        raise NotFoundError("No such tender.")
    return tender


def tender_is_open(tender: Tender) -> bool:
    if hasattr(tender, "is_open"):
        return tender.is_open
    return tender.status == Tender.Status.OPEN and tender.closes_at > database_now()


def tender_state_label(tender: Tender) -> str:
    """What people see: an open tender past its deadline reads as closed, worker or not."""
    if tender.status == Tender.Status.OPEN and not tender_is_open(tender):
        return "Closed"
    return tender.get_status_display()


def bid_amounts_visible(*, actor, tender: Tender) -> bool:
    """Whether the commissioning body may read this tender's bid amounts (after the close)."""
    return is_council_member(actor, tender.request.commissioner_id) and not tender_is_open(tender)


def ranked_bids(*, actor, tender: Tender):
    """The evaluated, ranked bids, for the commissioning body once the tender is evaluated."""
    require_council_member(actor, tender.request.commissioner_id, "Only the commissioning body sees the ranked bids.")
    if tender.status not in (Tender.Status.EVALUATED, Tender.Status.AWARDED):
        return Bid.objects.none()
    return (
        tender.bids.filter(rank__isnull=False).select_related("care_home__current_rating", "provider").order_by("rank")
    )


def other_bids(*, tender: Tender):
    """Withdrawn and excluded bids, listed under the ranking."""
    return tender.bids.exclude(status=Bid.Status.SUBMITTED).select_related("care_home").order_by("care_home__name")


def bid_list(*, actor):
    """A provider's own bids; nobody else reads bids through this."""
    if not is_provider_user(actor):
        return Bid.objects.none()
    return Bid.objects.filter(provider_id=actor.organisation_id).select_related("care_home", "tender")


def bid_get(*, actor, tender: Tender, pk) -> Bid:
    bid = bid_list(actor=actor).filter(tender=tender, pk=pk).first()
    if bid is None:
        raise NotFoundError("No such bid.")
    return bid


def invitation_list(*, actor):
    """A provider's invitations, with its own bid and the tender's open flag."""
    if not is_provider_user(actor):
        return Invitation.objects.none()
    tenders = with_open_flag(Tender.objects.select_related("request__lot", "request__commissioner"))
    return (
        Invitation.objects.filter(care_home__provider_id=actor.organisation_id)
        .select_related("care_home", "bid__award")
        .prefetch_related(Prefetch("tender", queryset=tenders))
        .order_by("-tender__opened_at", "care_home__name")
    )


def invitation_get(*, actor, pk) -> Invitation:
    invitation = invitation_list(actor=actor).filter(pk=pk).first()
    if invitation is None:
        raise NotFoundError("No such invitation.")
    return invitation


def own_bids_for_tender(*, actor, tender: Tender):
    return bid_list(actor=actor).filter(tender=tender)


def tender_invitations(*, actor, tender: Tender):
    """The homes invited to a tender, nearest first, for its commissioning body. Who was invited
    is not sealed (every eligible home is); what they bid is, and is not read here."""
    require_council_member(actor, tender.request.commissioner_id, "Only the commissioning body sees who was invited.")
    return tender.invitations.select_related("care_home__current_rating", "care_home__provider").order_by(
        "status", F("distance_km").asc(nulls_last=True), "care_home__name"
    )
