"""Sealed bids: before the close nobody but the bidder reads an amount, anywhere a tender shows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Tender
from bidding.services import bid_submit, tender_publish
from organisations.models import User
from quality.models import RatingValue

from .factories import PlacementRequestFactory, admitted_home

pytestmark = pytest.mark.django_db

AMOUNT_A = "812.34"
AMOUNT_B = "799.87"


@pytest.fixture
def open_tender(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    home_a = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Home A")
    home_b = admitted_home(council_a, provider=provider_b, rating=RatingValue.OUTSTANDING, name="Home B")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, case_reference="SECRET-CASE-77")
    tender = tender_publish(actor=broker_a, request=request)
    bids = {}
    for user, home, fee in ((provider_user_a, home_a, AMOUNT_A), (provider_user_b, home_b, AMOUNT_B)):
        bids[home.provider.slug] = bid_submit(
            actor=user,
            tender=tender,
            care_home=home,
            weekly_fee=Decimal(fee),
            earliest_start=timezone.localdate(),
            needs_confirmed=True,
        )
    return tender, bids


def text(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def assert_sealed(response, *amounts):
    assert response.status_code in (200, 409), (response.status_code, text(response)[:300])
    body = text(response)
    for amount in amounts:
        assert amount not in body


def test_council_people_and_systems_read_no_amount_before_close(
    open_tender, broker_a, commissioner_a, council_a, as_user, api_as
):
    tender, _ = open_tender
    request_id = tender.request_id
    for user in (broker_a, commissioner_a):
        client = as_user(user)
        for path in (
            "/broker/" if user == broker_a else "/commissioner/",
            "/broker/requests/",
            "/broker/requests/?format=csv",
            f"/broker/requests/{request_id}/",
            f"/broker/requests/{request_id}/?format=csv",
            f"/api/v1/tenders/{tender.pk}/",
            f"/api/v1/tenders/{tender.pk}/evaluation/",
            f"/api/v1/placement-requests/{request_id}/",
            "/api/v1/placement-requests/",
        ):
            assert_sealed(client.get(path), AMOUNT_A, AMOUNT_B)
    system = api_as(council_a, scopes=["read", "placement-requests"])
    for path in (
        f"/api/v1/tenders/{tender.pk}/",
        f"/api/v1/tenders/{tender.pk}/evaluation/",
        f"/api/v1/placement-requests/{request_id}/",
        "/api/v1/placement-requests/",
        "/api/v1/placements/",
    ):
        assert_sealed(system.get(path), AMOUNT_A, AMOUNT_B)
    assert system.get(f"/api/v1/tenders/{tender.pk}/evaluation/").status_code == 409
    assert system.get(f"/api/v1/tenders/{tender.pk}/bids/").status_code == 403


def test_provider_reads_its_own_bid_only_and_never_the_case_reference(
    open_tender, provider_user_a, provider_b, as_user, api_as
):
    tender, bids = open_tender
    own, other = bids["provider-a"], bids["provider-b"]
    client = as_user(provider_user_a)
    invitation = tender.invitations.get(care_home__provider__slug="provider-a")
    for path in (
        "/provider/invitations/",
        "/provider/invitations/?format=csv",
        f"/provider/invitations/{invitation.pk}/",
        f"/api/v1/tenders/{tender.pk}/",
        f"/api/v1/tenders/{tender.pk}/bids/",
    ):
        response = client.get(path)
        assert response.status_code == 200
        body = text(response)
        assert AMOUNT_A in body
        assert AMOUNT_B not in body
        assert "SECRET-CASE-77" not in body
    assert client.get(f"/api/v1/tenders/{tender.pk}/bids/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/tenders/{tender.pk}/evaluation/").status_code == 403
    other_invitation = tender.invitations.get(care_home__provider__slug="provider-b")
    assert client.get(f"/provider/invitations/{other_invitation.pk}/").status_code == 404
    system = api_as(provider_b, scopes=["read", "bids"])
    assert system.get(f"/api/v1/tenders/{tender.pk}/bids/{own.pk}/").status_code == 404
    assert system.patch(f"/api/v1/tenders/{tender.pk}/bids/{own.pk}/", {"weekly_fee": "1.00"}).status_code == 404
    assert system.delete(f"/api/v1/tenders/{tender.pk}/bids/{own.pk}/").status_code == 404
    assert AMOUNT_A not in text(system.get(f"/api/v1/tenders/{tender.pk}/"))


def test_uninvited_provider_and_other_council_get_not_found(open_tender, council_b, broker_b, api_as, as_user):
    from .factories import ProviderOrganisationFactory

    tender, bids = open_tender
    stranger = api_as(ProviderOrganisationFactory(slug="stranger"), scopes=["read", "bids"])
    assert stranger.get(f"/api/v1/tenders/{tender.pk}/").status_code == 404
    assert stranger.get(f"/api/v1/tenders/{tender.pk}/bids/{bids['provider-a'].pk}/").status_code == 404
    other_council = api_as(council_b, scopes=["read", "placement-requests"])
    assert other_council.get(f"/api/v1/tenders/{tender.pk}/").status_code == 404
    assert other_council.get(f"/api/v1/tenders/{tender.pk}/evaluation/").status_code == 404
    assert as_user(broker_b).get(f"/broker/requests/{tender.request_id}/").status_code == 404


def test_back_office_hides_amounts_while_open(open_tender, as_user):
    _, bids = open_tender
    admin = User.objects.create_superuser(email="ops@example.org", password="x")

    page = as_user(admin).get(f"/admin/bidding/bid/{bids['provider-a'].pk}/change/")

    assert page.status_code == 200
    assert AMOUNT_A not in text(page)


def test_amounts_appear_for_the_council_once_the_deadline_passes(open_tender, broker_a, as_user, api_as, council_a):
    tender, _ = open_tender
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )

    page = text(as_user(broker_a).get(f"/broker/requests/{tender.request_id}/"))
    evaluation = api_as(council_a, scopes=["read"]).get(f"/api/v1/tenders/{tender.pk}/evaluation/")

    assert AMOUNT_A in page and AMOUNT_B in page
    assert evaluation.status_code == 200
    assert [row["weekly_fee"] for row in evaluation.json()["ranked"]] == [AMOUNT_B, AMOUNT_A]
