"""Reads of closing homes, move plans and hand-backs, scoped to the user, and the closure
dashboard's progress figures."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.utils import timezone

from blockbeds.models import BlockContract
from blockbeds.selectors import VoidCost, contracts_with_rows, void_cost_to_end
from core.errors import NotFoundError
from organisations.permissions import is_council_user, is_provider_user
from placements.models import Placement, PlacementRequest
from providers.models import Admission, CareHome

from .models import HandBack, HomeClosure, ResidentMove

OPEN_REQUEST = (PlacementRequest.Status.NEW, PlacementRequest.Status.TENDERING, PlacementRequest.Status.AWARDED)


def residents_at_home(*, care_home: CareHome):
    """The people living at the home: placements (spot or block bed) not cancelled and not ended
    before today."""
    today = timezone.localdate()
    return (
        Placement.objects.live()
        .filter(care_home=care_home)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .order_by("case_reference", "pk")
    )


def home_closure_list(*, actor):
    """The closing homes of the actor's body (brokers and commissioners), with their progress:
    residents at the start, still there, moved, and requests for new homes still open for
    residents not yet moved."""
    if not is_council_user(actor):
        return HomeClosure.objects.none()
    moved = Q(moves__status=ResidentMove.Status.MOVED)
    return (
        HomeClosure.objects.filter(commissioner_id=actor.organisation_id)
        .select_related("care_home")
        .annotate(
            listed=Count("moves", distinct=True),
            moved=Count("moves", filter=moved, distinct=True),
            remaining=Count("moves", filter=~moved, distinct=True),
            # A request still open for someone who has already moved (placed elsewhere, say) is not
            # waiting on anyone; the move's own record says where they went.
            requests_open=Count("moves", filter=Q(moves__new_request__status__in=OPEN_REQUEST) & ~moved, distinct=True),
        )
        .order_by("closing_on", "care_home__name", "pk")
    )


def home_closure_get(*, actor, pk) -> HomeClosure:
    closure = home_closure_list(actor=actor).filter(pk=pk).first()
    if closure is None:
        raise NotFoundError("No such closing home.")
    return closure


def closure_moves(*, closure: HomeClosure):
    return closure.moves.select_related(
        "placement", "placement__lot", "placement__block_occupancy__bed", "new_request"
    ).order_by("placement__case_reference", "pk")


def resident_move_get(*, actor, pk) -> ResidentMove:
    move = (
        ResidentMove.objects.filter(pk=pk, commissioner_id=getattr(actor, "organisation_id", None))
        .select_related("placement", "care_home", "home_closure", "hand_back", "new_request")
        .first()
    )
    if move is None or not is_council_user(actor):
        raise NotFoundError("No such resident move.")
    return move


@dataclass
class ContractAtClosure:
    contract: BlockContract
    void: VoidCost


def closure_block_contracts(*, closure: HomeClosure, at: date | None = None) -> list[ContractAtClosure]:
    """The body's block contracts at the closing home still running, each with what it costs from
    `at` (today) to its end while its beds stand void."""
    at = at or timezone.localdate()
    contracts = contracts_with_rows(
        BlockContract.objects.filter(
            care_home_id=closure.care_home_id, commissioner_id=closure.commissioner_id, end_date__gte=at
        ).order_by("reference")
    )
    return [ContractAtClosure(contract=contract, void=void_cost_to_end(contract, at)) for contract in contracts]


def homes_closable_by(*, actor):
    """The homes a commissioner may say are closing: those their body admitted, placed people in or
    holds block contracts with."""
    body = actor.organisation_id
    return (
        CareHome.objects.filter(
            Q(pk__in=Admission.objects.filter(commissioner_id=body).values("care_home_id"))
            | Q(pk__in=Placement.objects.filter(commissioner_id=body).values("care_home_id"))
            | Q(pk__in=BlockContract.objects.filter(commissioner_id=body).values("care_home_id"))
        )
        .exclude(home_closures__commissioner_id=body)
        .order_by("name")
    )


def hand_back_list(*, actor):
    """Hand-backs the actor's body received, or its provider organisation gave."""
    if is_council_user(actor):
        scope = Q(commissioner_id=actor.organisation_id)
    elif is_provider_user(actor):
        scope = Q(care_home__provider_id=actor.organisation_id)
    else:
        return HandBack.objects.none()
    return (
        HandBack.objects.filter(scope)
        .select_related("care_home", "commissioner", "placement", "block_contract")
        .prefetch_related("moves")
        .order_by("-created_at", "-pk")
    )


def placements_for_hand_back(*, actor):
    """A provider's residents it may give notice on: live at its homes, with no move planned."""
    if not is_provider_user(actor):
        return Placement.objects.none()
    today = timezone.localdate()
    return (
        Placement.objects.live()
        .filter(care_home__provider_id=actor.organisation_id, resident_move__isnull=True, block_occupancy__isnull=True)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("care_home", "commissioner")
        .order_by("care_home__name", "case_reference")
    )


def block_contracts_for_hand_back(*, actor):
    if not is_provider_user(actor):
        return BlockContract.objects.none()
    return (
        BlockContract.objects.filter(provider_id=actor.organisation_id, end_date__gte=timezone.localdate())
        .select_related("care_home", "commissioner")
        .order_by("care_home__name", "reference")
    )
