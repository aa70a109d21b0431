"""Reads of tenders and bids, and the two rules every surface asks about a tender.

"Is this tender still open" is `tender_is_open`, with `tender_open_q` and `with_open_flag` as its
queryset form; all three read the database's clock (`clock_timestamp()`), never the web server's,
so a page, an API call, the admin, a Celery task and a list agree at the deadline.

"What of the bids may this actor read" (the sealed-bid rule) is `bid_disclosure`. Until a tender
has closed, nobody but the bidding provider may read a bid's amount: not brokers, not
commissioners, not other providers, not API clients, not the back office. A provider only ever
sees its own bids, and its rank, scores and outcome once the award is made.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, F, Prefetch, Q

from core.clock import DatabaseNow, database_now
from core.errors import NotFoundError
from organisations.permissions import is_council_user, is_provider_user, require_council_member

from .models import Bid, Invitation, Tender

# --- Is this tender open: one rule, one clock -------------------------------------------------


def tender_open_q() -> Q:
    """`tender_is_open` as a filter: open status and a deadline still ahead by the database clock."""
    return Q(status=Tender.Status.OPEN, closes_at__gt=DatabaseNow())


def tender_close_grace() -> timedelta:
    """How long after its deadline a tender is closed: the longest a bid received before the
    deadline may take to be decided (`BID_RECEIPT_GRACE_SECONDS`, the web servers' request bound)."""
    return timedelta(seconds=settings.BID_RECEIPT_GRACE_SECONDS)


def tender_close_due_q() -> Q:
    """Tenders a close is owed to: past the deadline by the grace, so every bid received before
    the deadline has been decided by the receipt rule (`tender_lock_open`) before the close."""
    return Q(status=Tender.Status.OPEN, closes_at__lte=DatabaseNow() - tender_close_grace())


def with_open_flag(queryset):
    """Annotate each tender with `is_open`, the answer `tender_is_open` gives for it."""
    return queryset.annotate(is_open=ExpressionWrapper(tender_open_q(), output_field=BooleanField()))


def tender_is_open(tender: Tender, *, at: datetime | None = None) -> bool:
    """Whether bids may still be submitted, amended or withdrawn: open status and deadline ahead.

    `at` is a database time already read (under the tender's row lock, by `tender_lock_open`);
    without it, a tender from `with_open_flag` answers from its annotation and any other asks the
    database's clock.
    """
    if at is None and hasattr(tender, "is_open"):
        return tender.is_open
    if tender.status != Tender.Status.OPEN:
        return False
    return tender.closes_at > (at or database_now())


def tender_awaits_close(tender: Tender) -> bool:
    """Marked open but past its deadline: no worker has closed it yet; it reads as closed."""
    return tender.status == Tender.Status.OPEN and not tender_is_open(tender)


def tender_state_label(tender: Tender) -> str:
    """What people see: an open tender past its deadline reads as closed, worker or not."""
    if tender_awaits_close(tender):
        return "Closed"
    return tender.get_status_display()


def tender_state_code(tender: Tender) -> str:
    """The machine form of `tender_state_label`, for the API: the status, or "closed" past the deadline."""
    return Tender.Status.CLOSED.value if tender_awaits_close(tender) else tender.status


# --- What of the bids may an actor read: the sealed-bid rule ----------------------------------


class _BackOffice:
    """The admin site as a reader: it sees every body's bids, so only once a tender has closed."""

    def __repr__(self) -> str:
        return "BACK_OFFICE"


BACK_OFFICE = _BackOffice()


@dataclass(frozen=True)
class Disclosure:
    """What an actor may read of a tender's bids right now.

    `amounts`: every bid's amount (and the bid count). `own_amounts`: the actor's own bids' amounts.
    `ranks`: ranks, scores and their working (of every bid where `amounts`, else of its own).
    `outcomes`: who won and who did not.
    """

    amounts: bool = False
    own_amounts: bool = False
    ranks: bool = False
    outcomes: bool = False


SEALED = Disclosure()


def bid_disclosure(*, actor, tender: Tender) -> Disclosure:
    """The sealed-bid rule, for pages, the API, downloads, the admin, dashboards, webhooks and open data.

    The commissioning body (and the back office) read every amount, rank and score once the tender
    has closed; a provider reads its own bids' amounts at any time and its rank, scores and outcome
    once the award is made; anybody else reads nothing.
    """
    back_office = actor is BACK_OFFICE
    if back_office or (is_council_user(actor) and actor.organisation_id == tender.request.commissioner_id):
        closed = not tender_is_open(tender)
        return Disclosure(amounts=closed, ranks=closed, outcomes=tender.status == Tender.Status.AWARDED)
    if is_provider_user(actor):
        awarded = tender.status == Tender.Status.AWARDED
        return Disclosure(own_amounts=True, ranks=awarded, outcomes=awarded)
    return SEALED


def bid_amounts_visible(*, actor, tender: Tender) -> bool:
    """Whether `actor` may read every bid amount of this tender (`bid_disclosure(...).amounts`)."""
    return bid_disclosure(actor=actor, tender=tender).amounts


def bid_amounts_public(tender: Tender) -> bool:
    """Whether what leaves the service (webhooks, open data) may say how many bids came and the
    winning amount: the rule as it stands for nobody in particular but the public record."""
    return bid_disclosure(actor=BACK_OFFICE, tender=tender).amounts


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


INBOX_STATES = ("open", "closed", "won", "lost")


def invitation_inbox_state_q(state: str) -> Q:
    """`invitation_inbox_state` as a filter on `invitation_list`."""
    open_ = Q(status=Invitation.Status.INVITED, tender__status=Tender.Status.OPEN, tender__closes_at__gt=DatabaseNow())
    won = Q(bid__award__isnull=False)
    lost = Q(tender__status=Tender.Status.AWARDED, bid__status=Bid.Status.SUBMITTED, bid__award__isnull=True)
    return {"open": open_, "won": won, "lost": lost, "closed": ~open_ & ~won & ~lost}[state]


def invitation_inbox_state(invitation: Invitation) -> str:
    """Where an invitation stands for the provider: open (its home may still bid), won or lost (the
    award went to its bid or to another, its own bid standing), else closed (past the deadline with no
    award yet, cancelled, withdrawn, or awarded while it had no bid standing)."""
    tender = invitation.tender
    bid = getattr(invitation, "bid", None)
    if invitation.status == Invitation.Status.INVITED and tender_is_open(tender):
        return "open"
    if bid is not None and hasattr(bid, "award"):
        return "won"
    if tender.status == Tender.Status.AWARDED and bid is not None and bid.status == Bid.Status.SUBMITTED:
        return "lost"
    return "closed"


def own_bids_for_tender(*, actor, tender: Tender):
    return bid_list(actor=actor).filter(tender=tender)


def tender_invitations(*, actor, tender: Tender):
    """The homes invited to a tender, nearest first, for its commissioning body. Who was invited
    is not sealed (every eligible home is); what they bid is, and is not read here."""
    require_council_member(actor, tender.request.commissioner_id, "Only the commissioning body sees who was invited.")
    return tender.invitations.select_related("care_home__current_rating", "care_home__provider").order_by(
        "status", F("distance_km").asc(nulls_last=True), "care_home__name"
    )
