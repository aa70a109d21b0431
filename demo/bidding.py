"""Demo tenders for the demo council, one or more in every state.

Two tenders close a few minutes after the demo starts, so the worker closing and evaluating
them can be watched. Idempotent: requests are recognised by their case reference.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.services import (
    bid_submit,
    placement_request_cancel,
    schedule_tender_close,
    tender_award,
    tender_close_and_evaluate,
    tender_publish,
)
from blockbeds.services import block_offer_decline, block_offer_pending
from demo.contracts import top_up_agreement_for_demo
from demo.organisations import COUNCIL_SLUG
from lots.models import Lot
from organisations.models import Organisation, Role, User
from placements.models import PlacementRequest
from placements.services import placement_request_create

PREFIX = "DEMO-T-"
STAFFORD = (52.8065, -2.1166)
STAFFORD_POSTCODE = "ST16 2LL"

NEEDS = {
    1: "Older person, recently discharged from hospital after a fall; needs help with mobility and personal care.",
    2: "Older person living with moderate dementia; needs a calm setting and support at night.",
    6: "Older person with complex health needs after a stroke; needs nursing care and help with eating.",
    7: "Older person with advanced dementia and diabetes; needs nursing care and a secure setting.",
}


def _bidders(tender: Tender, count: int):
    invitations = tender.invitations.select_related("care_home__provider").order_by("care_home__name")
    seen = []
    for invitation in invitations:
        user = User.objects.filter(
            organisation=invitation.care_home.provider, role=Role.PROVIDER, is_service_account=False
        ).first()
        if user is not None:
            seen.append((user, invitation.care_home))
        if len(seen) == count:
            break
    return seen


def _bid_all(tender: Tender, fees: list[str]) -> list[Bid]:
    return [
        bid_submit(
            actor=user,
            tender=tender,
            care_home=home,
            weekly_fee=Decimal(fee),
            earliest_start=timezone.localdate() + timedelta(days=2),
            needs_confirmed=True,
        )
        for (user, home), fee in zip(_bidders(tender, len(fees)), fees, strict=False)
    ]


def _close_in(tender: Tender, delta: timedelta) -> None:
    """Move a demo tender's deadline (the lot's rules refuse windows this short on purpose)."""
    now = timezone.now()
    opened_at = min(tender.opened_at, now + delta - timedelta(hours=1))
    Tender.objects.filter(pk=tender.pk).update(opened_at=opened_at, closes_at=now + delta)
    if delta > timedelta(0):
        transaction.on_commit(lambda: schedule_tender_close(tender.pk, now + delta))


@transaction.atomic
def seed_tenders(stdout=None) -> None:
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    if PlacementRequest.objects.filter(commissioner=council, case_reference__startswith=PREFIX).exists():
        if stdout:
            stdout.write("  demo tenders already present")
        return
    broker = User.objects.filter(organisation=council, role=Role.BROKER, is_service_account=False).first()
    lots = {lot.number: lot for lot in Lot.objects.all()}

    def request(number: int, lot: int, **kwargs) -> PlacementRequest:
        defaults = {
            "local_authority": "Staffordshire",
            "postcode": STAFFORD_POSTCODE,
            "max_distance_km": Decimal("30"),
        }
        defaults.update(kwargs)
        created = placement_request_create(
            actor=broker,
            case_reference=f"{PREFIX}{number:02d}",
            lot=lots[lot],
            needs_summary=NEEDS[lot],
            needed_from=timezone.localdate() + timedelta(days=3),
            **defaults,
        )
        if block_offer_pending(request=created):
            block_offer_decline(
                request=created, actor=broker, reason="The person needs a home near family, away from the block beds."
            )
        return created

    request(1, 1)

    watched = tender_publish(actor=broker, request=request(2, 1))
    _bid_all(watched, ["845.00", "790.00", "910.00"])
    _close_in(watched, timedelta(minutes=3))
    quiet = tender_publish(actor=broker, request=request(3, 2))
    _close_in(quiet, timedelta(minutes=5))

    open_long = tender_publish(actor=broker, request=request(4, 6))
    _bid_all(open_long, ["1150.00"])

    evaluated = tender_publish(actor=broker, request=request(5, 1))
    _bid_all(evaluated, ["820.00", "760.00", "880.00", "795.00"])
    _close_in(evaluated, -timedelta(minutes=20))
    tender_close_and_evaluate(tender_id=evaluated.pk)

    awarded = tender_publish(actor=broker, request=request(6, 2))
    _bid_all(awarded, ["805.00", "935.00", "870.00"])
    _close_in(awarded, -timedelta(hours=2))
    tender_close_and_evaluate(tender_id=awarded.pk)
    awarded.refresh_from_db()
    choice = awarded.bids.order_by("-weekly_fee").first()
    top_up_agreement_for_demo(broker, awarded, choice, "The person's husband", "Husband")
    tender_award(
        actor=broker,
        tender=awarded,
        bid=choice,
        reason="The person chose this home to stay near her husband.",
        top_up_payer="The person's husband",
    )

    no_bids = tender_publish(actor=broker, request=request(7, 7))
    _close_in(no_bids, -timedelta(hours=1))
    tender_close_and_evaluate(tender_id=no_bids.pk)

    cancelled = request(8, 1)
    tender_publish(actor=broker, request=cancelled)
    placement_request_cancel(actor=broker, request=cancelled, reason="The person chose to return home with care.")
    if stdout:
        stdout.write("  8 placement requests; tenders open, closing in 3 and 5 minutes, evaluated, awarded")
