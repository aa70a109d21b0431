"""Demo home closure: the council marks one of its block-contract homes as closing in six weeks,
raises urgent requests for its residents there, and records one of them moved yesterday; a provider
hands back a placement at another home with four weeks' notice. And the person's choice off the DPS:
one request placed on a spot contract by choice at a home not on the council's DPS for its lot, and
one waiting with such a preferred home, so its page offers the spot contract.

Idempotent: a council that has a closing home already, or a hand-back, is left alone; the choice
requests are recognised by their case reference.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from bidding.models import Invitation, Tender
from blockbeds.models import BlockContract
from closures.models import HandBack, HomeClosure, ResidentMove
from closures.services import (
    home_closing_announce,
    off_dps_placement_create,
    placement_hand_back,
    resident_move_update,
    urgent_requests_raise,
)
from demo.organisations import COUNCIL_SLUG
from lots.models import Lot
from organisations.models import Organisation, Role, User
from placements.models import Placement, PlacementRequest
from placements.services import placement_request_create
from providers.models import Admission, CareHome


def _live(council):
    today = timezone.localdate()
    return (
        Placement.objects.live().filter(commissioner=council).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    )


@transaction.atomic
def seed_closures(*, stdout=None) -> None:
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    commissioner = User.objects.get(organisation=council, role=Role.COMMISSIONER, email__startswith="commissioner@")
    broker = User.objects.get(organisation=council, role=Role.BROKER, email__startswith="broker@")
    today = timezone.localdate()
    if not HomeClosure.objects.filter(commissioner=council).exists():
        # A home with no open tender of any body's, so the demo's tenders keep their bidders.
        tendering = Invitation.objects.filter(tender__status=Tender.Status.OPEN).values("care_home_id")
        homes = (
            BlockContract.objects.filter(commissioner=council, end_date__gte=today)
            .exclude(care_home_id__in=tendering)
            .values("care_home_id")
        )
        resident_counts = (
            _live(council)
            .filter(care_home_id__in=homes, start_date__lt=today - timedelta(days=1))
            .values("care_home_id")
            .annotate(people=Count("pk"))
            .order_by("-people", "care_home_id")
        )
        chosen = resident_counts.first()
        if chosen:
            home = Placement.objects.filter(care_home_id=chosen["care_home_id"]).first().care_home
            [closure] = home_closing_announce(
                actor=commissioner,
                care_home=home,
                closing_on=today + timedelta(weeks=6),
                reason="The provider has told us it will close the home: the building needs work it cannot fund.",
            )
            # Spot placements first: the block-bed figures of the demo stay as its block contracts say.
            moves = sorted(closure.moves.select_related("placement"), key=lambda m: m.placement.source == "block_bed")
            urgent_requests_raise(actor=broker, moves=moves)
            if moves:
                resident_move_update(
                    actor=broker, move=moves[0], status=ResidentMove.Status.MOVED, moved_on=today - timedelta(days=1)
                )
            if len(moves) > 1:
                resident_move_update(
                    actor=broker,
                    move=moves[1],
                    status=ResidentMove.Status.FAMILY_CONTACTED,
                    planned_move_on=today + timedelta(weeks=2),
                    note="Daughter would like a home nearer Stone.",
                )
            if stdout:
                stdout.write(f"  {home.name} is closing: {closure.residents_at_start} residents on the move plan")
    if not HandBack.objects.filter(commissioner=council).exists():
        placement = (
            _live(council)
            .filter(resident_move__isnull=True, block_occupancy__isnull=True, start_date__lt=today)
            .select_related("care_home__provider")
            .order_by("pk")
            .first()
        )
        if placement:
            provider_user = User.objects.filter(
                organisation=placement.care_home.provider, role=Role.PROVIDER, is_active=True
            ).first()
            if provider_user:
                placement_hand_back(
                    actor=provider_user,
                    placement=placement,
                    notice_ends_on=today + timedelta(weeks=4),
                    reason="We can no longer meet this resident's nursing needs safely.",
                )


CHOICE_PLACED = "DEMO-CHOICE-1"
CHOICE_WAITING = "DEMO-CHOICE-2"


def _off_dps_home(council, lot):
    """A registered home with a provider login that the council has not admitted for the lot."""
    admitted = Admission.objects.filter(commissioner=council, lot=lot, status=Admission.Status.ADMITTED)
    return (
        CareHome.objects.filter(registration_status=CareHome.RegistrationStatus.REGISTERED)
        .filter(provider__users__role=Role.PROVIDER)
        .exclude(pk__in=admitted.values("care_home_id"))
        .order_by("name", "pk")
        .first()
    )


@transaction.atomic
def seed_off_dps_choice(*, stdout=None) -> None:
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    broker = User.objects.get(organisation=council, role=Role.BROKER, email__startswith="broker@")
    lot = Lot.objects.get(number=1)
    home = _off_dps_home(council, lot)
    if home is None:
        return
    today = timezone.localdate()
    for case_reference in (CHOICE_PLACED, CHOICE_WAITING):
        if PlacementRequest.objects.filter(commissioner=council, case_reference=case_reference).exists():
            continue
        request = placement_request_create(
            actor=broker,
            case_reference=case_reference,
            lot=lot,
            needs_summary="Older person with mobility needs; wants to live near her sister.",
            needed_from=today + timedelta(days=3),
            local_authority=council.local_authority,
            preferred_home=home,
        )
        if case_reference == CHOICE_PLACED:
            off_dps_placement_create(
                actor=broker,
                request=request,
                care_home=home,
                weekly_fee=min(request.max_weekly_rate, Decimal("850.00")),
                start_date=today + timedelta(days=3),
                terms_accepted=True,
                reason="Her sister lives at the home.",
            )
    if stdout:
        stdout.write(f"  A spot contract by choice at {home.name}, and a request preferring it")
