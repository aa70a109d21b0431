"""Block beds first: the request page and API show fitting void beds, and tendering waits for
the broker to place the person in one or decline with a reason."""

import pytest
from django.utils import timezone

from bidding.models import Tender
from bidding.services import tender_publish
from blockbeds.services import block_bed_fill, block_offer_decline
from core.errors import ConflictError
from placements.models import PlacementRequest

from .factories import AdmissionFactory, BlockContractFactory, BlockRequestFactory, CareHomeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(provider_a, council_a):
    home = CareHomeFactory(provider=provider_a, name="Brook House", specialism_codes=["older-people", "dementia"])
    AdmissionFactory(commissioner=council_a, care_home=home)
    return home


@pytest.fixture
def contract(council_a, home):
    return BlockContractFactory(commissioner=council_a, care_home=home, reference="STAFFS-BLK-1", beds=2)


@pytest.fixture
def placement_request(council_a, broker_a):
    return BlockRequestFactory(commissioner=council_a, created_by=broker_a, specialism_codes=["dementia"])


def test_request_page_shows_fitting_void_beds_before_anything_else(as_user, broker_a, contract, placement_request):
    html = as_user(broker_a).get(f"/broker/requests/{placement_request.pk}/").content.decode()
    assert 'id="block-offer"' in html
    assert html.index('id="block-offer"') < html.index("<h1")
    assert "2 void block-booked beds fit this request" in html
    bed = contract.beds.order_by("label").first()
    assert f"/block-offers/{placement_request.pk}/beds/{bed.pk}/" in html
    assert f"/block-offers/{placement_request.pk}/decline/" in html


def test_request_page_shows_no_offer_when_no_bed_fits(as_user, broker_a, council_a, contract):
    from .factories import lot

    other = BlockRequestFactory(commissioner=council_a, created_by=broker_a, lot=lot(6))
    html = as_user(broker_a).get(f"/broker/requests/{other.pk}/").content.decode()
    assert 'id="block-offer"' not in html


def test_publishing_is_refused_while_a_block_bed_is_on_offer(broker_a, contract, placement_request):
    with pytest.raises(ConflictError) as refused:
        tender_publish(actor=broker_a, request=placement_request)
    assert refused.value.code == "block_bed_on_offer"
    assert not Tender.objects.exists()


def test_publishing_from_the_page_shows_why_it_was_refused(as_user, broker_a, contract, placement_request):
    response = as_user(broker_a).post(f"/broker/requests/{placement_request.pk}/publish/", {})
    assert response.status_code == 409
    assert "A void block-booked bed fits this request" in response.content.decode()
    assert not Tender.objects.exists()


def test_after_a_reasoned_decline_the_request_goes_to_tender(as_user, broker_a, contract, placement_request):
    block_offer_decline(request=placement_request, actor=broker_a, reason="Person wants to stay near Leek")
    tender = tender_publish(actor=broker_a, request=placement_request)
    assert tender.invitations.filter(care_home=contract.care_home).exists()
    html = as_user(broker_a).get(f"/broker/requests/{placement_request.pk}/").content.decode()
    assert "Person wants to stay near Leek" in html


def test_placing_from_the_offer_fills_the_bed_and_the_request_cannot_then_be_tendered(
    as_user, broker_a, contract, placement_request
):
    bed = contract.beds.order_by("label").first()
    today = timezone.localdate()
    response = as_user(broker_a).post(
        f"/block-offers/{placement_request.pk}/beds/{bed.pk}/",
        {"start_date_0": today.day, "start_date_1": today.month, "start_date_2": today.year},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/broker/requests/{placement_request.pk}/"
    placement_request.refresh_from_db()
    assert placement_request.status == PlacementRequest.Status.PLACED
    assert placement_request.sourced_at is not None
    assert placement_request.placement.source == "block_bed"
    with pytest.raises(ConflictError):
        tender_publish(actor=broker_a, request=placement_request)


class TestApi:
    def test_request_api_reports_the_offer(self, api_as, council_a, contract, placement_request):
        body = api_as(council_a).get(f"/api/v1/placement-requests/{placement_request.pk}/").json()
        offer = body["block_offer"]
        assert offer["pending"] is True
        assert offer["declined"] is None
        assert [bed["contract_reference"] for bed in offer["beds"]] == ["STAFFS-BLK-1", "STAFFS-BLK-1"]
        assert offer["beds"][0]["care_home"]["name"] == "Brook House"
        assert offer["beds"][0]["weekly_rate"] == "700.00"

    def test_request_api_publish_is_refused_with_409_while_on_offer(
        self, api_as, council_a, contract, placement_request
    ):
        response = api_as(council_a).post(f"/api/v1/placement-requests/{placement_request.pk}/publish/", {})
        assert response.status_code == 409
        assert response.json()["code"] == "block_bed_on_offer"

    def test_request_list_reports_offers_and_declines_in_bounded_queries(
        self, api_as, council_a, broker_a, contract, django_assert_max_num_queries
    ):
        requests = [BlockRequestFactory(commissioner=council_a, created_by=broker_a) for _ in range(4)]
        block_offer_decline(request=requests[0], actor=broker_a, reason="Needs a ground-floor room")
        block_bed_fill(bed=contract.beds.first(), request=requests[1], actor=broker_a, start_date=timezone.localdate())
        caller = api_as(council_a, scopes=["read"])
        with django_assert_max_num_queries(12):
            rows = caller.get("/api/v1/placement-requests/").json()["results"]
        offers = {row["id"]: row["block_offer"] for row in rows}
        assert offers[requests[0].pk]["pending"] is False
        assert offers[requests[0].pk]["declined"]["reason"] == "Needs a ground-floor room"
        assert offers[requests[1].pk] == {"pending": False, "beds": [], "declined": None}
        assert offers[requests[2].pk]["pending"] is True
        assert len(offers[requests[2].pk]["beds"]) == 1
