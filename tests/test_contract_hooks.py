"""Agreements are generated where placements are made: on a block bed fill and on an award."""

from decimal import Decimal

import pytest
from django.utils import timezone

from blockbeds.services import block_bed_fill
from contracts.models import ServiceAgreement

from .factories import BlockContractFactory, BlockRequestFactory, CareHomeFactory

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
