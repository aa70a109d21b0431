"""Demo fairness: a question answered to every invited home, a shortlist for the person, an award
awaiting its bed hold, and an award in standstill with a challenge raised.

Runs after the demo tenders. Idempotent: its requests are recognised by their case reference;
a shortlist link's address is shown once, so every run shares a fresh link on the same tender.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.services import tender_award, tender_close_and_evaluate, tender_publish
from blockbeds.services import block_offer_decline, block_offer_pending
from demo.bidding import STAFFORD, _bid_all, _close_in
from demo.contracts import top_up_agreement_for_demo
from demo.organisations import COUNCIL_SLUG
from fairness.models import BedHold, StandstillRule
from fairness.services import challenge_raise, question_answer, question_ask, shortlist_share
from lots.models import Lot
from organisations.models import Organisation, Role, User
from placements.models import PlacementRequest
from placements.services import placement_request_create

PREFIX = "DEMO-F-"
SHORTLIST_CASE = f"{PREFIX}02"
STANDSTILL_LOT = 6
# Named in case the winning fee is above the council's rate; unused otherwise.
TOP_UP_PAYER = "The person's son"

NEEDS = {
    1: "Older person, frail after a chest infection; needs help with washing, dressing and moving about.",
    6: "Older person with Parkinson's disease; needs nursing care, help with medicines on time and a hoist.",
}


def _request(broker, number: int, lot: Lot) -> PlacementRequest:
    created = placement_request_create(
        actor=broker,
        case_reference=f"{PREFIX}{number:02d}",
        lot=lot,
        needs_summary=NEEDS[lot.number],
        needed_from=timezone.localdate() + timedelta(days=4),
        local_authority="Staffordshire",
        latitude=STAFFORD[0],
        longitude=STAFFORD[1],
        max_distance_km=Decimal("30"),
    )
    if block_offer_pending(request=created):
        block_offer_decline(request=created, actor=broker, reason="The person wants a home close to their church.")
    return created


def _evaluated(broker, number: int, lot: Lot, fees: list[str]) -> tuple[Tender, list[Bid]]:
    tender = tender_publish(actor=broker, request=_request(broker, number, lot))
    _bid_all(tender, fees)
    _close_in(tender, -timedelta(hours=3))
    tender_close_and_evaluate(tender_id=tender.pk)
    ranked = list(
        Bid.objects.filter(tender=tender, status=Bid.Status.SUBMITTED, rank__isnull=False)
        .select_related("provider")
        .order_by("rank")
    )
    return Tender.objects.get(pk=tender.pk), ranked


def _provider_user(organisation) -> User:
    return User.objects.filter(organisation=organisation, role=Role.PROVIDER, is_service_account=False).first()


def _seed(council, broker) -> None:
    lots = {lot.number: lot for lot in Lot.objects.all()}

    asked_on = tender_publish(actor=broker, request=_request(broker, 1, lots[1]))
    invited = asked_on.invitations.select_related("care_home__provider").order_by("care_home__name")
    askers = [user for user in (_provider_user(i.care_home.provider) for i in invited) if user is not None]
    question = question_ask(
        actor=askers[0], tender=asked_on, question="Does the person need a ground-floor room, or is a lift enough?"
    )
    question_answer(
        actor=broker,
        question=question,
        answer="A room on any floor with lift access is fine; the person walks short distances with a frame.",
    )
    question_ask(actor=askers[-1], tender=asked_on, question="Will the person bring their own riser-recliner chair?")

    _evaluated(broker, 2, lots[1], ["835.00", "880.00", "915.00", "790.00"])

    held, ranked = _evaluated(broker, 3, lots[1], ["850.00", "825.00", "870.00"])
    top_up_agreement_for_demo(broker, held, ranked[0], TOP_UP_PAYER, "Family member")
    tender_award(actor=broker, tender=held, bid=ranked[0], top_up_payer=TOP_UP_PAYER)
    # The home has not answered in time, so the broker can show moving to the next ranked bid.
    BedHold.objects.filter(bid=ranked[0]).update(confirm_by=timezone.now() - timedelta(hours=1))

    StandstillRule.objects.get_or_create(commissioner=council, lot=lots[STANDSTILL_LOT], defaults={"days": 10})
    challenged, ranked = _evaluated(broker, 4, lots[STANDSTILL_LOT], ["1180.00", "1120.00", "1210.00"])
    top_up_agreement_for_demo(broker, challenged, ranked[0], TOP_UP_PAYER, "Family member")
    tender_award(actor=broker, tender=challenged, bid=ranked[0], top_up_payer=TOP_UP_PAYER)
    if len(ranked) > 1:
        challenge_raise(
            actor=_provider_user(ranked[1].provider),
            bid=ranked[1],
            grounds="Our home's rating went up to Good last week; the quality score used the old rating.",
        )


@transaction.atomic
def seed_fairness(stdout=None) -> str | None:
    """Make the fairness demo once; returns a fresh shortlist link's address for the person."""
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    broker = User.objects.filter(organisation=council, role=Role.BROKER, is_service_account=False).first()
    if PlacementRequest.objects.filter(commissioner=council, case_reference__startswith=PREFIX).exists():
        if stdout:
            stdout.write("  demo questions, shortlist, bed hold and standstill already present")
    else:
        _seed(council, broker)
        if stdout:
            stdout.write("  a question answered, a shortlist, a bed hold awaiting the home, a challenged standstill")
    tender = Tender.objects.filter(
        request__commissioner=council, request__case_reference=SHORTLIST_CASE, status=Tender.Status.EVALUATED
    ).first()
    if tender is None:
        return None
    bids = list(tender.bids.filter(status=Bid.Status.SUBMITTED, rank__isnull=False).order_by("rank")[:3])
    _link, token = shortlist_share(
        actor=broker, tender=tender, bids=bids, recipient="The person's daughter", valid_hours=24 * 14
    )
    return settings.SITE_URL.rstrip("/") + reverse("fairness:shortlist", args=[token])
