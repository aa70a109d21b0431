"""The demo's block contracts give Staffordshire's figures, counted from rows."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from blockbeds.models import BlockBed, BlockContract, Occupancy
from blockbeds.selectors import utilisation
from organisations.models import Organisation, User
from placements.models import Placement

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command("seed_demo", stdout=StringIO())
    return Organisation.objects.get(slug="staffordshire")


def today_counts(council):
    today = timezone.localdate()
    return utilisation(commissioner=council, at=today, date_from=today, date_to=today).overall


def test_demo_figures_are_379_contracted_257_live_248_filled(seeded):
    overall = today_counts(seeded)
    assert (overall.contracted, overall.live, overall.filled) == (379, 257, 248)
    assert overall.void == 9


def test_demo_figures_come_from_bed_and_occupancy_rows(seeded):
    assert BlockBed.objects.filter(contract__commissioner=seeded).count() == 379
    # End one current stay today: the counts follow the rows, nothing stored needs updating.
    stay = Occupancy.objects.filter(end_date__isnull=True).order_by("id").first()
    Occupancy.objects.filter(pk=stay.pk).update(end_date=timezone.localdate())
    overall = today_counts(seeded)
    assert (overall.contracted, overall.live, overall.filled, overall.void) == (379, 257, 247, 10)


def test_filled_demo_beds_have_block_bed_placements(seeded):
    current = Occupancy.objects.filter(end_date__isnull=True, bed__contract__commissioner=seeded)
    assert current.count() == 248
    assert set(current.values_list("placement__source", flat=True)) == {Placement.Source.BLOCK_BED}
    placement = current.select_related("placement", "bed__contract").first().placement
    assert placement.case_reference.startswith("LAS-")
    assert placement.sourced_at >= placement.requested_at
    assert placement.weekly_fee == current.first().bed.contract.weekly_rate


def test_seeding_twice_adds_nothing(seeded):
    contracts = BlockContract.objects.count()
    placements = Placement.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert (BlockContract.objects.count(), Placement.objects.count()) == (contracts, placements)


def test_demo_commissioner_sees_the_figures_on_the_utilisation_page(seeded, client):
    client.force_login(User.objects.get(email="commissioner@staffordshire.example"))
    html = client.get("/block-contracts/utilisation/").content.decode()
    assert 'data-figure="contracted">379<' in html
    assert 'data-figure="live">257<' in html
    assert 'data-figure="filled">248<' in html


def test_the_demo_broker_sees_block_beds_offered_first(seeded):
    from blockbeds.services import block_offer_pending
    from demo.blockbeds import BLOCK_OFFER_CASE
    from placements.models import PlacementRequest

    request = PlacementRequest.objects.get(case_reference=BLOCK_OFFER_CASE)
    assert request.status == PlacementRequest.Status.NEW
    assert block_offer_pending(request=request)
