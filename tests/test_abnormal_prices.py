"""Bids far below the lot's recent awarded fees need the provider's confirmed deliverability before award."""

from decimal import Decimal

import pytest
from django.urls import reverse

from bidding.models import Award
from bidding.services import tender_award
from core.errors import ApplicationError, ConflictError
from fairness.models import AbnormalPriceConfirmation, MarketSettings
from fairness.services import abnormal_price_confirm, abnormal_prices

from .factories import PaidPlacementFactory
from .fairness_world import evaluated, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    for fee in ("880.00", "900.00", "920.00"):
        PaidPlacementFactory(commissioner=council_a, council_weekly_amount=Decimal(fee))
    return make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)


def test_bid_far_below_recent_awards_is_flagged_by_the_configured_threshold(world, council_a):
    tender, bids = evaluated(world, {"a": "700.00", "b": "850.00"})
    flags = abnormal_prices(tender=tender)
    assert flags.median == Decimal("900.00") and flags.threshold == Decimal("720.00")
    assert flags.bid_ids == {bids["a"].pk}
    MarketSettings.objects.create(commissioner=council_a, abnormal_price_percent=5)
    assert abnormal_prices(tender=tender).bid_ids == {bids["a"].pk, bids["b"].pk}


def test_abnormal_bid_cannot_be_awarded_until_deliverability_is_recorded(world, broker_a, as_user):
    tender, bids = evaluated(world, {"a": "700.00", "b": "850.00"})
    low = bids["a"]
    with pytest.raises(ApplicationError) as error:
        tender_award(actor=broker_a, tender=tender, bid=low, reason="Cheapest.")
    assert error.value.code == "abnormal_price_unconfirmed"
    assert not Award.objects.filter(tender=tender).exists()

    page = as_user(broker_a).get(reverse("fairness:tender_fairness", args=[tender.pk]))
    assert "Abnormally low" in page.content.decode()
    response = as_user(broker_a).post(
        reverse("fairness:tender_fairness", args=[tender.pk]),
        {"form": "deliverability", "bid": low.pk, "provider_statement": "Manager confirmed staffing on the phone."},
    )
    assert response.status_code == 302
    assert AbnormalPriceConfirmation.objects.get(bid=low).median_awarded_fee == Decimal("900.00")
    assert tender_award(actor=broker_a, tender=tender, bid=low, reason="Cheapest.").bid_id == low.pk


def test_ordinary_bid_needs_no_confirmation(world, broker_a):
    tender, bids = evaluated(world, {"a": "700.00", "b": "850.00"})
    with pytest.raises(ConflictError):
        abnormal_price_confirm(actor=broker_a, bid=bids["b"], provider_statement="Fine.")
    assert tender_award(actor=broker_a, tender=tender, bid=bids["b"], reason="Better quality.").bid_id == bids["b"].pk


def test_too_little_market_data_flags_nothing(
    council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b
):
    world = make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)
    tender, _bids = evaluated(world, {"a": "100.00"})
    assert abnormal_prices(tender=tender).bid_ids == frozenset()
