"""Demo contracts: agreements for the demo council's most recent live placements, and a draft uplift.

Idempotent: agreements are generated once per placement, and the uplift only when the
council has none.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from bidding.services import fee_split
from contracts.models import ServiceAgreement, Uplift, UpliftRule
from contracts.services import agreement_create_for_placement, top_up_agreement_record
from demo.organisations import COUNCIL_SLUG
from organisations.models import Organisation
from placements.models import Placement

DEMO_AGREEMENTS = 40


def seed_contracts(*, stdout=None) -> int:
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    today = timezone.localdate()
    live = (
        Placement.objects.filter(commissioner=council, care_home__isnull=False, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .exclude(source=Placement.Source.BLOCK_BED)
        .order_by("-start_date", "-pk")[:DEMO_AGREEMENTS]
    )
    before = ServiceAgreement.objects.filter(commissioner=council).count()
    for placement in live:
        agreement_create_for_placement(placement=placement, actor=None)
    created = ServiceAgreement.objects.filter(commissioner=council).count() - before
    if not Uplift.objects.filter(commissioner=council).exists():
        commissioner = council.users.filter(role="commissioner").first()
        next_april = dt.date(today.year + (today.month >= 4), 4, 1)
        uplift = Uplift.objects.create(
            commissioner=council,
            name=f"April {next_april.year} uplift",
            basis=Uplift.Basis.INDEX_LINKED,
            basis_note="CPI for the year to the previous September.",
            effective_from=next_april,
            created_by=commissioner,
        )
        UpliftRule.objects.create(uplift=uplift, client_group="older_people", percentage=Decimal("4.10"))
        UpliftRule.objects.create(uplift=uplift, client_group="learning_disability", percentage=Decimal("5.00"))
    if stdout:
        stdout.write(f"  {created} service agreements generated; a draft fee uplift to preview.")
    return created


def top_up_agreement_for_demo(broker, tender, bid, payer_name: str, relationship: str):
    """The signed, affordable top-up agreement an award above the council's maximum rate needs."""
    top_up = fee_split(weekly_fee=bid.weekly_fee, max_weekly_rate=tender.max_weekly_rate).top_up
    if not top_up:
        return None
    return top_up_agreement_record(
        request=tender.request,
        by=broker,
        payer_name=payer_name,
        relationship=relationship,
        weekly_amount=top_up,
        starts_on=tender.request.needed_from,
        signed_via="paper",
        signed_on=timezone.localdate(),
        affordability_confirmed=True,
        affordability_note="Income checked against the likely length of the stay.",
    )
