"""Demo home closure: the council marks one of its block-contract homes as closing in six weeks,
raises urgent requests for its residents there, and records one of them moved yesterday; a provider
hands back a placement at another home with four weeks' notice.

Idempotent: a council that has a closing home already, or a hand-back, is left alone.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from bidding.models import Invitation, Tender
from blockbeds.models import BlockContract
from closures.models import HandBack, HomeClosure, ResidentMove
from closures.services import home_closing_announce, placement_hand_back, resident_move_update, urgent_requests_raise
from demo.organisations import COUNCIL_SLUG
from organisations.models import Organisation, Role, User
from placements.models import Placement


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
            moves = list(closure.moves.select_related("placement"))
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
