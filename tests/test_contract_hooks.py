"""Agreements are generated where placements are made: on a block bed fill and on an award."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Tender
from bidding.services import bid_submit, tender_award, tender_publish
from blockbeds.services import block_bed_fill
from contracts.models import ServiceAgreement
from quality.models import RatingValue

from .factories import (
    BlockContractFactory,
    BlockRequestFactory,
    CareHomeFactory,
    PlacementRequestFactory,
    admitted_home,
    top_up_agreed_for,
)

pytestmark = pytest.mark.django_db


def test_filling_a_block_bed_generates_the_agreement_at_the_contract_rate(council_a, provider_a, broker_a):
    home = CareHomeFactory(provider=provider_a, specialism_codes=["older-people"], local_authority="Staffordshire")
    contract = BlockContractFactory(commissioner=council_a, care_home=home, weekly_rate=Decimal("735.50"), beds=1)
    request = BlockRequestFactory(commissioner=council_a, created_by=broker_a)

    occupancy = block_bed_fill(
        bed=contract.beds.get(), request=request, actor=broker_a, start_date=timezone.localdate()
    )

    agreement = ServiceAgreement.objects.get(placement=occupancy.placement)
    assert (agreement.version, agreement.provider, agreement.weekly_fee) == (1, provider_a, Decimal("735.50"))
    assert (agreement.council_weekly_amount, agreement.top_up_weekly_amount) == (Decimal("735.50"), Decimal("0.00"))


def test_an_award_generates_the_agreement_with_the_fee_split(council_a, broker_a, provider_a, provider_user_a):
    home = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Alder House")
    placement_request = PlacementRequestFactory(
        commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("900.00")
    )
    tender = tender_publish(actor=broker_a, request=placement_request)
    bid = bid_submit(
        actor=provider_user_a,
        tender=tender,
        care_home=home,
        weekly_fee=Decimal("950.00"),
        earliest_start=timezone.localdate() + timedelta(days=2),
        needs_confirmed=True,
    )
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )

    top_up_agreed_for(tender, bid, broker_a, payer_name="Son")
    tender_award(actor=broker_a, tender=tender, bid=bid, top_up_payer="Son")

    agreement = ServiceAgreement.objects.get(placement__request=placement_request)
    assert (agreement.version, agreement.provider, agreement.care_home_name) == (1, provider_a, "Alder House")
    assert (agreement.weekly_fee, agreement.council_weekly_amount, agreement.top_up_weekly_amount) == (
        Decimal("950.00"),
        Decimal("900.00"),
        Decimal("50.00"),
    )
    assert agreement.top_up_payer == "Son"
