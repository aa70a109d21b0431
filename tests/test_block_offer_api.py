"""Block beds first, over the API: a case system places the person in an offered bed, or declines the
offer with a reason and then publishes to tender, with the rules and audit of the pages."""

import pytest
from django.utils import timezone

from bidding.models import Tender
from blockbeds.models import BlockOfferDecline, Occupancy
from core.models import AuditEvent
from placements.models import Placement, PlacementRequest

from .factories import AdmissionFactory, BlockContractFactory, BlockRequestFactory, CareHomeFactory

pytestmark = pytest.mark.django_db

COUNCIL_SYSTEM = ["read", "placement-requests"]


@pytest.fixture
def contract(council_a, provider_a):
    home = CareHomeFactory(provider=provider_a, name="Brook House", specialism_codes=["older-people", "dementia"])
    AdmissionFactory(commissioner=council_a, care_home=home)
    return BlockContractFactory(commissioner=council_a, care_home=home, reference="STAFFS-BLK-1", beds=2)


@pytest.fixture
def placement_request(council_a, broker_a):
    return BlockRequestFactory(commissioner=council_a, created_by=broker_a, specialism_codes=["dementia"])


def _path(placement_request, action: str) -> str:
    return f"/api/v1/placement-requests/{placement_request.pk}/block-offer/{action}/"


def test_publishing_after_a_declined_offer_goes_to_tender(api_as, council_a, contract, placement_request):
    council = api_as(council_a, scopes=COUNCIL_SYSTEM)
    publish = f"/api/v1/placement-requests/{placement_request.pk}/publish/"
    offered = council.get(f"/api/v1/placement-requests/{placement_request.pk}/").json()["block_offer"]
    assert offered["pending"] is True

    refused = council.post(publish, {})
    declined = council.post(_path(placement_request, "decline"), {"reason": "The person wants to stay near Leek"})
    published = council.post(publish, {})

    assert refused.status_code == 409
    assert refused.json()["code"] == "block_bed_on_offer"
    assert declined.status_code == 200
    offer = declined.json()["block_offer"]
    assert offer["pending"] is False
    assert offer["declined"]["reason"] == "The person wants to stay near Leek"
    assert published.status_code == 201
    tender = Tender.objects.get(request=placement_request)
    assert published["Location"].endswith(f"/api/v1/tenders/{tender.pk}/")
    assert tender.invitations.filter(care_home=contract.care_home).exists()
    decline = BlockOfferDecline.objects.get(request=placement_request)
    assert sorted(decline.offered_beds) == sorted(contract.beds.values_list("pk", flat=True))
    assert AuditEvent.objects.filter(
        verb="blockbeds.offer.declined", target_id=str(placement_request.pk), reason=decline.reason
    ).exists()


def test_accepting_places_the_person_in_the_offered_bed(api_as, council_a, contract, placement_request):
    council = api_as(council_a, scopes=COUNCIL_SYSTEM)
    bed = contract.beds.order_by("label").first()

    response = council.post(_path(placement_request, "accept"), {"bed": bed.pk})

    assert response.status_code == 201
    placement = Placement.objects.get(request=placement_request)
    assert response.json()["id"] == placement.pk
    assert response["Location"].endswith(f"/api/v1/placement-requests/{placement_request.pk}/")
    assert placement.source == Placement.Source.BLOCK_BED
    assert placement.weekly_fee == contract.weekly_rate
    assert placement.start_date == max(placement_request.needed_from, timezone.localdate())
    assert Occupancy.objects.get(bed=bed).placement == placement
    placement_request.refresh_from_db()
    assert placement_request.status == PlacementRequest.Status.PLACED
    assert AuditEvent.objects.filter(verb="blockbeds.bed.filled", target_id=str(placement_request.pk)).exists()
    again = council.post(f"/api/v1/placement-requests/{placement_request.pk}/publish/", {})
    assert again.status_code == 409


def test_a_filled_bed_cannot_be_accepted_twice(api_as, council_a, broker_a, contract, placement_request):
    council = api_as(council_a, scopes=COUNCIL_SYSTEM)
    bed = contract.beds.order_by("label").first()
    other = BlockRequestFactory(commissioner=council_a, created_by=broker_a, specialism_codes=["dementia"])
    council.post(_path(placement_request, "accept"), {"bed": bed.pk})

    response = council.post(_path(other, "accept"), {"bed": bed.pk})

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "bed_filled"
    other.refresh_from_db()
    assert other.status == PlacementRequest.Status.NEW


def test_declining_needs_a_reason_and_happens_once(api_as, council_a, contract, placement_request):
    council = api_as(council_a, scopes=COUNCIL_SYSTEM)

    blank = council.post(_path(placement_request, "decline"), {"reason": "  "})
    first = council.post(_path(placement_request, "decline"), {"reason": "Too far from family"})
    second = council.post(_path(placement_request, "decline"), {"reason": "Again"})

    assert blank.status_code == 400
    assert "reason" in blank.json()["errors"]
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["code"] == "already_declined"
    assert BlockOfferDecline.objects.filter(request=placement_request).count() == 1


def test_refusals_by_scope_role_and_organisation(api_as, council_a, council_b, provider_a, contract, placement_request):
    bed = contract.beds.order_by("label").first()
    read_only = api_as(council_a, scopes=["read"])
    commissioner = api_as(council_a, scopes=COUNCIL_SYSTEM, role="commissioner")
    other_council = api_as(council_b, scopes=COUNCIL_SYSTEM)
    provider = api_as(provider_a, scopes=["read", "bids"])

    assert read_only.post(_path(placement_request, "accept"), {"bed": bed.pk}).status_code == 403
    assert commissioner.post(_path(placement_request, "decline"), {"reason": "No"}).status_code == 403
    assert provider.post(_path(placement_request, "decline"), {"reason": "No"}).status_code == 403
    assert other_council.post(_path(placement_request, "accept"), {"bed": bed.pk}).status_code == 404
    assert other_council.post(_path(placement_request, "decline"), {"reason": "No"}).status_code == 404
    assert not Occupancy.objects.exists()
    assert not BlockOfferDecline.objects.exists()


def test_a_bed_of_another_council_is_unknown(api_as, council_a, council_b, provider_a, placement_request):
    home = CareHomeFactory(provider=provider_a, specialism_codes=["dementia"])
    AdmissionFactory(commissioner=council_b, care_home=home)
    theirs = BlockContractFactory(commissioner=council_b, care_home=home, beds=1).beds.get()

    response = api_as(council_a, scopes=COUNCIL_SYSTEM).post(_path(placement_request, "accept"), {"bed": theirs.pk})

    assert response.status_code == 404
    assert not Occupancy.objects.exists()
