"""Shared setup for the fairness tests: three homes bid on one tender of council A."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.services import bid_submit, tender_close_and_evaluate, tender_publish
from organisations.models import Role
from quality.models import RatingValue

from .factories import PlacementRequestFactory, ProviderOrganisationFactory, UserFactory, admitted_home


def make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    provider_c = ProviderOrganisationFactory(name="Chase Care Ltd", slug="provider-c")
    user_c = UserFactory(organisation=provider_c, role=Role.PROVIDER, email="user@provider-c.example")
    homes = {
        "a": admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Alder House"),
        "b": admitted_home(council_a, provider=provider_b, rating=RatingValue.OUTSTANDING, name="Beech Court"),
        "c": admitted_home(council_a, provider=provider_c, rating=RatingValue.REQUIRES_IMPROVEMENT, name="Cedar Lodge"),
    }
    users = {"a": provider_user_a, "b": provider_user_b, "c": user_c}
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("900.00"))
    tender = tender_publish(actor=broker_a, request=request)
    return homes, users, tender


def place_bid(user, tender, home, fee: str) -> Bid:
    return bid_submit(
        actor=user,
        tender=tender,
        care_home=home,
        weekly_fee=Decimal(fee),
        earliest_start=timezone.localdate() + timedelta(days=2),
        needs_confirmed=True,
    )


def close_and_evaluate(tender: Tender) -> Tender:
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    tender_close_and_evaluate(tender_id=tender.pk)
    return Tender.objects.get(pk=tender.pk)


def evaluated(world, fees: dict[str, str]) -> tuple[Tender, dict[str, Bid]]:
    homes, users, tender = world
    bids = {key: place_bid(users[key], tender, homes[key], fee) for key, fee in fees.items()}
    tender = close_and_evaluate(tender)
    return tender, {key: Bid.objects.get(pk=bid.pk) for key, bid in bids.items()}
