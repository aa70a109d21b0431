"""Tenders at each stage, built directly on the models, for the webhook and open-data tests."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bidding.models import Award, Bid, Invitation, Tender
from lots.models import Lot
from placements.models import Placement, PlacementRequest
from providers.models import CareHome


def placement_request(*, commissioner, created_by, case_reference="CASE-000123", lot_number=1) -> PlacementRequest:
    today = timezone.localdate()
    return PlacementRequest.objects.create(
        commissioner=commissioner,
        case_reference=case_reference,
        lot=Lot.objects.get(number=lot_number),
        needs_summary="Needs help with mobility; early-stage dementia.",
        needed_from=today + timedelta(days=3),
        max_weekly_rate=Decimal("900.00"),
        target_date=today + timedelta(days=7),
        created_by=created_by,
        status=PlacementRequest.Status.TENDERING,
    )


def open_tender(*, request, created_by, homes: list[CareHome]) -> Tender:
    now = timezone.now()
    tender = Tender.objects.create(
        request=request,
        opened_at=now - timedelta(hours=2),
        closes_at=now + timedelta(hours=46),
        quality_weight=60,
        price_weight=40,
        max_weekly_rate=request.max_weekly_rate,
        created_by=created_by,
    )
    for home in homes:
        Invitation.objects.create(tender=tender, care_home=home)
    return tender


def bid(*, tender, home, weekly_fee="850.00", submitted_by) -> Bid:
    now = timezone.now()
    return Bid.objects.create(
        tender=tender,
        invitation=tender.invitations.get(care_home=home),
        care_home=home,
        provider=home.provider,
        weekly_fee=Decimal(weekly_fee),
        earliest_start=timezone.localdate() + timedelta(days=3),
        needs_confirmed=True,
        notes="Room 4 on the ground floor.",
        submitted_at=now,
        updated_at=now,
        submitted_by=submitted_by,
    )


def awarded_tender(*, commissioner, broker, home, provider_user, placed=True) -> Tender:
    """A tender with one bid, closed, evaluated, awarded and (optionally) placed."""
    request = placement_request(commissioner=commissioner, created_by=broker)
    tender = open_tender(request=request, created_by=broker, homes=[home])
    winning = bid(tender=tender, home=home, submitted_by=provider_user)
    now = timezone.now()
    Tender.objects.filter(pk=tender.pk).update(
        status=Tender.Status.AWARDED, closed_at=now, evaluated_at=now, closes_at=now
    )
    Bid.objects.filter(pk=winning.pk).update(rank=1, total_score=Decimal("88.00"))
    Award.objects.create(tender=tender, bid=winning, awarded_by=broker, top_ranked=True)
    if placed:
        PlacementRequest.objects.filter(pk=request.pk).update(status=PlacementRequest.Status.PLACED, sourced_at=now)
        Placement.objects.create(
            commissioner=commissioner,
            request=request,
            case_reference=request.case_reference,
            care_home=home,
            lot=request.lot,
            source=Placement.Source.TENDER,
            weekly_fee=winning.weekly_fee,
            council_weekly_amount=winning.weekly_fee,
            start_date=request.needed_from,
            in_county=True,
            requested_at=request.requested_at,
            target_date=request.target_date,
            sourced_at=now,
            created_by=broker,
        )
    tender.refresh_from_db()
    return tender
